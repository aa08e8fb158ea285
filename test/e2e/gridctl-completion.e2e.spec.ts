// Shell completion, run in a real bash: the script must parse (bash -n), complete commands and
// flags from the command tree, and offer the names of a real Grid's services and pods.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyYaml, cleanupAll, readyPods, startGrid, expectEventually, type GridHandle } from '../utils/grid.js';
import { cliHome, gridctl, GRIDCTL } from '../utils/cli.js';

let grid: GridHandle;
let script: string;
let binDir: string;

/** Runs _gridctl for a command line (the cursor at its end) in bash; the offered words. */
function complete(line: string, env: Record<string, string> = {}): Promise<string[]> {
  const words = line.split(' ');
  const src = `source ${JSON.stringify(script)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})
COMP_CWORD=${words.length - 1}
_gridctl
printf '%s\\n' "\${COMPREPLY[@]}"`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--norc', '--noprofile', '-c', src], { env: { PATH: `${binDir}:${process.env.PATH}`, HOME: cliHome(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(t);
      if (code !== 0) reject(new Error(`bash exited ${code}: ${err}`));
      else resolve(out.split('\n').filter(Boolean).sort());
    });
  });
}

beforeAll(async () => {
  grid = await startGrid();
  await applyYaml(grid, 'apiVersion: v1\nkind: Service\nmetadata: { name: comp-api }\nspec:\n  replicas: 2\n  image: local://demo@v1\n');
  await expectEventually(() => readyPods(grid, 'comp-api', 2), 15_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridctl-completion-'));
  script = path.join(dir, 'gridctl.bash');
  // The script calls `gridctl __complete` by the name the user typed: put one on PATH.
  binDir = path.join(dir, 'bin');
  fs.mkdirSync(binDir);
  fs.symlinkSync(GRIDCTL, path.join(binDir, 'gridctl'));
  const r = await gridctl(['completion', 'bash']);
  expect(r.code).toBe(0);
  fs.writeFileSync(script, r.stdout);
});
afterAll(cleanupAll);

describe('gridctl completion', () => {
  it('prints bash and zsh scripts that bash accepts', async () => {
    for (const shell of ['bash', 'zsh']) {
      const r = await gridctl(['completion', shell]);
      expect(r.code).toBe(0);
      const check = await new Promise<number | null>((resolve) => {
        const child = spawn('bash', ['-n'], { stdio: ['pipe', 'ignore', 'inherit'] });
        child.on('close', resolve);
        // zsh's script starts with compinit lines bash can parse but not run; -n only parses.
        child.stdin.end(r.stdout);
      });
      expect(check).toBe(0);
    }
  });

  it('refuses an unknown shell with a usage error', async () => {
    const r = await gridctl(['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'fish' is invalid");
  });

  it('completes commands, subcommands and flags', async () => {
    expect(await complete('gridctl ro')).toEqual(['rollout']);
    expect(await complete('gridctl rollout ')).toEqual(expect.arrayContaining(['status', 'promote', 'abort', 'undo', 'history']));
    expect(await complete('gridctl get pods --out')).toEqual(['--output']);
    expect(await complete('gridctl completion ')).toEqual(['bash', 'zsh']);
    expect(await complete('gridctl get ')).toEqual(['events', 'failovergroups', 'pods', 'services', 'volumes']);
    expect(await complete('gridctl describe ')).toEqual(['failovergroup', 'pod', 'service']);
    expect(await complete('gridctl delete s')).toEqual(['service']);
    const flags = await complete('gridctl get pods --');
    expect(flags.filter((f) => f === '--help')).toHaveLength(1);
  });

  it("offers a config file's contexts", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridctl-completion-config-'));
    const file = path.join(dir, 'config.yaml');
    fs.writeFileSync(file, 'contexts:\n  - { name: lab, server: http://127.0.0.1:1 }\n  - { name: prod, server: http://127.0.0.1:2 }\n');
    try {
      expect(await complete('gridctl config use-context ', { GRID_CONFIG: file })).toEqual(['lab', 'prod']);
      expect(await complete('gridctl get pods --context ', { GRID_CONFIG: file })).toEqual(['lab', 'prod']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("offers a real Grid's names where a command takes one", async () => {
    const env = { GRID_URL: grid.url };
    expect(await complete('gridctl rollout status comp', env)).toEqual(['comp-api']);
    const pods = (await readyPods(grid, 'comp-api', 2)).map((p) => p.id).sort();
    expect(await complete('gridctl logs comp-api', env)).toEqual(pods);
    expect(await complete('gridctl describe service comp', env)).toEqual(['comp-api']);
    expect(await complete('gridctl get svc comp', env)).toEqual(['comp-api']);
    // delete takes several names: each position completes.
    expect(await complete('gridctl delete service comp-api comp', env)).toEqual(['comp-api']);
    expect(await complete('gridctl get events ', env)).toEqual([]);
  });

  it('offers nothing, silently, when Grid is not there', async () => {
    expect(await complete('gridctl rollout status comp', { GRID_URL: 'http://127.0.0.1:1' })).toEqual([]);
  });
});
