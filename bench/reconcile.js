// Reconciler scale benchmark on the simulated runtime.
//
//   node bench/reconcile.js                  1,000 × 10 and 5,000 × 10 pods (each size in a fresh child process)
//   node bench/reconcile.js --sizes=100,1000 quick run (numbers of services; 10 replicas each)
//   node bench/reconcile.js --cpu-prof       also write a V8 CPU profile per size to bench/results/profiles/
//
// Issue targets: 10,000 pods all Ready within 3 ticks after the simulated start delay;
// steady-state full resync of 10,000 pods ≤ 20 ms p50; RSS ≤ 300 MB at 10,000 pods;
// cost grows linearly with pods (10k → 50k ratio reported against the 5× pod ratio).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Session } from 'node:inspector/promises';
import { topSelf } from './profile-top.js';
import { BENCH_DIR, MB, ROOT, fmt, foreignBetween, mdTable, parseArgs, percentile, procTicks, gitInfo, onExitCleanup, round, snapshot, startProcess, waitQuiet, writeResults } from './lib.js';

const TICK_MS = 1000;
const START_DELAY_MS = 1000;
const REPLICAS = 10;
const READY_DEADLINE_MS = 120_000;
const STEADY_SAMPLES = 11; // the first pass after Ready is skipped (it may have started before), then ≥ 10
const STEADY_DEADLINE_MS = 20_000;
const CHILD_WATCHDOG_MS = 200_000;
const CHILD_TIMEOUT_MS = 240_000;
const LINEAR_TOLERANCE = 1.25;
const quietBudget = { remainingMs: 30_000 }; // "linear" = ratio ≤ 1.25 × the pod ratio

const args = parseArgs();
if (args.child) await child(Number(args.services), Number(args.replicas ?? REPLICAS), String(args['data-dir']));
else await parent();

// ---------------------------------------------------------------------------
// Child: one size, one fresh process.

