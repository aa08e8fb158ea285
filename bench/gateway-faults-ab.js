// A/B of the gateway's CPU per proxied request with fault injection built in (issue 16):
// the previous build (--base=DIR, a checkout built with tsc, default /tmp/faults-base) against
// this one, in the same run, rounds interleaved. Variants: base; new with no fault rule (the
// hot path reads one field); new with a rule on another service (one map lookup per request).
//
//   node bench/gateway-faults-ab.js --duration=4 --rounds=3
//
// Grid's CPU is read from /proc/<pid>/stat (user + system ticks) around each wrk run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLK_TCK, ROOT, median, parseArgs, procTicks, round, startProcess, stopProcess, waitForOutput } from './lib.js';

const args = parseArgs();
const BASE = path.resolve(String(args.base ?? '/tmp/faults-base'));
const DURATION_S = Math.max(1, Math.min(30, Number(args.duration ?? 4)));
const ROUNDS = Math.max(1, Math.min(10, Number(args.rounds ?? 3)));
const CONNECTIONS = 16;

async function http(url, init) {
  const r = await fetch(url, init);
  const text = await r.text();
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function startGrid(name, dir) {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), `grid-ab-${name}-`));
  const child = startProcess(name, process.execPath, [path.join(dir, 'dist', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, GRID_PORT: '0', GRID_DATA_DIR: data, GRID_LOG_LEVEL: 'warn'},
  });
  const url = (await waitForOutput(child, /Grid listening on (http:\/\/[^\s]+)/, 20000))[1];
  const yaml = (svc) => `apiVersion: v1\nkind: Service\nmetadata: { name: ${svc} }\nspec:\n  replicas: 1\n  command: ["node", "demo-services/versioned/server.js"]\n  env: [{ name: VERSION, value: v1 }]\n  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1 }\n`;
  for (const svc of ['web', 'other']) await http(`${url}/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml(svc) });
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${url}/gateway/web/version`).catch(() => undefined);
    if (r?.ok && (await fetch(`${url}/gateway/other/version`)).ok) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  return { name, child, url, data };
}

function wrk(url, seconds) {
  return new Promise((resolve, reject) => {
    const c = startProcess('wrk', 'wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, url]);
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', () => {
      const m = /(\d+) requests in/.exec(out);
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      if (!m) reject(new Error(`wrk: ${out}`));
      else resolve({ requests: Number(m[1]), non2xx: non2xx ? Number(non2xx[1]) : 0 });
    });
  });
}

async function measure(g) {
  const t0 = procTicks(g.child.pid);
  const w = await wrk(`${g.url}/gateway/web/version`, DURATION_S);
  const t1 = procTicks(g.child.pid);
  return { usPerRequest: (((t1 - t0) / CLK_TCK) * 1e6) / w.requests, rps: w.requests / DURATION_S, non2xx: w.non2xx };
}

async function main() {
  if (!fs.existsSync(path.join(BASE, 'dist', 'main.js'))) throw new Error(`no base build at ${BASE}/dist/main.js (git archive <commit> | tar -x -C ${BASE}; npx tsc -p tsconfig.build.json there)`);
  const base = await startGrid('base', BASE);
  const fresh = await startGrid('new', ROOT);
  const withRule = await startGrid('new+rule', ROOT);
  await http(`${withRule.url}/chaos/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ service: 'other', abortPercent: 50, durationSeconds: 3600 }) });
  const grids = [base, fresh, withRule];
  for (const g of grids) await wrk(`${g.url}/gateway/web/version`, 2); // warm-up (JIT)
  const runs = new Map(grids.map((g) => [g.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const g of grids) {
      const m = await measure(g);
      runs.get(g.name).push(m);
      process.stdout.write(`round ${r + 1} ${g.name.padEnd(9)} ${m.usPerRequest.toFixed(1)} µs CPU/request  ${Math.round(m.rps)} req/s  non-2xx ${m.non2xx}\n`);
    }
  }
  const result = {};
  // The minimum too: under other load CPU per request rises with contention (fewer requests per wake-up), never falls.
  for (const [name, ms] of runs) result[name] = { usPerRequestMedian: round(median(ms.map((m) => m.usPerRequest)), 1), usPerRequestMin: round(Math.min(...ms.map((m) => m.usPerRequest)), 1), rpsMedian: Math.round(median(ms.map((m) => m.rps))), non2xx: ms.reduce((n, m) => n + m.non2xx, 0) };
  console.log(JSON.stringify({ durationS: DURATION_S, rounds: ROUNDS, connections: CONNECTIONS, result }, null, 2));
  for (const g of grids) {
    await stopProcess(g.child);
    fs.rmSync(g.data, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
