// Record → SSE arrival latency of /events/stream, for one or more builds of Grid in the same run:
// `npm run bench -- sse [--events=200] [--grids=label=path/to/main.js,...]` (default: this tree's dist/main.js).
// Each Grid runs a sim service of 3 pods; one pod is killed every 50 ms (about 4 events each, as in
// the dashboard bench) until `events` events have arrived on a stream opened with replay=0.
// Latency = arrival (Date.now() here) − the event's `time` (Grid's clock, the same machine clock).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fmt, gitInfo, gridHttp, mdTable, parseArgs, percentile, ROOT, sleep, startProcess, stopProcess, waitForOutput, waitQuiet, waitServiceReady, writeResults } from './lib.js';

const args = parseArgs();
const want = Number(args.events ?? 200);
const grids = String(args.grids ?? 'this=dist/main.js')
  .split(',')
  .map((g) => {
    const [label, file] = g.includes('=') ? g.split('=') : [g, g];
    return { label, main: path.resolve(ROOT, file) };
  });

const SPEC = `apiVersion: v1
kind: Service
metadata: { name: lat }
spec:
  replicas: 3
  image: local://demo@v1
`;

async function measure({ label, main }) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-sse-'));
  const grid = startProcess(`grid ${label}`, process.execPath, [main], { cwd: ROOT, env: { ...process.env, GRID_PORT: '0', GRID_DATA_DIR: dataDir, GRID_LOG_LEVEL: 'warn' } });
  const ctrl = new AbortController();
  try {
    const base = (await waitForOutput(grid, /Grid listening on (http:\/\/\S+)/, 30_000, 'Grid start'))[1];
    const applied = await gridHttp('POST', `${base}/apply`, SPEC);
    if (applied.status >= 300) throw new Error(`apply: ${applied.status} ${applied.text}`);
    await waitServiceReady(base, 'lat', 3, 30_000, 20);
    await waitQuiet({});

    const latencies = [];
    const res = await fetch(`${base}/events/stream?replay=0`, { headers: { accept: 'text/event-stream' }, signal: ctrl.signal });
    const reading = (async () => {
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const now = Date.now();
        buf += value;
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data && block.includes('event: grid')) latencies.push(now - JSON.parse(data.slice(6)).time);
        }
      }
    })().catch((e) => {
      if (!ctrl.signal.aborted) throw e;
    });

    const deadline = Date.now() + 60_000;
    let kills = 0;
    while (latencies.length < want && Date.now() < deadline) {
      await gridHttp('POST', `${base}/chaos/kill?service=lat&count=1`);
      kills++;
      await sleep(50);
    }
    if (latencies.length < want) throw new Error(`${label}: ${latencies.length} of ${want} events arrived within 60 s`);
    ctrl.abort();
    await reading;
    const l = latencies.slice(0, want);
    return { label, main: path.relative(ROOT, main) || main, events: l.length, kills, p50: percentile(l, 50), p95: percentile(l, 95), p99: percentile(l, 99), max: Math.max(...l), mean: l.reduce((a, b) => a + b, 0) / l.length };
  } finally {
    ctrl.abort();
    await stopProcess(grid);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const results = [];
for (const g of grids) {
  const r = await measure(g);
  process.stdout.write(`${r.label}: p50 ${r.p50} ms, p95 ${r.p95} ms, p99 ${r.p99} ms, max ${r.max} ms over ${r.events} events\n`);
  results.push(r);
}

const git = gitInfo();
const md = [
  `# Record → SSE arrival on /events/stream, ${want} events per build`,
  '',
  `${os.cpus().length} cores; Grid at ${JSON.stringify(git)}; load average ${os.loadavg().map((x) => fmt(x, 1)).join(' ')}`,
  '',
  'A sim service of 3 pods, one pod killed every 50 ms; latency = arrival at the client − the event\'s recorded time. Builds measured one after the other in this run.',
  '',
  mdTable(['build', 'main', 'events', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'max (ms)', 'mean (ms)'], results.map((r) => [r.label, r.main, r.events, r.p50, r.p95, r.p99, r.max, fmt(r.mean, 1)])),
  '',
].join('\n');
writeResults('sse', { git, events: want, results }, md);
