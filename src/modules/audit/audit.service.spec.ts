import { SchedulerRegistry } from '@nestjs/schedule';
import Database from 'better-sqlite3';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestStore, removeStore, type TestStore } from '../../../test/utils/database.js';
import { loadConfig } from '../../common/config/config.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { FIELD_MAX, SUMMARY_MAX } from './audit-request.js';
import { AuditService, VERIFY_CHUNK } from './audit.service.js';
import type { AuditDraft } from './hash-chain.js';
import { REFUSAL_LIMITS } from './refusal-limit.js';

const LOCK = `CREATE TRIGGER audit_lock BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'locked by test'); END`;

describe(AuditService.name, () => {
  let store: TestStore;
  let sut: AuditService;
  /** A second connection to the same file: changes made from outside Grid. */
  let outside: Database.Database;

  const opened: AuditService[] = [];
  async function open(): Promise<AuditService> {
    const s = new AuditService(store.clock, store.ds, store.bus, store.metrics, new SchedulerRegistry(), loadConfig({}, os.tmpdir()), store.storage);
    s.onModuleInit();
    opened.push(s);
    return s;
  }

  beforeEach(async () => {
    store = await openTestStore();
    sut = await open();
    outside = new Database(path.join(store.dir, 'grid.db'));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) s.onModuleDestroy();
    outside.close();
    await store.close();
    removeStore(store.dir);
  });

  const entry = (i: number, over: Partial<AuditDraft> = {}) =>
    sut.record({ actor: i % 2 ? 'ops' : 'ana', actorKind: 'api-key', sourceIp: '127.0.0.1', action: i % 3 ? 'apply' : 'scale', target: `svc${i}`, summary: `#${i}`, status: 200, ...over });

  const failures = async (stage: string) =>
    (await store.metrics.registry.getSingleMetric('grid_audit_write_failures_total')!.get()).values.find((v) => v.labels.stage === stage)!.value;

  it('chains entries in the order they are recorded, with the clock time', async () => {
    const a = entry(1);
    store.clock.advance(5);
    const b = entry(2);
    expect(a).toMatchObject({ id: 1, time: Date.UTC(2026, 0, 1), actor: 'ops', summary: '#1' });
    expect(b).toMatchObject({ id: 2, prevHash: a!.hash, time: Date.UTC(2026, 0, 1) + 5 });
    expect(await sut.verify()).toEqual({ ok: true, checked: 2 });
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
    expect(await again.verify()).toEqual({ ok: true, checked: 3 });
  });

  it('names a row changed in the file, and a removed one', async () => {
    for (let i = 1; i <= 5; i++) entry(i);
    outside.prepare(`UPDATE audit_log SET summary = 'nothing to see' WHERE id = 3`).run();
    expect(await sut.verify()).toMatchObject({ ok: false, checked: 2, firstBroken: { id: 3, reason: 'altered' } });

    outside.prepare(`DELETE FROM audit_log WHERE id = 3`).run();
    expect(await sut.verify()).toMatchObject({ ok: false, checked: 2, firstBroken: { id: 3, reason: 'removed' } });
  });

  it('names the newest row removed while Grid runs', async () => {
    for (let i = 1; i <= 3; i++) entry(i);
    outside.prepare(`DELETE FROM audit_log WHERE id = 3`).run();
    expect(await sut.verify()).toMatchObject({ ok: false, firstBroken: { id: 3, reason: 'removed' } });
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
    expect(await sut.verify()).toEqual({ ok: true, checked: 3 });
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

  describe('refusals', () => {
    const refuse = (over: Partial<{ ip: string; actor: string | null; url: string; status: 401 | 403 | 429; reason: string }> = {}) =>
      store.bus.emit('auth.refused', { ip: '10.0.0.9', actor: null, method: 'POST', url: '/apply', status: 401, reason: 'credentials required', ...over });
    const refusals = () => sut.query({ limit: 500, action: 'auth.refused' }).entries.reverse();

    it('clips what the request brought: path, claimed name and reason', () => {
      const path = `/broadcast/x/${'A'.repeat(15_000)}`;
      refuse({ url: `${path}?token=${'t'.repeat(5000)}`, actor: 'B'.repeat(15_000), reason: `because ${'R'.repeat(15_000)}` });
      refuse({ status: 403, actor: 'C'.repeat(15_000), url: path });
      const [anon, user] = refusals();
      expect(anon.target).toBe(`${path.slice(0, FIELD_MAX - 1)}…`);
      expect(anon.summary).toBe(`POST ${path.slice(0, FIELD_MAX - 1)}…: because ${'R'.repeat(2 * FIELD_MAX - 9)}… (claimed user ${'B'.repeat(FIELD_MAX - 1)}…)`);
      expect(anon.summary.length).toBeLessThanOrEqual(SUMMARY_MAX);
      expect(user).toMatchObject({ actor: `${'C'.repeat(FIELD_MAX - 1)}…`, actorKind: 'user', target: anon.target });
    });

    it('records a window of refusals from one address one by one, then writes what it counted as one row', () => {
      const n = REFUSAL_LIMITS.perWindow;
      for (let i = 0; i < n + 30; i++) refuse({ status: i % 3 ? 401 : 429 });
      refuse({ ip: '10.0.0.10' });
      expect(refusals().map((e) => e.sourceIp)).toEqual([...Array(n).fill('10.0.0.9'), '10.0.0.10']);

      store.clock.advance(REFUSAL_LIMITS.windowMs - 1);
      sut.writeRefusalTallies();
      expect(refusals()).toHaveLength(n + 1);
      store.clock.advance(1);
      sut.writeRefusalTallies();
      const counted = [...Array(n + 30).keys()].slice(n);
      const c429 = counted.filter((i) => i % 3 === 0).length;
      expect(refusals()[n + 1]).toMatchObject({
        actor: 'anonymous',
        sourceIp: '10.0.0.9',
        target: null,
        status: null,
        summary: `… and 30 more refusals from 10.0.0.9 in the 60 s from 2026-01-01T00:00:00.000Z (401: ${30 - c429}, 429: ${c429})`,
      });
      sut.writeRefusalTallies();
      refuse();
      expect(refusals()).toHaveLength(n + 3);
    });

    it('writes the tally before the first refusal after the window, and what is still counted when Grid stops', async () => {
      for (let i = 0; i < REFUSAL_LIMITS.perWindow + 2; i++) refuse();
      store.clock.advance(REFUSAL_LIMITS.windowMs);
      refuse({ reason: 'next window' });
      expect(refusals().slice(-2).map((e) => e.summary)).toEqual([expect.stringMatching(/^… and 2 more refusals from 10\.0\.0\.9 .*\(401: 2\)$/), 'POST /apply: next window']);

      // The new window's first refusal above took one of its rows.
      for (let i = 0; i < REFUSAL_LIMITS.perWindow + 4; i++) refuse({ status: 429 });
      sut.onModuleDestroy();
      expect(refusals().at(-1)!.summary).toMatch(/^… and 5 more refusals .*\(429: 5\)$/);
      expect(await sut.verify()).toMatchObject({ ok: true });
    });
  });

  describe('verify', () => {
    const fill = (n: number) => {
      for (let i = 1; i <= n; i++) entry(i);
    };

    it('finds a broken link in a later chunk of a table larger than one chunk', async () => {
      fill(2 * VERIFY_CHUNK + 500);
      expect(await sut.verify()).toEqual({ ok: true, checked: 2 * VERIFY_CHUNK + 500 });
      const victim = 2 * VERIFY_CHUNK + 321;
      outside.prepare(`UPDATE audit_log SET status = 500 WHERE id = ?`).run(victim);
      expect(await sut.verify()).toMatchObject({ ok: false, checked: victim - 1, firstBroken: { id: victim, reason: 'altered' } });
      outside.prepare(`DELETE FROM audit_log WHERE id >= ?`).run(VERIFY_CHUNK + 1);
      expect(await sut.verify()).toMatchObject({ ok: false, checked: VERIFY_CHUNK, firstBroken: { id: VERIFY_CHUNK + 1, reason: 'removed' } });
    });

    it.each([[7], [8], [9], [10], [11]])('pages exactly at a chunk boundary (%s rows, chunks of 3)', async (rows) => {
      fill(rows);
      expect(await sut.verify(3)).toEqual({ ok: true, checked: rows });
      outside.prepare(`DELETE FROM audit_log WHERE id = ?`).run(rows);
      expect(await sut.verify(3)).toMatchObject({ ok: false, firstBroken: { id: rows, reason: 'removed' } });
    });

    it('lets other work run between chunks, and reads entries appended meanwhile', async () => {
      fill(10);
      const order: string[] = [];
      const done = sut.verify(3).then((v) => (order.push('verified'), v));
      setImmediate(() => (order.push('appended'), entry(11)));
      expect(await done).toEqual({ ok: true, checked: 11 });
      expect(order).toEqual(['appended', 'verified']);
    });
  });
});