async function child(services, replicas, dataDir) {
  if (!dataDir || !fs.existsSync(dataDir)) throw new Error('--data-dir: the parent creates the directory');
  const watchdog = setTimeout(() => {
    process.stderr.write(`reconcile child: watchdog fired after ${CHILD_WATCHDOG_MS} ms\n`);
    process.exit(3);
  }, CHILD_WATCHDOG_MS);
  watchdog.unref();

  const dist = (p) => pathToFileURL(path.join(ROOT, 'dist', p)).href;
  const { createGrid } = await import(dist('main.js'));
  const { loadConfig } = await import(dist('common/config/config.js'));
  const { SpecsService } = await import(dist('modules/specs/specs.service.js'));
  const { parseManifests } = await import(dist('modules/specs/spec-validator.js'));
  const { RuntimeService } = await import(dist('modules/runtime/runtime.service.js'));
  const { ReconcilerService } = await import(dist('modules/reconciler/reconciler.service.js'));
  const { EventsService } = await import(dist('modules/events/events.service.js'));

  let app;
  const mem = { peakRss: 0, peakHeapUsed: 0 };
  const sampleMem = () => {
    const m = process.memoryUsage();
    if (m.rss > mem.peakRss) mem.peakRss = m.rss;
    if (m.heapUsed > mem.peakHeapUsed) mem.peakHeapUsed = m.heapUsed;
  };
  const memTimer = setInterval(sampleMem, 50);
  try {
    const config = loadConfig(
      { GRID_PORT: '0', GRID_DATA_DIR: dataDir, TICK_MS: String(TICK_MS), GRID_SIM_START_DELAY_MS: String(START_DELAY_MS), GRID_LOG_LEVEL: 'warn' },
      process.cwd(),
    );
    app = await createGrid(config);
    await app.init();
    const specs = app.get(SpecsService);
    const runtime = app.get(RuntimeService);
    const reconciler = app.get(ReconcilerService);
    const events = app.get(EventsService);
    sampleMem();
    global.gc?.();
    const baseline = process.memoryUsage();

    // Specs: generated and validated before the clock starts. JSON, as a user applying
    // thousands of services would send them (a YAML body is capped at 10,000 lines).
    const docs = [];
    for (let i = 1; i <= services; i++) {
      docs.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${String(i).padStart(5, '0')}` },
        spec: { replicas, image: 'local://bench@v1', readinessProbe: { httpGet: { path: '/health/ready' }, periodSeconds: 2 } },
      });
    }
    const tParse = performance.now();
    const parsed = parseManifests(JSON.stringify(docs), 'application/json');
    const parseMs = performance.now() - tParse;
    if (!parsed.ok) throw new Error(`specs did not validate: ${JSON.stringify(parsed.errors.slice(0, 3))}`);
    const total = services * replicas;

    const prof = args['cpu-prof'] ? await startProfile() : undefined;
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const own = () => procTicks(process.pid) ?? 0;
    const snap0 = snapshot(own);
    const cpu0 = process.cpuUsage();
    const written0 = events.written;
    const passes0 = reconciler.passes;
    const resyncs0 = reconciler.resyncDurations.length;
    const t0 = performance.now();
    let applyMs;
    let allCreatedMs;
    let readyMs;
    const applied = specs.apply(parsed.manifests, 'bench').then((r) => {
      applyMs = performance.now() - t0;
      return r;
    });
    await new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        const now = performance.now();
        const pods = runtime.all();
        let ready = 0;
        for (const p of pods) if (p.ready) ready++;
        if (allCreatedMs === undefined && pods.length >= total) allCreatedMs = now - t0;
        if (pods.length === total && ready === total) {
          readyMs = now - t0;
          clearInterval(poll);
          resolve();
        } else if (now - t0 > READY_DEADLINE_MS) {
          clearInterval(poll);
          reject(new Error(`only ${ready} of ${total} pods Ready (${pods.length} exist) after ${READY_DEADLINE_MS} ms`));
        }
      }, 10);
    });
    const results = await applied;
    if (results.length !== services) throw new Error(`apply returned ${results.length} results, expected ${services}`);
    const writtenAtReady = events.written;
    const snapReady = snapshot(own);
    const cpuReady = process.cpuUsage(cpu0);
    const passesAtReady = reconciler.passes;
    const convergeLag = { max: lag.max / 1e6, p99: lag.percentile(99) / 1e6 };
    const resyncsDuringConverge = reconciler.resyncDurations.slice(resyncs0);
    const profiles = {};
    if (prof) {
      profiles.convergence = await stopProfile(prof, `reconcile-${total}-convergence`);
      await prof.post('Profiler.start');
    }
    lag.reset();

    // Steady state: full resync passes that completed after all pods were Ready.
    const n0 = reconciler.resyncDurations.length;
    const tSteady = performance.now();
    while (reconciler.resyncDurations.length < n0 + STEADY_SAMPLES && performance.now() - tSteady < STEADY_DEADLINE_MS) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const steadyMs = performance.now() - tSteady;
    // Skip the first: it may have started before the last pod became Ready.
    const steady = reconciler.resyncDurations.slice(n0 + 1);
    const steadyLag = { max: lag.max / 1e6, p99: lag.percentile(99) / 1e6 };
    lag.disable();
    if (prof) {
      profiles.steady = await stopProfile(prof, `reconcile-${total}-steady`);
      prof.disconnect();
    }
    const writtenEnd = events.written;
    const snapEnd = snapshot(own);
    const cpuSteady = process.cpuUsage();
    sampleMem();
    const end = process.memoryUsage();
    // Live heap: what 'steady heapUsed' means once garbage is gone (the child runs with --expose-gc).
    global.gc?.();
    const live = process.memoryUsage();
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const readyNow = runtime.all().filter((p) => p.ready).length;

    const out = {
      services,
      replicas,
      pods: total,
      tickMs: TICK_MS,
      startDelayMs: START_DELAY_MS,
      parseMs: round(parseMs),
      applyMs: round(applyMs),
      allCreatedMs: round(allCreatedMs),
      readyMs: round(readyMs),
      readyAfterDelayMs: round(readyMs - START_DELAY_MS),
      ticks: Math.max(0, Math.ceil((readyMs - START_DELAY_MS) / TICK_MS)),
      reconcilesDuringConvergence: passesAtReady - passes0,
      resyncsDuringConvergenceMs: resyncsDuringConverge.map((x) => round(x)),
      convergenceEventLoopLagMs: { max: round(convergeLag.max), p99: round(convergeLag.p99) },
      convergenceCpuMs: round((cpuReady.user + cpuReady.system) / 1000, 0),
      steadyCpuMsPerS: round(((cpuSteady.user + cpuSteady.system - cpu0.user - cpu0.system - cpuReady.user - cpuReady.system) / 1000) / (steadyMs / 1000), 1),
      foreignLoadPct: { convergence: foreignBetween(snap0, snapReady), steady: foreignBetween(snapReady, snapEnd) },
      eventsDuringConvergence: writtenAtReady - written0,
      eventsPerSecond: round((writtenAtReady - written0) / (readyMs / 1000), 0),
      eventsTotal: writtenEnd - written0,
      eventsDuringSteadyState: writtenEnd - writtenAtReady,
      steady: {
        samples: steady.length,
        waitedMs: round(steadyMs, 0),
        resyncP50Ms: round(percentile(steady, 50)),
        resyncP99Ms: round(percentile(steady, 99)),
        resyncMeanMs: round(steady.reduce((a, b) => a + b, 0) / (steady.length || 1)),
        resyncMinMs: round(Math.min(...steady)),
        resyncMaxMs: round(Math.max(...steady)),
        resyncMs: steady.map((x) => round(x)),
        eventLoopLagMs: { max: round(steadyLag.max), p99: round(steadyLag.p99) },
        podsReady: readyNow,
      },
      profiles: prof ? profiles : undefined,
      memory: {
        baselineRssMB: round(baseline.rss / MB, 1),
        baselineHeapUsedMB: round(baseline.heapUsed / MB, 1),
        peakRssSampledMB: round(mem.peakRss / MB, 1),
        peakRssMB: round(Math.max(mem.peakRss, hwmKb * 1024) / MB, 1),
        peakHeapUsedMB: round(mem.peakHeapUsed / MB, 1),
        steadyRssMB: round(end.rss / MB, 1),
        steadyHeapUsedMB: round(end.heapUsed / MB, 1),
        liveHeapAfterGcMB: round(live.heapUsed / MB, 1),
        rssAfterGcMB: round(live.rss / MB, 1),
      },
    };
    clearInterval(memTimer);
    const tClose = performance.now();
    await app.close();
    app = undefined;
    out.closeMs = round(performance.now() - tClose);
    process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
  } finally {
    clearInterval(memTimer);
    if (app) await app.close().catch(() => undefined);
  }
  // Nest may leave handles (e.g. SQLite) open; the result is out, so leave now.
  process.exit(0);
}

// CPU profiles of one phase (convergence, steady state) through the inspector, in-process.
async function startProfile() {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return session;
}

async function stopProfile(session, name) {
  const { profile } = await session.post('Profiler.stop');
  const dir = path.join(BENCH_DIR, 'results', 'profiles');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(profile));
  return { file: path.relative(ROOT, file), ...topSelf(profile, 10) };
}

// ---------------------------------------------------------------------------
// Parent: each size in its own child, then ratios and the markdown.

async function runChild(services, profile = false) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-reconcile-'));
  const removeDir = () => fs.rmSync(dataDir, { recursive: true, force: true });
  onExitCleanup(removeDir);
  const childArgs = ['--expose-gc', path.join(BENCH_DIR, 'reconcile.js'), '--child', `--services=${services}`, `--replicas=${REPLICAS}`, `--data-dir=${dataDir}`];
  if (profile) childArgs.push('--cpu-prof');
  const c = startProcess(`reconcile ${services}`, process.execPath, childArgs, { cwd: ROOT });
  c.stderr.on('data', (d) => process.stderr.write(d));
  const timer = setTimeout(() => {
    process.stderr.write(`reconcile child for ${services} services timed out after ${CHILD_TIMEOUT_MS} ms; killing pid ${c.pid}\n`);
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, CHILD_TIMEOUT_MS);
  const r = await c.exited;
  clearTimeout(timer);
  removeDir();
  const line = c.stdoutText.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.code !== 0 || !line) throw new Error(`reconcile child (${services} services) failed: exit ${r.code ?? r.signal}; stderr: ${c.stderrText.slice(-2000)}`);
  return JSON.parse(line.slice(7));
}

function verdict(ok) {
  return ok ? 'PASS' : 'FAIL';
}

async function parent() {
  const sizes = String(args.sizes ?? '1000,5000')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  if (sizes.length === 0) throw new Error('--sizes: give numbers of services, e.g. --sizes=1000,5000');
  const rows = [];
  for (const n of sizes) {
    const quiet = await waitQuiet({ thresholdPct: 15, maxWaitMs: 20_000, budget: quietBudget });
    if (quiet.waitedMs >= 50) process.stdout.write(`(waited ${fmt(quiet.waitedMs / 1000, 1)} s for other load on the machine to settle: ${quiet.foreignPct}% of a core${quiet.gaveUp ? ', gave up' : ''})\n`);
    process.stdout.write(`reconcile: ${n} services × ${REPLICAS} replicas = ${n * REPLICAS} pods ... `);
    const r = await runChild(n);
    r.quietWaitMs = quiet.waitedMs;
    rows.push(r);
    process.stdout.write(
      `ready ${fmt(r.readyMs, 0)} ms (${r.ticks} tick(s) after the ${r.startDelayMs} ms start delay), resync p50 ${fmt(r.steady.resyncP50Ms)} ms p99 ${fmt(r.steady.resyncP99Ms)} ms, ` +
        `${fmt(r.eventsPerSecond, 0)} events/s, peak RSS ${fmt(r.memory.peakRssMB, 0)} MB; other load ${r.foreignLoadPct.convergence}% / ${r.foreignLoadPct.steady}% of a core\n`,
    );
  }

  // Profiles come from extra runs, so the sampling overhead never touches the numbers above.
  if (args['cpu-prof']) {
    for (const r of rows) {
      process.stdout.write(`reconcile: profiling ${r.pods} pods in a separate run ... `);
      await waitQuiet({ thresholdPct: 15, maxWaitMs: 20_000, budget: quietBudget });
      const p = await runChild(r.services, true);
      r.profiles = p.profiles;
      r.profiledRun = { readyMs: p.readyMs, resyncP50Ms: p.steady.resyncP50Ms };
      process.stdout.write(`done (under the profiler: ready ${fmt(p.readyMs, 0)} ms, resync p50 ${fmt(p.steady.resyncP50Ms)} ms)\n`);
    }
  }

  // Ratios between the smallest and the largest size (10k → 50k by default).
  let ratios;
  if (rows.length >= 2) {
    const a = rows[0];
    const b = rows[rows.length - 1];
    const podRatio = b.pods / a.pods;
    ratios = {
      from: a.pods,
      to: b.pods,
      podRatio,
      resyncP50: round(b.steady.resyncP50Ms / a.steady.resyncP50Ms),
      resyncP99: round(b.steady.resyncP99Ms / a.steady.resyncP99Ms),
      readyMs: round(b.readyMs / a.readyMs),
      readyAfterDelayMs: round(b.readyAfterDelayMs / a.readyAfterDelayMs),
      peakRss: round(b.memory.peakRssMB / a.memory.peakRssMB),
      peakRssAboveBaseline: round((b.memory.peakRssMB - b.memory.baselineRssMB) / (a.memory.peakRssMB - a.memory.baselineRssMB)),
      liveHeapAboveBaseline: round((b.memory.liveHeapAfterGcMB - b.memory.baselineHeapUsedMB) / (a.memory.liveHeapAfterGcMB - a.memory.baselineHeapUsedMB)),
      eventsPerSecond: round(b.eventsPerSecond / a.eventsPerSecond),
    };
  }

  const at10k = rows.find((r) => r.pods === 10_000);
  const limit = ratios ? ratios.podRatio * LINEAR_TOLERANCE : undefined;
  const targets = [
    {
      target: '10,000 pods all Ready within 3 ticks after the start delay',
      value: at10k ? `${at10k.ticks} tick(s) (${fmt(at10k.readyAfterDelayMs, 0)} ms after the ${at10k.startDelayMs} ms delay)` : 'n/a (no 10,000-pod size in this run)',
      result: at10k ? verdict(at10k.ticks <= 3) : 'n/a',
    },
    {
      target: 'steady-state full resync of 10,000 pods ≤ 20 ms p50',
      value: at10k ? `p50 ${fmt(at10k.steady.resyncP50Ms)} ms (p99 ${fmt(at10k.steady.resyncP99Ms)} ms, n=${at10k.steady.samples})` : 'n/a',
      result: at10k ? verdict(at10k.steady.resyncP50Ms <= 20) : 'n/a',
    },
    {
      target: 'peak RSS ≤ 300 MB at 10,000 pods',
      value: at10k ? `${fmt(at10k.memory.peakRssMB, 0)} MB` : 'n/a',
      result: at10k ? verdict(at10k.memory.peakRssMB <= 300) : 'n/a',
    },
    {
      target: `cost grows linearly with pods (each ratio ≤ ${LINEAR_TOLERANCE} × the pod ratio)`,
      value: ratios
        ? `${ratios.from}→${ratios.to} pods (${ratios.podRatio}×): resync p50 ${ratios.resyncP50}×, ready-after-delay ${ratios.readyAfterDelayMs}×, RSS above baseline ${ratios.peakRssAboveBaseline}×`
        : 'n/a (one size)',
      // Below 10,000 pods fixed costs dominate (RSS above baseline is a few MB), so the ratio says little.
      result: !ratios ? 'n/a' : ratios.from < 10_000 ? 'n/a (smallest size < 10,000 pods)' : verdict(ratios.resyncP50 <= limit && ratios.readyAfterDelayMs <= limit && ratios.peakRssAboveBaseline <= limit),
    },
  ];

  const json = { benchmark: 'reconcile', date: new Date().toISOString(), git: gitInfo(), node: process.version, cpus: os.cpus().length, tickMs: TICK_MS, startDelayMs: START_DELAY_MS, sizes: rows, ratios, targets };

  const md = [];
  md.push('# Reconciler scale benchmark (simulated runtime)');
  md.push('');
  md.push(`Run ${json.date} · commit ${json.git.commit}${json.git.srcDirty ? ' + uncommitted src/ changes' : ''}${json.git.distStale ? ' (WARNING: dist/ is older than src/; run npm run build)' : ''} · Node ${process.version} · ${os.cpus().length} CPUs (shared, noisy machine) · \`node bench/reconcile.js\``);
  md.push('');
  md.push('Method: each size runs in a fresh Node process that boots Grid in-process (`createGrid` + `app.init()`, no HTTP listener),');
  md.push(`with TICK_MS=${TICK_MS} and GRID_SIM_START_DELAY_MS=${START_DELAY_MS}. N services of ${REPLICAS} replicas (\`image: local://bench@v1\`,`);
  md.push('a readinessProbe) are validated first (not timed), then applied in one `SpecsService.apply` call. *Ready* is the time from the');
  md.push('start of the apply until `runtime.all()` holds every pod and all are Ready (polled every 10 ms); *ticks* = ⌈(ready − start delay) / tick⌉.');
  md.push('*Resync* is `ReconcilerService.resyncDurations` (enqueue every service → queue drained) for passes that finished after all pods were Ready,');
  md.push('skipping the first; p50/p99 are nearest-rank over those (~11) samples, so p99 ≈ the max. *Events/s* = rows flushed to SQLite');
  md.push('(`EventsService.written`) between apply and all-Ready divided by that time. *Peak RSS* is the larger of a 50 ms `memoryUsage()` sample');
  md.push('and the kernel\'s VmHWM; *baseline* is RSS right after `app.init()`; *live heap* is heapUsed after a forced GC at the end of the steady state. *Other load* is machine-wide busy CPU minus this process\'s, in % of one core:');
  md.push('other sessions share this 2-core VM (builds, test runs), so before each size the script waits (≤ 20 s) for it to drop to ≤ 15 %, and reports it.');
  md.push('');
  md.push(
    mdTable(
      ['pods', 'services', 'apply ms', 'all created ms', 'all Ready ms', 'Ready − delay ms', 'ticks', 'resync p50 ms', 'resync p99 ms', 'n', 'events (converge)', 'events/s', 'peak RSS MB', 'baseline RSS MB', 'peak heapUsed MB', 'live heap after GC MB (baseline)', 'max loop lag ms (converge)', 'CPU ms (converge)', 'steady CPU ms/s', 'other load % (converge / steady)'],
      rows.map((r) => [
        r.pods.toLocaleString('en-US'),
        r.services.toLocaleString('en-US'),
        fmt(r.applyMs, 0),
        fmt(r.allCreatedMs, 0),
        fmt(r.readyMs, 0),
        fmt(r.readyAfterDelayMs, 0),
        r.ticks,
        fmt(r.steady.resyncP50Ms),
        fmt(r.steady.resyncP99Ms),
        r.steady.samples,
        r.eventsDuringConvergence.toLocaleString('en-US'),
        fmt(r.eventsPerSecond, 0),
        fmt(r.memory.peakRssMB, 0),
        fmt(r.memory.baselineRssMB, 0),
        fmt(r.memory.peakHeapUsedMB, 0),
        `${fmt(r.memory.liveHeapAfterGcMB, 0)} (${fmt(r.memory.baselineHeapUsedMB, 0)})`,
        fmt(r.convergenceEventLoopLagMs.max, 0),
        fmt(r.convergenceCpuMs, 0),
        fmt(r.steadyCpuMsPerS, 1),
        `${fmt(r.foreignLoadPct.convergence, 0)} / ${fmt(r.foreignLoadPct.steady, 0)}`,
      ]),
    ),
  );
  md.push('');
  if (ratios) {
    md.push(`## Growth ${ratios.from.toLocaleString('en-US')} → ${ratios.to.toLocaleString('en-US')} pods (pod ratio ${ratios.podRatio}×)`);
    md.push('');
    md.push(
      mdTable(
        ['measure', 'ratio', 'vs pod ratio'],
        [
          ['resync p50', `${ratios.resyncP50}×`, `${round(ratios.resyncP50 / ratios.podRatio)} of linear`],
          ['resync p99', `${ratios.resyncP99}×`, `${round(ratios.resyncP99 / ratios.podRatio)} of linear`],
          ['all Ready (incl. the constant start delay)', `${ratios.readyMs}×`, `${round(ratios.readyMs / ratios.podRatio)} of linear`],
          ['all Ready − start delay', `${ratios.readyAfterDelayMs}×`, `${round(ratios.readyAfterDelayMs / ratios.podRatio)} of linear`],
          ['peak RSS', `${ratios.peakRss}×`, `${round(ratios.peakRss / ratios.podRatio)} of linear`],
          ['peak RSS above baseline', `${ratios.peakRssAboveBaseline}×`, `${round(ratios.peakRssAboveBaseline / ratios.podRatio)} of linear`],
          ['live heap after GC above baseline', `${ratios.liveHeapAboveBaseline}×`, `${round(ratios.liveHeapAboveBaseline / ratios.podRatio)} of linear`],
          ['events/s during convergence', `${ratios.eventsPerSecond}×`, '(throughput: higher is better)'],
        ],
      ),
    );
    md.push('');
  }
  md.push('## Targets');
  md.push('');
  md.push(mdTable(['target', 'measured', 'result'], targets.map((t) => [t.target, t.value, t.result])));
  md.push('');
  for (const r of rows) {
    if (!r.profiles) continue;
    for (const [phase, p] of Object.entries(r.profiles)) {
      md.push(`### CPU profile, ${r.pods.toLocaleString('en-US')} pods, ${phase} (separate profiled run; ${p.file}; ${p.totalMs} ms sampled, ${p.busyMs} ms busy)`);
      md.push('');
      md.push(mdTable(['self ms', '% of busy', 'function'], p.top.map((t) => [fmt(t.selfMs, 1), fmt(t.pctOfBusy, 1), t.fn])));
      md.push('');
      md.push(mdTable(['self ms', '% of busy', 'owner'], p.groups.map((t) => [fmt(t.selfMs, 1), fmt(t.pctOfBusy, 1), t.group])));
      md.push('');
    }
  }
  md.push('Steady-state resync samples (ms): ' + rows.map((r) => `${r.pods}: ${r.steady.resyncMs.join(', ')}`).join('; '));
  md.push('');
  const files = writeResults('reconcile', json, md.join('\n'));
  process.stdout.write('\n' + targets.map((t) => `  ${t.result.padEnd(4)}  ${t.target}: ${t.value}`).join('\n') + '\n');
  if (ratios) process.stdout.write(`  ratios ${ratios.from}→${ratios.to} pods (${ratios.podRatio}×): resync p50 ${ratios.resyncP50}×, Ready ${ratios.readyMs}× (−delay ${ratios.readyAfterDelayMs}×), RSS ${ratios.peakRss}× (above baseline ${ratios.peakRssAboveBaseline}×)\n`);
  process.stdout.write(`  wrote ${path.relative(ROOT, files.md)} and ${path.relative(ROOT, files.json)}\n`);
}
