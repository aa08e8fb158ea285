import Database from 'better-sqlite3';
import * as path from 'node:path';
import { openTestStore, removeStore, type TestStore } from '../../../test/utils/database.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { AuditService } from './audit.service.js';
import type { AuditDraft } from './hash-chain.js';

const LOCK = `CREATE TRIGGER audit_lock BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'locked by test'); END`;

describe(AuditService.name, () => {
  let store: TestStore;
  let sut: AuditService;
  /** A second connection to the same file: changes made from outside Grid. */
  let outside: Database.Database;

  async function open(): Promise<AuditService> {
    const s = new AuditService(store.clock, store.ds, store.bus, store.metrics);
    s.onModuleInit();
    return s;
  }

  beforeEach(async () => {
    store = await openTestStore();
    sut = await open();
    outside = new Database(path.join(store.dir, 'grid.db'));
  });
  afterEach(async () => {
    outside.close();
    await store.close();
    removeStore(store.dir);
  });

  const entry = (i: number, over: Partial<AuditDraft> = {}) =>
    sut.record({ actor: i % 2 ? 'ops' : 'ana', actorKind: 'api-key', sourceIp: '127.0.0.1', action: i % 3 ? 'apply' : 'scale', target: `svc${i}`, summary: `#${i}`, status: 200, ...over });

  const failures = async (stage: string) =>
    (await store.metrics.registry.getSingleMetric('grid_audit_write_failures_total')!.get()).values.find((v) => v.labels.stage === stage)!.value;

  it('chains entries in the order they are recorded, with the clock time', () => {
    const a = entry(1);
    store.clock.advance(5);
    const b = entry(2);
    expect(a).toMatchObject({ id: 1, time: Date.UTC(2026, 0, 1), actor: 'ops', summary: '#1' });
    expect(b).toMatchObject({ id: 2, prevHash: a!.hash, time: Date.UTC(2026, 0, 1) + 5 });
    expect(sut.verify()).toEqual({ ok: true, checked: 2 });
  });

  it('pages newest first with a cursor, and filters by actor, action, target and time', () => {
    for (let i = 1; i <= 12; i++) (entry(i), store.clock.advance(1000));
    const first = sut.query({ limit: 5 });
    expect(first.entries.map((e) => e.id)).toEqual([12, 11, 10, 9, 8]);
    const second = sut.query({ limit: 5, cursor: first.nextCursor! });
    expect(second.entries.map((e) => e.id)).toEqual([7, 6, 5, 4, 3]);
    const last = sut.query({ limit: 5, cursor: second.nextCursor! });
    expect(last).toEqual({ entries: [expect.objectContaining({ id: 2 }), expect.objectContaining({ id: 1 })], nextCursor: null });

    expect(sut.query({ limit: 100, actor: 'ana', action: 'scale' }).entries.map((e) => e.id)).toEqual([12, 6]);
    expect(sut.query({ limit: 100, target: 'svc4' }).entries.map((e) => e.id)).toEqual([4]);
    expect(sut.query({ limit: 100, since: Date.UTC(2026, 0, 1) + 10_000 }).entries.map((e) => e.id)).toEqual([12, 11]);
  });

  it('continues the chain after a restart', async () => {
    entry(1);
    entry(2);
    const again = await open();
    const c = again.record({ actor: 'ops', actorKind: 'user', sourceIp: null, action: 'apply', target: null, summary: '', status: 200 });
    expect(c).toMatchObject({ id: 3 });
    expect(again.verify()).toEqual({ ok: true, checked: 3 });
  });

  it('names a row changed in the file, and a removed one', () => {
    for (let i = 1; i <= 5; i++) entry(i);
    outside.prepare(`UPDATE audit_log SET summary = 'nothing to see' WHERE id = 3`).run();
    expect(sut.verify()).toMatchObject({ ok: false, checked: 2, firstBroken: { id: 3, reason: 'altered' } });

    outside.prepare(`DELETE FROM audit_log WHERE id = 3`).run();
    expect(sut.verify()).toMatchObject({ ok: false, checked: 2, firstBroken: { id: 3, reason: 'removed' } });
  });

  it('names the newest row removed while Grid runs', () => {
    for (let i = 1; i <= 3; i++) entry(i);
    outside.prepare(`DELETE FROM audit_log WHERE id = 3`).run();
    expect(sut.verify()).toMatchObject({ ok: false, firstBroken: { id: 3, reason: 'removed' } });
  });

  it('refuses (503, saying why) when the table refuses writes, and the probe leaves no row', async () => {
    entry(1);
    expect(() => sut.checkWritable()).not.toThrow();
    outside.exec(LOCK);

    let thrown: unknown;
    try {
      sut.checkWritable();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GridException);
    expect(thrown).toMatchObject({ code: GridErrorCode.Unavailable, message: expect.stringMatching(/audit log cannot be written \(locked by test\)/) });
    expect(await failures('preflight')).toBe(1);
    expect(outside.prepare('SELECT COUNT(*) AS n FROM audit_log').get()).toEqual({ n: 1 });
  });

  it('keeps an entry it could not append, refuses mutations until it lands, then writes it in order', async () => {
    entry(1);
    outside.exec(LOCK);
    expect(entry(2)).toBeUndefined();
    expect(await failures('append')).toBe(1);
    expect(() => sut.checkWritable()).toThrow(/1 earlier entries are still unwritten \(locked by test\)/);

    outside.exec('DROP TRIGGER audit_lock');
    expect(() => sut.checkWritable()).not.toThrow();
    expect(entry(3)).toMatchObject({ id: 3, summary: '#3' });
    expect(sut.query({ limit: 10 }).entries.map((e) => e.summary)).toEqual(['#3', '#2', '#1']);
    expect(sut.verify()).toEqual({ ok: true, checked: 3 });
  });

  it.each([
    ['rollout.aborted', 'AnalysisFailed', 'canary v2 5xx 40.0% > 5.0% over 2 failed intervals (failureLimit 2), 80 requests', true],
    ['autoscale.scaled', 'ScaledUp', 'replicas 2 → 4 (average CPU 91.5%)', true],
    ['failover.switched', 'ActiveFailed', 'recorded as an event, audited from the bus below', false],
    ['pod.started', 'Started', 'pod api-1 started', false],
  ])('audits the automatic decision %s as grid (system) with its numbers: %s', (type, reason, message, audited) => {
    store.events.record({ type, service: 'api', reason, message, explain: 'because' });
    const got = sut.query({ limit: 10 }).entries;
    if (!audited) return expect(got).toEqual([]);
    expect(got).toEqual([expect.objectContaining({ actor: 'grid', actorKind: 'system', action: type, target: 'api', summary: `${reason}: ${message}`, status: null, sourceIp: null })]);
  });

  it.each([
    [true, 1],
    [false, 0],
  ])('audits a failover switch from the bus only when automatic (%s): a manual one is its POST', (automatic, entries) => {
    store.bus.emit('failover.switched', { group: 'shop', from: 'v1', to: 'v2', automatic, reason: 'ActiveFailed: 3 failed checks in a row (threshold 3), last latency 812 ms > 500 ms' });
    const got = sut.query({ limit: 10 }).entries;
    expect(got).toHaveLength(entries);
    if (entries) expect(got[0]).toMatchObject({ actor: 'grid', actorKind: 'system', action: 'failover.switched', target: 'shop', summary: 'v1 → v2: ActiveFailed: 3 failed checks in a row (threshold 3), last latency 812 ms > 500 ms', status: null });
  });

  it('names a proven user refused a route (403) as the actor', () => {
    store.bus.emit('auth.refused', { ip: '10.0.0.9', actor: 'vera', method: 'POST', url: '/apply', status: 403, reason: 'viewer may not change state' });
    expect(sut.query({ limit: 1 }).entries[0]).toMatchObject({ actor: 'vera', actorKind: 'user', status: 403 });
  });

  it('audits a refused request from the bus, without its query string', () => {
    store.bus.emit('auth.refused', { ip: '10.0.0.9', actor: 'ana', method: 'POST', url: '/apply?token=abc', status: 429, reason: 'too many failed logins' });
    expect(sut.query({ limit: 10 }).entries).toEqual([
      expect.objectContaining({ actor: 'anonymous', actorKind: 'anonymous', sourceIp: '10.0.0.9', action: 'auth.refused', target: '/apply', summary: 'POST /apply: too many failed logins (claimed user ana)', status: 429 }),
    ]);
  });
});
