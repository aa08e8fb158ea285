import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from './grid.js';
import { describeRequiring } from './requires.js';

export const E2E_IMAGE = 'grid-e2e-demo:test';

/** Why the Docker suite cannot run here, or undefined when an engine answers. */
export function dockerMissing(): string | undefined {
  const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return `the docker CLI is not installed (${r.error.message}); .ci/run installs docker.io`;
  if (r.status !== 0) return `no Docker Engine answers (${(r.stderr || r.stdout).trim().split('\n')[0]}); .ci/run starts dockerd`;
  return undefined;
}

/** describe() when an engine answers (see describeRequiring for what happens when none does). */
export function describeWithDocker(name: string, body: () => void): void {
  describeRequiring(name, dockerMissing(), 'docker', 'has a Docker Engine to run against', body);
}

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', timeout: 60_000 }).trim();
}

/**
 * A FROM-scratch image with the host's node and the libraries ldd lists, plus the demo services:
 * no registry, builds in about a second. Its entrypoint runs the versioned demo server.
 */
export function buildDemoImage(tag = E2E_IMAGE): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-e2e-image-'));
  try {
    const rootfs = path.join(dir, 'rootfs');
    const node = process.execPath;
    const copy = (from: string, to: string) => {
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    };
    copy(node, path.join(rootfs, 'node'));
    fs.chmodSync(path.join(rootfs, 'node'), 0o755);
    for (const line of execFileSync('ldd', [node], { encoding: 'utf8' }).split('\n')) {
      const lib = /(\/\S+)\s+\(0x/.exec(line)?.[1];
      if (lib) copy(lib, path.join(rootfs, lib));
    }
    for (const sub of ['versioned', 'lib']) fs.cpSync(path.join(ROOT, 'demo-services', sub), path.join(rootfs, 'app', sub), { recursive: true });
    copy(path.join(ROOT, 'demo-services', 'package.json'), path.join(rootfs, 'app', 'package.json'));
    fs.mkdirSync(path.join(rootfs, 'tmp'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'Dockerfile'),
      ['FROM scratch', 'COPY rootfs/ /', 'LABEL grid.e2e-image=true', 'ENV PORT=8080 VERSION=v1', 'ENTRYPOINT ["/node", "/app/versioned/server.js"]', ''].join('\n'),
    );
    docker('build', '-q', '-t', tag, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Containers carrying label (key=value), running or not. */
export function containersWith(label: string): string[] {
  const out = docker('ps', '-aq', '--no-trunc', '--filter', `label=${label}`);
  return out ? out.split('\n') : [];
}

export function removeContainersWith(label: string): void {
  const ids = containersWith(label);
  if (ids.length) spawnSync('docker', ['rm', '-f', ...ids], { timeout: 60_000 });
}
