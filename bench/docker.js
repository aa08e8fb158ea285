// Docker runtime benchmark (issue 12), against a real Docker Engine:
//   1. apply → 3 containers Ready (grid-demo:v1, runtime docker) against `docker run` of 3 of the
//      same containers → all accepting, measured in the same run (target ≤ 1.5×);
//   2. Grid's CPU per request through the gateway to 2 containers vs to 2 processes (wrk c16;
//      target: the same within noise).
//
//   node bench/docker.js                 3 rounds of each start, 10 s per wrk run
//   node bench/docker.js --duration=3 --rounds=1
//
// Fails with a clear message when no engine answers, the images are missing and cannot be built,
// or this Grid has no usable docker runtime.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ROOT, fmt, gitInfo, mdTable, median, onExitCleanup, parseArgs, procTicks, round, run, sleep, startProcess, stopProcess, waitForOutput, writeResults, CLK_TCK, gridHttp, waitServiceReady } from './lib.js';

const args = parseArgs();
const DURATION_S = Math.max(1, Math.min(60, Number(args.duration ?? 10)));
const ROUNDS = Math.max(1, Math.min(7, Number(args.rounds ?? 3)));
const REPLICAS = 3;
const IMAGE = 'grid-demo:v1';
const TARGET_START_RATIO = 1.5;
const RUN_ID = randomBytes(4).toString('hex');
const RUN_LABEL = `grid.bench-run=${RUN_ID}`; // on every container this script starts itself
const BACKEND = path.join('demo-services', 'versioned', 'server.js');

function fail(msg) {
  process.stderr.write(`bench docker: ${msg}\n`);
  process.exit(1);
}

