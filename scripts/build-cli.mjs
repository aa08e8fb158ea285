// Bundles gridctl (src/cli) with esbuild into one CommonJS file, dist/cli/gridctl.cjs. One file
// to read instead of a tree of modules, and CommonJS rather than ES modules (whose loader costs
// Node 20 ~10 ms more at start-up), keep the start-up that dominates a CLI call short:
// measured against the ES-module bundle with a chunk per command, `gridctl get pods` took
// 79 ms instead of 86 (median of 25, same run; bench: npm run bench -- gridctl). V8 only
// pre-parses the command implementations a call does not run.
// `npm run build` runs it, and so does `prepare` (npm ci / npm install in the checkout), so
// `npx gridctl` works right after `npm ci`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist/cli');

const ENTRY = path.join(ROOT, 'src/cli/gridctl.ts');
if (!fs.existsSync(ENTRY)) {
  // The Dockerfile's npm ci runs before src/ is copied; its npm run build builds the CLI later.
  console.warn('gridctl not built yet: src/cli is not there');
  process.exit(0);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('gridctl not built: esbuild is missing (npm ci installs it; production installs without dev dependencies use dist/ from a build)');
  process.exit(0);
}

fs.rmSync(OUT, { recursive: true, force: true });
await esbuild.build({
  entryPoints: [ENTRY],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outfile: path.join(OUT, 'gridctl.cjs'),
  legalComments: 'none',
  logLevel: 'warning',
  // Whitespace and comments out (commander's JSDoc is half its size): less for V8 to scan.
  minifySyntax: true,
  minifyWhitespace: true,
  // Loaded from node_modules only by the commands that use them (apply, diff, -o yaml, contexts):
  // bundled, V8 would pre-parse their 350 KB on every call.
  external: ['yaml', 'diff'],
  // import() of a Node built-in (https, crypto: loaded on use) becomes require(): the launcher
  // runs the bundle as a vm.Script, which has no loader for a dynamic import.
  supported: { 'dynamic-import': false },
});

// V8's code cache of the bundle, for bin/gridctl.cjs (see scripts/cli-code-cache.cjs).
const { spawnSync } = await import('node:child_process');
const made = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'cli-code-cache.cjs'), '--help'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
if (!fs.existsSync(path.join(OUT, 'gridctl.cjs.cache'))) console.warn(`gridctl: no code cache (${made.stderr?.toString().trim() || `exit ${made.status}`}); it runs without one`);
