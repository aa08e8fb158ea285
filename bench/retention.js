// The figures behind Grid's retention defaults (README, Trust under faults → Retention).
//
//   node bench/retention.js [--minutes=3] [--rows=100000] [--root=DIR]   (or npm run bench -- retention)
//
// 1. Events a day of a small setup: the demo (`grid --demo`: web ×3 and the shop's 3 services,
//    real processes) runs for --minutes; the first minute (start-up) is left out, the event ids
//    recorded in the rest give a steady rate. Then one rolling update of web (v1 → v2) is applied
//    and the events it caused are counted: "events per deploy".
// 2. Bytes per event row: --rows events of the mix the demo recorded are written through Grid's own
//    EventsService into a fresh Grid database file (same schema, WAL, indexes); after a checkpoint
//    the file's growth divided by the rows. The same for audit rows (AuditService, an apply's entry).
// 3. The cost of one retention step: deleting PRUNE_BATCH of the oldest rows, timed.
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fmt, gitInfo, mdTable, parseArgs, percentile, ROOT, round, sleep, startProcess, stopProcess, waitForOutput, writeResults } from './lib.js';

const DAY_MS = 86_400_000;

async function newestId(base) {
  const r = await (await fetch(`${base}/events?limit=1`)).json();
  return r.events[0]?.id ?? 0;
}

