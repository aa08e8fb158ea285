// The cost of the audit trail on /apply (issue 10's target: < 10% added latency).
//
//   node bench/audit-cost.js [--n=500] [--root=DIR]      (or npm run bench -- audit-cost)
//   import { measureAuditCost } from './audit-cost.js'    (from the failover bench)
//
// Grid has no switch that turns audit off (one would be a way around it), so the cost is
// measured in two honest parts in one run:
//  1. /apply latency over HTTP against the real Grid (sim runtime), audit included: the same
//     spec applied n times, answered `unchanged`. That is the cheapest /apply there is, so the
//     audit's share of it is the largest (a worst case).
//  2. The audit's own work per mutating request, timed in-process on a Grid database file of
//     the same build and settings (WAL, synchronous=NORMAL): the pre-flight probe
//     (checkWritable) plus the append (record) of an entry the size of an apply's.
// added = audit / (apply - audit): what /apply would take longer than without the audit.
import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fmt, gitInfo, mdTable, parseArgs, percentile, ROOT, round, startProcess, stopProcess, waitForOutput, writeResults } from './lib.js';

const SPEC = 'apiVersion: v1\nkind: Service\nmetadata: {name: audit-bench}\nspec: {replicas: 1, image: "local://audit-bench@v1"}\n';

async function apply(base) {
  const res = await fetch(`${base}/apply`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: SPEC });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`/apply answered ${res.status}`);
}

async function applyLatencies(gridRoot, n) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-audit-'));
  const grid = startProcess('grid', process.execPath, [path.join(gridRoot, 'dist/main.js')], {
    cwd: gridRoot,
    env: { ...process.env, GRID_PORT: '0', GRID_DATA_DIR: dataDir, GRID_LOG_LEVEL: 'warn' },
  });
  try {
    const base = (await waitForOutput(grid, /Grid listening on (http:\/\/\S+)/, 30_000, 'Grid start'))[1];
    for (let i = 0; i < 50; i++) await apply(base);
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await apply(base);
      ms.push(performance.now() - t0);
    }
    const audited = (await (await fetch(`${base}/audit?action=apply&limit=500`)).json()).entries.length;
    return { ms, audited };
  } finally {
    await stopProcess(grid);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function auditWork(gridRoot, n) {
  const dist = (p) => import(pathToFileURL(path.join(gridRoot, 'dist', p)).href);
  const [{ DataSource }, { EventEmitter2 }, { SchedulerRegistry }, { databaseOptions }, { EventBus }, { systemClock }, { MetricsService }, { AuditService }, { loadConfig }] = await Promise.all([
    import('typeorm'),
    import('@nestjs/event-emitter'),
    import('@nestjs/schedule'),
    dist('common/database/database.module.js'),
    dist('common/events/event-bus.js'),
    dist('common/clock/clock.js'),
    dist('modules/metrics/metrics.service.js'),
    dist('modules/audit/audit.service.js'),
    dist('common/config/config.js'),
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-bench-auditdb-'));
  const ds = new DataSource(databaseOptions(dir));
  await ds.initialize();
  try {
    const scheduler = new SchedulerRegistry();
    const audit = new AuditService(systemClock, ds, new EventBus(new EventEmitter2()), new MetricsService(), scheduler, loadConfig({ GRID_DATA_DIR: dir }));
    audit.onModuleInit();
    const entry = { actor: 'ops', actorKind: 'api-key', sourceIp: '127.0.0.1', action: 'apply', target: 'audit-bench', summary: 'audit-bench unchanged', status: 200 };
    const us = [];
    for (let i = 0; i < n + 200; i++) {
      const t0 = performance.now();
      audit.checkWritable();
      audit.record(entry);
      if (i >= 200) us.push((performance.now() - t0) * 1000);
    }
    if (!(await audit.verify()).ok) throw new Error('the chain written by the bench does not verify');
    audit.onModuleDestroy();
    return us;
  } finally {
    await ds.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Measures /apply with audit and the audit's own work per request; returns milliseconds
 * and microseconds at p50/p99, and the added latency in percent at p50 (target < 10).
 */
export async function measureAuditCost({ n = 500, gridRoot = ROOT } = {}) {
  const { ms, audited } = await applyLatencies(gridRoot, n);
  const us = await auditWork(gridRoot, n);
  const applyP50 = percentile(ms, 50);
  const auditP50Ms = percentile(us, 50) / 1000;
  return {
    n,
    applyMs: { p50: round(applyP50, 3), p99: round(percentile(ms, 99), 3) },
    auditUs: { p50: round(percentile(us, 50), 1), p99: round(percentile(us, 99), 1) },
    addedPct: round((auditP50Ms / (applyP50 - auditP50Ms)) * 100, 2),
    auditedApplies: audited,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs();
  const gridRoot = path.resolve(args.root ?? ROOT);
  const r = await measureAuditCost({ n: Number(args.n ?? 500), gridRoot });
  const verdict = r.addedPct < 10 ? 'PASS' : 'FAIL';
  const md = [
    '# Audit cost on /apply',
    '',
    `${gitInfo().commit ?? ''} · ${os.cpus().length} cores · n = ${r.n} sequential applies (answered unchanged: the cheapest /apply, so the audit's largest share)`,
    '',
    mdTable(
      ['measure', 'p50', 'p99'],
      [
        ['/apply over HTTP, audit included (ms)', fmt(r.applyMs.p50, 3), fmt(r.applyMs.p99, 3)],
        ['audit work per request: pre-flight probe + append (µs)', fmt(r.auditUs.p50, 1), fmt(r.auditUs.p99, 1)],
      ],
    ),
    '',
    `Added latency at p50: **${r.addedPct}%** (target < 10%): ${verdict}. Grid cannot run without audit, so the audit's work is timed in-process on a database of the same build and settings, and set against the /apply latency measured over HTTP.`,
  ].join('\n');
  const files = writeResults('audit-cost', { ...r, git: gitInfo(), verdict }, md);
  process.stdout.write(`${md}\n\nwritten: ${files.md}\n`);
}
