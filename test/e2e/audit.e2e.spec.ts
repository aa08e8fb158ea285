// The audit trail end to end: the real Grid, its real SQLite file changed from outside.
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyYaml, cleanupAll, expectEventually, json, readyPods, startGrid, type GridHandle } from '../utils/grid.js';
import type { AuditEntry } from '../../src/common/api/types.js';

const sim = (name: string, version = 'v1', extra = '') => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec:\n  replicas: 1\n  image: "local://${name}@${version}"\n${extra}`;
const CANARY = '  rollout: {strategy: Canary, steps: [{setWeight: 50}, {pause: {}}]}\n';
const LOCK = `CREATE TRIGGER audit_lock BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'locked by test'); END`;

/** The API's entry plus the chain fields the test reads. */
interface Entry extends AuditEntry {
  prevHash: string;
  hash: string;
}

async function entries(g: GridHandle, query = 'limit=500'): Promise<Entry[]> {
  const r = await json(`${g.url}/audit?${query}`);
  expect(r.status).toBe(200);
  return r.body.entries;
}

const post = (g: GridHandle, p: string) => json(`${g.url}${p}`, { method: 'POST' });

/** The Grid's own database file, opened beside it as an intruder would. */
function openFile(g: GridHandle): Database.Database {
  return new Database(path.join(g.dataDir, 'grid.db'), { fileMustExist: true });
}

describe('audit trail', () => {
  afterAll(cleanupAll);

  describe('what mutating requests leave', () => {
    let g: GridHandle;
    beforeAll(async () => {
      g = await startGrid({ env: { GRID_SIM_START_DELAY_MS: '50' } });
    });

    it('leaves one entry per request with action, target, summary, actor, source IP and the answered status', async () => {
      const made: { action: string; target: string | null; status: number; summary: string | RegExp }[] = [];
      const expectLast = async (m: (typeof made)[number]) => {
        made.push(m);
        const [last] = await entries(g, 'limit=1');
        expect(last).toMatchObject({ actor: 'anonymous', actorKind: 'anonymous', sourceIp: expect.stringMatching(/127\.0\.0\.1$/), action: m.action, target: m.target, status: m.status });
        expect(last.summary).toMatch(m.summary);
      };

      expect((await applyYaml(g, sim('web'))).status).toBe(200);
      await expectLast({ action: 'apply', target: 'web', status: 200, summary: 'web created' });

      const bad = await applyYaml(g, sim('x', 'v1', '  replicas: 1001\n').replace('  replicas: 1\n', ''));
      expect(bad.status).toBe(400);
      await expectLast({ action: 'apply', target: null, status: 400, summary: 'invalid: spec.replicas' });

      expect((await post(g, '/scale?service=web&delta=1')).status).toBe(200);
      await expectLast({ action: 'scale', target: 'web', status: 200, summary: 'service=web delta=1' });
      expect((await post(g, '/scale?service=nope&delta=1')).status).toBe(404);
      await expectLast({ action: 'scale', target: 'nope', status: 404, summary: 'service=nope delta=1' });

      await expectEventually(() => readyPods(g, 'web', 2));
      expect((await post(g, '/chaos/kill?service=web&count=1')).status).toBe(200);
      await expectLast({ action: 'chaos.kill', target: 'web', status: 200, summary: 'service=web count=1' });

      expect((await applyYaml(g, sim('ro', 'v1', CANARY))).status).toBe(200);
      await expectLast({ action: 'apply', target: 'ro', status: 200, summary: 'ro created' });
      expect((await post(g, '/services/ro/rollout/promote')).status).toBe(409);
      await expectLast({ action: 'rollout.promote', target: 'ro', status: 409, summary: '' });
      await expectEventually(() => readyPods(g, 'ro', 1));
      expect((await applyYaml(g, sim('ro', 'v2', CANARY))).status).toBe(200);
      await expectLast({ action: 'apply', target: 'ro', status: 200, summary: 'ro configured' });
      await expectEventually(async () => (await json(`${g.url}/services/ro/rollout`)).body.pauseReason === 'Step', 15000);
      expect((await post(g, '/services/ro/rollout/promote?full=true')).status).toBe(200);
      await expectLast({ action: 'rollout.promote', target: 'ro', status: 200, summary: 'full=true' });

      expect((await json(`${g.url}/services/web`, { method: 'DELETE' })).status).toBe(200);
      await expectLast({ action: 'service.delete', target: 'web', status: 200, summary: '' });

      // One entry per request, no more, newest first, in a chain that verifies.
      const all = await entries(g);
      expect(all.map((e) => [e.action, e.target, e.status])).toEqual(made.reverse().map((m) => [m.action, m.target, m.status]));
      expect(all.map((e) => e.id)).toEqual(all.map((_, i) => all.length - i));
      expect((await json(`${g.url}/audit/verify`)).body).toEqual({ ok: true, checked: all.length, head: { id: all[0].id, hash: all[0].hash } });
    });

    it('leaves nothing for reads', async () => {
      const before = (await entries(g)).length;
      for (const p of ['/services', '/state', '/events', '/audit', '/audit/verify']) expect((await json(`${g.url}${p}`)).status).toBe(200);
      expect((await entries(g)).length).toBe(before);
    });

    it('pages newest first through nextCursor, and filters', async () => {
      const all = await entries(g);
      const seen: number[] = [];
      let cursor: number | null = null;
      do {
        const r: { status: number; body: { entries: Entry[]; nextCursor: number | null } } = await json(`${g.url}/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(r.body.entries.length).toBeLessThanOrEqual(2);
        seen.push(...r.body.entries.map((e) => e.id));
        cursor = r.body.nextCursor;
      } while (cursor !== null);
      expect(seen).toEqual(all.map((e) => e.id));
      expect((await entries(g, 'action=apply&target=ro')).map((e) => e.summary)).toEqual(['ro configured', 'ro created']);
      expect(await entries(g, 'actor=someone-else')).toEqual([]);
      expect(await entries(g, `since=${all[0].time + 1}`)).toEqual([]);
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['cursor=abc', 'cursor'],
      ['action=Bad!', 'action'],
      ['since=yesterday', 'since'],
      ['actor=a&actor=b', 'actor'],
    ])('answers %s with 400 naming %s', async (query, param) => {
      const r = await json(`${g.url}/audit?${query}`);
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(new RegExp(`^${param}: `));
    });
  });

  describe('refused requests', () => {
    const KEY = 'audit-e2e-key-0123456789';
    let g: GridHandle;
    beforeAll(async () => {
      g = await startGrid({ env: { GRID_API_KEYS: `ci:${KEY}` } });
    });

    it('one client refused 300 times with a 10 KB path leaves at most ~25 clipped rows, not 300 × 10 KB', async () => {
      /** The database file's size with the write-ahead log folded in (the log itself is reused, not grown, after a checkpoint). */
      const files = () => {
        const db = openFile(g);
        try {
          db.pragma('wal_checkpoint(TRUNCATE)');
        } finally {
          db.close();
        }
        return fs.statSync(path.join(g.dataDir, 'grid.db')).size;
      };
      const path10k = `/broadcast/x/${'A'.repeat(10_000)}`;
      const before = files();
      for (let round = 0; round < 30; round++) {
        const statuses = await Promise.all(Array.from({ length: 10 }, () => fetch(`${g.url}${path10k}`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${'B'.repeat(2000)}:x`).toString('base64')}` } }).then((r) => r.status)));
        for (const s of statuses) expect([401, 429]).toContain(s);
      }
      const rows = (await json(`${g.url}/audit?action=auth.refused&limit=500`, { headers: { 'x-api-key': KEY } })).body.entries as Entry[];
      expect(rows.length).toBeGreaterThanOrEqual(20);
      expect(rows.length).toBeLessThanOrEqual(25);
      for (const r of rows) {
        expect(r.target!.length).toBeLessThanOrEqual(100);
        expect(r.summary.length).toBeLessThanOrEqual(500);
        expect(r.summary).toMatch(/^POST \/broadcast\/x\/A+…: .*( \(claimed user B+…\))?$/);
      }
      expect(files() - before).toBeLessThan((300 * 10_000) / 10);
      expect((await json(`${g.url}/audit/verify`, { headers: { 'x-api-key': KEY } })).body).toMatchObject({ ok: true });
    });
  });

  describe('tampering and failing closed', () => {
    let g: GridHandle;
    let db: Database.Database;
    beforeAll(async () => {
      g = await startGrid();
      db = openFile(g);
    });
    afterAll(() => db?.close());

    it('refuses a mutation with 503 when the audit table refuses writes; nothing changes and reads still work', async () => {
      expect((await applyYaml(g, sim('before'))).status).toBe(200);
      db.exec(LOCK);
      try {
        const r = await applyYaml(g, sim('locked'));
        expect(r.status).toBe(503);
        expect(r.body.message).toMatch(/audit log cannot be written \(locked by test\); the request was not carried out/);
        expect((await json(`${g.url}/services/locked`)).status).toBe(404);
        expect((await json(`${g.url}/services/before`)).status).toBe(200);
        expect((await json(`${g.url}/services`, { method: 'GET' })).body.services.map((s: { name: string }) => s.name)).toEqual(['before']);
        expect((await json(`${g.url}/services/before`, { method: 'DELETE' })).status).toBe(503);
        expect((await json(`${g.url}/services/before`)).status).toBe(200);
        expect((await entries(g)).map((e) => e.target)).toEqual(['before']);
        expect(await (await fetch(`${g.url}/metrics`)).text()).toMatch(/^grid_audit_write_failures_total\{stage="preflight"\} 2$/m);
      } finally {
        db.exec('DROP TRIGGER IF EXISTS audit_lock');
      }
      expect((await applyYaml(g, sim('after'))).status).toBe(200);
      expect((await entries(g)).map((e) => e.target)).toEqual(['after', 'before']);
      expect((await json(`${g.url}/audit/verify`)).body).toMatchObject({ ok: true, checked: 2 });
    });

    it('names a row edited in the database file, then a row deleted from it', async () => {
      for (const name of ['t1', 't2', 't3']) expect((await applyYaml(g, sim(name))).status).toBe(200);
      const [newest] = await entries(g, 'limit=1');
      const victim = newest.id - 1;
      const original = db.prepare('SELECT summary FROM audit_log WHERE id = ?').get(victim) as { summary: string };
      db.prepare(`UPDATE audit_log SET summary = 'nothing happened' WHERE id = ?`).run(victim);
      const edited = (await json(`${g.url}/audit/verify`)).body;
      expect(edited).toMatchObject({ ok: false, firstBroken: { id: victim, reason: 'altered' } });
      expect(edited.firstBroken.detail).toContain(String(victim));

      db.prepare('UPDATE audit_log SET summary = ? WHERE id = ?').run(original.summary, victim);
      expect((await json(`${g.url}/audit/verify`)).body.ok).toBe(true);

      db.prepare('DELETE FROM audit_log WHERE id = ?').run(victim);
      expect((await json(`${g.url}/audit/verify`)).body).toMatchObject({ ok: false, firstBroken: { id: victim, reason: 'removed' } });
    });
  });
});