async function demoRates(gridRoot, minutes) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-retention-'));
  const grid = startProcess('grid', process.execPath, [path.join(gridRoot, 'dist/main.js'), '--demo'], {
    cwd: gridRoot,
    env: { ...process.env, GRID_PORT: '0', GRID_DATA_DIR: dataDir, GRID_LOG_LEVEL: 'warn' },
  });
  try {
    const base = (await waitForOutput(grid, /Grid listening on (http:\/\/\S+)/, 60_000, 'Grid start'))[1];
    await sleep(60_000);
    const a = await newestId(base);
    const t0 = Date.now();
    await sleep(Math.max(10_000, (minutes - 1) * 60_000));
    const b = await newestId(base);
    const steadyPerDay = ((b - a) / (Date.now() - t0)) * DAY_MS;
    const mix = (await (await fetch(`${base}/events?limit=1000`)).json()).events;
    // One deploy: web v1 → v2, rolling, until every pod runs v2 and is Ready.
    const before = await newestId(base);
    const spec = fs.readFileSync(path.join(gridRoot, 'examples/demo.yaml'), 'utf8').replace('value: v1', 'value: v2');
    const res = await fetch(`${base}/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: spec });
    if (res.status !== 200) throw new Error(`/apply answered ${res.status}: ${await res.text()}`);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const pods = ((await (await fetch(`${base}/state`)).json()).pods ?? []).filter((p) => p.service === 'web');
      if (pods.length === 3 && pods.every((p) => p.version === 'v2' && p.ready)) break;
      if (Date.now() > deadline) throw new Error('the rolling update of web did not finish in 120 s');
      await sleep(500);
    }
    await sleep(3000);
    const perDeploy = (await newestId(base)) - before;
    // One crash: a web pod exits 1, Grid restarts it and it is Ready again.
    const beforeCrash = await newestId(base);
    const crashed = await fetch(`${base}/gateway/web/chaos/crash`, { method: 'POST' });
    await crashed.arrayBuffer();
    const crashDeadline = Date.now() + 60_000;
    for (;;) {
      const pods = ((await (await fetch(`${base}/state`)).json()).pods ?? []).filter((p) => p.service === 'web');
      if (pods.some((p) => p.restarts > 0) && pods.every((p) => p.ready)) break;
      if (Date.now() > crashDeadline) throw new Error('the crashed web pod was not Ready again in 60 s');
      await sleep(250);
    }
    await sleep(3000);
    const perCrash = (await newestId(base)) - beforeCrash;
    return { steadyEvents: b - a, steadyMinutes: round((Date.now() - t0) / 60_000, 2), steadyPerDay: Math.round(steadyPerDay), perDeploy, perCrash, mix };
  } finally {
    await stopProcess(grid);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function rowSizes(gridRoot, mix, rows) {
  const dist = (p) => import(pathToFileURL(path.join(gridRoot, 'dist', p)).href);
  const [{ DataSource }, { EventEmitter2 }, { SchedulerRegistry }, { databaseOptions }, { EventBus }, { FakeClock }, { MetricsService }, { EventsService }, { AuditService }, { loadConfig }, { PRUNE_BATCH }] = await Promise.all([
    import('typeorm'),
    import('@nestjs/event-emitter'),
    import('@nestjs/schedule'),
    dist('common/database/database.module.js'),
    dist('common/events/event-bus.js'),
    dist('common/clock/fake-clock.js'),
    dist('modules/metrics/metrics.service.js'),
    dist('modules/events/events.service.js'),
    dist('modules/audit/audit.service.js'),
    dist('common/config/config.js'),
    dist('modules/events/events-retention.service.js'),
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-retentiondb-'));
  const file = path.join(dir, 'grid.db');
  const ds = new DataSource(databaseOptions(dir));
  await ds.initialize();
  const db = ds.driver.databaseConnection;
  const size = () => {
    db.pragma('wal_checkpoint(TRUNCATE)');
    return fs.statSync(file).size;
  };
  try {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const bus = new EventBus(new EventEmitter2());
    const metrics = new MetricsService();
    const events = new EventsService(clock, ds, bus, metrics);
    await events.onModuleInit();
    const empty = size();
    for (let i = 0; i < rows; i++) {
      const e = mix[i % mix.length];
      events.record({ type: e.type, service: e.service, pod: e.pod, reason: e.reason, message: e.message, explain: e.explain });
      clock.advance(1000);
    }
    events.flush();
    const eventBytes = (size() - empty) / rows;

    const audit = new AuditService(clock, ds, bus, metrics, new SchedulerRegistry(), loadConfig({ GRID_DATA_DIR: dir }));
    audit.onModuleInit();
    const auditRows = Math.min(rows, 20_000);
    // Before any delete: freed pages would be reused and hide the growth.
    const beforeAudit = size();
    const entry = { actor: 'ops', actorKind: 'api-key', sourceIp: '127.0.0.1', action: 'apply', target: 'web', summary: 'web configured (generation 7, revision 4)', status: 200 };
    for (let i = 0; i < auditRows; i++) audit.record(entry);
    const auditBytes = (size() - beforeAudit) / auditRows;
    const stepMs = [];
    let first = 1;
    for (let i = 0; i < 25; i++) {
      const t0 = performance.now();
      db.prepare('DELETE FROM events WHERE id <= ?').run(first + PRUNE_BATCH - 1);
      stepMs.push(performance.now() - t0);
      first += PRUNE_BATCH;
    }

    audit.onModuleDestroy();
    events.onApplicationShutdown();
    return { eventBytes: round(eventBytes, 1), auditBytes: round(auditBytes, 1), pruneStepMs: { batch: PRUNE_BATCH, p50: round(percentile(stepMs, 50), 2), max: round(Math.max(...stepMs), 2) } };
  } finally {
    await ds.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs();
  const gridRoot = path.resolve(args.root ?? ROOT);
  const minutes = Number(args.minutes ?? 3);
  const rows = Number(args.rows ?? 100_000);
  const rates = await demoRates(gridRoot, minutes);
  const sizes = await rowSizes(gridRoot, rates.mix, rows);
  const { loadConfig } = await import(pathToFileURL(path.join(gridRoot, 'dist/common/config/config.js')).href);
  const d = loadConfig({}, gridRoot);
  const MiB = 1024 * 1024;
  const eventsCapMiB = (d.eventsRetention.maxCount * sizes.eventBytes) / MiB;
  const r = { minutes, rows, ...rates, mix: rates.mix.length, ...sizes, defaults: d.eventsRetention, podLogs: d.podLogs, eventsCapMiB: round(eventsCapMiB, 1) };
  const md = [
    '# Retention: the figures behind the defaults',
    '',
    `${gitInfo().commit ?? ''} · ${os.cpus().length} cores · the demo (web ×3, shop ×3, real processes) for ${minutes} min, the first left out`,
    '',
    mdTable(
      ['measure', 'value'],
      [
        ['events in the steady window', `${rates.steadyEvents} in ${rates.steadyMinutes} min`],
        ['events a day, steady (no changes)', String(rates.steadyPerDay)],
        ['events of one rolling update (web ×3, v1 → v2)', String(rates.perDeploy)],
        ['events of one crash and restart (a web pod exits 1)', String(rates.perCrash)],
        [`bytes per event row (${rows} rows of the demo's mix, file growth incl. indexes)`, fmt(sizes.eventBytes, 1)],
        ['bytes per audit row (an apply entry, hash-chained)', fmt(sizes.auditBytes, 1)],
        [`one retention step (${sizes.pruneStepMs.batch} rows deleted), p50 / max ms`, `${fmt(sizes.pruneStepMs.p50, 2)} / ${fmt(sizes.pruneStepMs.max, 2)}`],
        [`events at the count default (${d.eventsRetention.maxCount}) × bytes per row`, `${fmt(eventsCapMiB, 1)} MiB`],
      ],
    ),
  ].join('\n');
  const files = writeResults('retention', { ...r, git: gitInfo() }, md);
  process.stdout.write(`${md}\n\nwritten: ${files.md}\n`);
}