async function docker(argv, timeoutMs = 30_000) {
  return run('docker', 'docker', argv, timeoutMs);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function accepting(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

async function waitAccepting(port, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (!(await accepting(port))) {
    if (performance.now() > deadline) throw new Error(`127.0.0.1:${port} not accepting after ${timeoutMs} ms`);
    await sleep(2);
  }
}

function dockerYaml(name, replicas) {
  return (
    `apiVersion: v1\nkind: Service\nmetadata: { name: ${name} }\nspec:\n  replicas: ${replicas}\n  runtime: docker\n  image: ${IMAGE}\n  imagePullPolicy: Never\n` +
    `  env:\n    - { name: VERSION, value: v1 }\n  readinessProbe: { httpGet: { path: /health/ready } }\n`
  );
}

function processYaml(name, replicas) {
  return (
    `apiVersion: v1\nkind: Service\nmetadata: { name: ${name} }\nspec:\n  replicas: ${replicas}\n  command: ["node", "${BACKEND}"]\n` +
    `  env:\n    - { name: VERSION, value: v1 }\n  readinessProbe: { httpGet: { path: /health/ready } }\n`
  );
}

async function waitGone(grid, name, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const r = await gridHttp('GET', `${grid.url}/state`);
    if (!r.json.pods.some((p) => p.service === name)) return;
    if (performance.now() > deadline) throw new Error(`service ${name}: pods still there ${timeoutMs} ms after delete`);
    await sleep(20);
  }
}

async function apply(grid, yaml) {
  const r = await gridHttp('POST', `${grid.url}/apply`, yaml);
  if (r.status !== 200) throw new Error(`apply: HTTP ${r.status} ${r.text}`);
}

/** 3 × `docker run -d --network host` in parallel → all accepting, then removed. */
async function dockerRunBaseline() {
  const ports = await Promise.all(Array.from({ length: REPLICAS }, freePort));
  const t0 = performance.now();
  const ids = await Promise.all(
    ports.map(async (port) => {
      const r = await docker(['run', '-d', '--rm', '--label', RUN_LABEL, '--network', 'host', '-e', `PORT=${port}`, '-e', 'HOST=127.0.0.1', IMAGE]);
      if (r.code !== 0) throw new Error(`docker run failed: ${r.stderr}`);
      return r.stdout.trim();
    }),
  );
  await Promise.all(ports.map((p) => waitAccepting(p, 30_000)));
  const ms = performance.now() - t0;
  await docker(['rm', '-f', ...ids]);
  return ms;
}

async function removeOurContainers() {
  const r = await docker(['ps', '-aq', '--filter', `label=${RUN_LABEL}`]);
  const ids = r.stdout.split(/\s+/).filter(Boolean);
  if (ids.length) await docker(['rm', '-f', ...ids]);
}

function parseWrk(out) {
  const rq = /(\d+) requests in/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  return { requests: rq ? Number(rq[1]) : 0, non2xx: non2xx ? Number(non2xx[1]) : 0, rps: rps ? Number(rps[1]) : 0 };
}

/** wrk c16 through the gateway; Grid's CPU (user+sys ticks) over the run, per request. */
async function gatewayCpu(grid, service) {
  const url = `${grid.gatewayUrl}/${service}/version`;
  await run('wrk', 'wrk', ['-t1', '-c16', '-d1s', url], 30_000);
  const before = procTicks(grid.pid);
  const r = await run('wrk', 'wrk', ['-t1', '-c16', `-d${DURATION_S}s`, url], (DURATION_S + 30) * 1000);
  const after = procTicks(grid.pid);
  if (r.code !== 0) throw new Error(`wrk failed: ${r.stderr || r.stdout}`);
  const w = parseWrk(r.stdout);
  if (!w.requests) throw new Error(`wrk made no requests against ${url}: ${r.stdout}`);
  return { ...w, usPerRequest: round((((after - before) / CLK_TCK) * 1e6) / w.requests, 1) };
}

async function main() {
  const info = await docker(['info', '--format', '{{.ServerVersion}}'], 20_000).catch((e) => ({ code: 1, stderr: String(e) }));
  if (info.code !== 0) fail(`no Docker Engine answers (docker info: ${(info.stderr || '').trim()}); start one, e.g. dockerd --bridge=none --iptables=false`);
  const build = await run('build-images', path.join(ROOT, 'demo-services', 'build-images.sh'), [], 300_000);
  if (build.code !== 0) fail(`demo-services/build-images.sh failed: ${build.stderr.trim()}`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-docker-'));
  const child = startProcess('grid', process.execPath, ['dist/main.js'], {
    cwd: ROOT,
    env: { ...process.env, GRID_PORT: '0', GRID_GATEWAY_PORT: '0', GRID_DATA_DIR: tmp, GRID_LOG_LEVEL: 'warn' },
  });
  onExitCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const m = await waitForOutput(child, /Grid listening on (http:\/\/127\.0\.0\.1:\d+) \(gateway on (http:\/\/127\.0\.0\.1:\d+)\)/, 30_000, 'Grid start-up line');
  const grid = { child, pid: child.pid, url: m[1], gatewayUrl: m[2] };
  const names = [];
  try {
    const probe = `bench-probe-${RUN_ID}`;
    const first = await gridHttp('POST', `${grid.url}/apply`, dockerYaml(probe, 0));
    if (first.status !== 200) {
      fail(`this Grid cannot run ${IMAGE} on the docker runtime (apply: HTTP ${first.status} ${first.text.slice(0, 300)}); is the docker driver built in (npm run build) and the socket reachable?`);
    }
    await gridHttp('DELETE', `${grid.url}/services/${probe}`);

    const starts = [];
    for (let i = 0; i < ROUNDS; i++) {
      const baselineMs = await dockerRunBaseline();
      const name = `bench-docker-${RUN_ID}-${i}`;
      names.push(name);
      const t0 = performance.now();
      await apply(grid, dockerYaml(name, REPLICAS));
      await waitServiceReady(grid.url, name, REPLICAS, 60_000);
      const gridMs = performance.now() - t0;
      await gridHttp('DELETE', `${grid.url}/services/${name}`);
      await waitGone(grid, name, 60_000);
      starts.push({ round: i + 1, gridMs: round(gridMs, 0), dockerRunMs: round(baselineMs, 0), ratio: round(gridMs / baselineMs, 2) });
      process.stdout.write(`  round ${i + 1}: apply → ${REPLICAS} Ready ${fmt(gridMs, 0)} ms, docker run → accepting ${fmt(baselineMs, 0)} ms\n`);
    }

    const cName = `bench-c-${RUN_ID}`;
    const pName = `bench-p-${RUN_ID}`;
    names.push(cName, pName);
    await apply(grid, dockerYaml(cName, 2));
    await apply(grid, processYaml(pName, 2));
    await waitServiceReady(grid.url, cName, 2, 60_000);
    await waitServiceReady(grid.url, pName, 2, 60_000);
    const toContainers = await gatewayCpu(grid, cName);
    const toProcesses = await gatewayCpu(grid, pName);

    const gridMed = median(starts.map((s) => s.gridMs));
    const baseMed = median(starts.map((s) => s.dockerRunMs));
    const startRatio = round(gridMed / baseMed, 2);
    const cpuRatio = round(toContainers.usPerRequest / toProcesses.usPerRequest, 2);
    const json = {
      date: new Date().toISOString(),
      git: gitInfo(),
      node: process.version,
      docker: info.stdout.trim(),
      image: IMAGE,
      rounds: ROUNDS,
      durationS: DURATION_S,
      start: { rounds: starts, gridMedianMs: gridMed, dockerRunMedianMs: baseMed, ratio: startRatio, target: TARGET_START_RATIO, pass: startRatio <= TARGET_START_RATIO },
      gatewayCpu: { toContainers, toProcesses, ratio: cpuRatio },
    };
    const md = [
      '# Docker runtime benchmark',
      '',
      `Run ${json.date} · commit ${json.git.commit} · Node ${process.version} · Docker Engine ${json.docker} · ${os.cpus().length} CPUs · \`node bench/docker.js${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\``,
      '',
      `## Start: apply → ${REPLICAS} containers Ready vs ${REPLICAS} × \`docker run -d --network host\` → accepting (in parallel)`,
      '',
      mdTable(['round', 'Grid apply → Ready (ms)', 'docker run → accepting (ms)', 'ratio'], starts.map((s) => [s.round, s.gridMs, s.dockerRunMs, s.ratio])),
      '',
      `Median: Grid ${fmt(gridMed, 0)} ms, docker run ${fmt(baseMed, 0)} ms, **${startRatio}×** (target ≤ ${TARGET_START_RATIO}×): **${json.start.pass ? 'PASS' : 'FAIL'}**`,
      '',
      `## Gateway: Grid's CPU per request, wrk -t1 -c16 -d${DURATION_S}s on \`/<service>/version\` through the dedicated gateway port, 2 pods each`,
      '',
      mdTable(
        ['to', 'requests', 'req/s', 'non-2xx', 'Grid CPU µs/request'],
        [
          ['containers', toContainers.requests, toContainers.rps, toContainers.non2xx, toContainers.usPerRequest],
          ['processes', toProcesses.requests, toProcesses.rps, toProcesses.non2xx, toProcesses.usPerRequest],
        ],
      ),
      '',
      `Containers / processes: **${cpuRatio}×** (target: the same within noise). Grid's CPU = its user+sys ticks (/proc, 10 ms resolution) over the run / requests; nothing is pinned, so other load on the host adds noise.`,
      '',
    ].join('\n');
    writeResults('docker', json, md);
    process.stdout.write(`docker: start ${startRatio}× docker run (target ≤ ${TARGET_START_RATIO}×), gateway CPU containers/processes ${cpuRatio}×\n`);
  } finally {
    for (const n of names) await gridHttp('DELETE', `${grid.url}/services/${n}`).catch(() => undefined);
    await stopProcess(child, 20_000);
    await removeOurContainers();
  }
}

main().catch((e) => {
  process.stderr.write(`bench docker: ${e.stack || e}\n`);
  process.exitCode = 1;
});
