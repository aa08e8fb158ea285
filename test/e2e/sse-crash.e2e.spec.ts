// Issue 15, crash consistency of /events/stream: Grid SIGKILLed right after it recorded events it
// had not yet written. No id the client received may be taken back, and a client resuming with
// Last-Event-ID must get every event the next Grid writes after it (ids of lost events included).
import Database from 'better-sqlite3';
import * as path from 'node:path';
import { applyYaml, cleanupAll, expectEventually, json, startGrid, tempDataDir, type GridHandle } from '../utils/grid.js';

interface Streamed {
  id: number | null;
  event: string;
  data: { id: number; type: string; time: number; message: string; persisted?: boolean };
}

interface Row {
  id: number;
  type: string;
  time: number;
  message: string;
}

/** Reads /events/stream until Grid ends it (or dies); `got` fills as messages arrive. */
function follow(g: GridHandle, lastEventId: number | undefined): { got: Streamed[]; done: Promise<void> } {
  const got: Streamed[] = [];
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
  const done = (async () => {
    const res = await fetch(`${g.url}/events/stream${lastEventId === undefined ? '?replay=0' : ''}`, { headers });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      buf += value;
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const lines = buf.slice(0, cut).split('\n');
        buf = buf.slice(cut + 2);
        const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
        const data = field('data');
        if (data === undefined) continue;
        const id = field('id');
        got.push({ id: id === undefined ? null : Number(id), event: field('event') ?? 'message', data: JSON.parse(data) });
      }
    }
  })().catch(() => undefined);
  return { got, done };
}

function writtenRows(dataDir: string): Map<number, Row> {
  const db = new Database(path.join(dataDir, 'grid.db'), { readonly: true, fileMustExist: true });
  try {
    return new Map((db.prepare('SELECT id, type, time, message FROM events').all() as Row[]).map((r) => [r.id, r]));
  } finally {
    db.close();
  }
}

const sim = (name: string) => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: 20
  image: local://demo@v1
`;

describe('/events/stream across a crash', () => {
  afterAll(cleanupAll);

  it('never streams an id a SIGKILL takes back, and a resumed client misses none of the next Grid\'s events', async () => {
    const dataDir = tempDataDir();
    const deadline = Date.now() + 120_000;
    let lastId: number | undefined;
    let lostCases = 0;
    for (let i = 0; lostCases < 2 && Date.now() < deadline; i++) {
      const g = await startGrid({ dataDir });
      const stream = follow(g, lastId);

      // The resume: every event this Grid's log holds after the id the client held, in order, with
      // the content the log has (the ids of events the last Grid lost are reused for new ones).
      if (lastId !== undefined) {
        const after = lastId;
        await expectEventually(async () => {
          const { body } = await json<{ events: Row[] }>(`${g.url}/events?limit=1000`);
          const want = body.events.filter((e) => e.id > after).map((e) => [e.id, e.type, e.time]);
          const got = stream.got.filter((m) => m.event === 'grid').map((m) => [m.data.id, m.data.type, m.data.time]);
          expect(got.slice(0, want.length)).toEqual(want);
          expect(stream.got.some((m) => m.event === 'reset')).toBe(false);
          return true;
        }, 15_000);
      }

      // Events recorded in this request and by the reconciler right after it; the kill follows the
      // answer at once, before the flush (10 ms behind the first of them) most of the time.
      const name = `s${i}`;
      expect((await applyYaml(g, sim(name))).status).toBe(200);
      await g.kill();
      await stream.done;

      const rows = writtenRows(dataDir);
      const streamed = stream.got.filter((m) => m.event === 'grid');
      for (const m of streamed) {
        expect(m.id).toBe(m.data.id);
        expect(rows.get(m.data.id)).toEqual({ id: m.data.id, type: m.data.type, time: m.data.time, message: m.data.message });
      }
      // The service was acknowledged (its revision is written before the answer), its spec.applied event was not: lost.
      if (![...rows.values()].some((r) => r.type === 'spec.applied' && r.message.includes(`service ${name}:`))) lostCases++;
      lastId = streamed.at(-1)?.id ?? lastId;
    }
    expect(lostCases).toBe(2);

    // The last resume, after the last lost case.
    const g = await startGrid({ dataDir });
    const stream = follow(g, lastId);
    await expectEventually(async () => {
      const { body } = await json<{ events: Row[] }>(`${g.url}/events?limit=1000`);
      const want = body.events.filter((e) => e.id > lastId!).map((e) => e.id);
      expect(stream.got.filter((m) => m.event === 'grid').map((m) => m.data.id).slice(0, want.length)).toEqual(want);
      return true;
    }, 15_000);
    await g.stop();
  }, 180_000);

  it('answers a Last-Event-ID no Grid wrote with event: reset, then the events since this Grid started', async () => {
    const dataDir = tempDataDir();
    let g = await startGrid({ dataDir });
    expect((await applyYaml(g, sim('before'))).status).toBe(200);
    await g.stop();
    const before = Math.max(...writtenRows(dataDir).keys());

    g = await startGrid({ dataDir });
    const stream = follow(g, before + 1_000_000);
    await expectEventually(() => stream.got.length > 1, 10_000);
    const { body } = await json<{ events: Row[] }>(`${g.url}/events?limit=1000`);
    const [reset, ...rest] = stream.got;
    expect(reset).toMatchObject({ id: before, event: 'reset', data: { lastEventId: before + 1_000_000, resumeAfter: before } });
    expect(rest[0].data.id).toBe(before + 1);
    const written = body.events.filter((e) => e.id > before).map((e) => e.id);
    const n = Math.min(rest.length, written.length);
    expect(rest.map((m) => m.data.id).slice(0, n)).toEqual(written.slice(0, n));
    await g.stop();
  }, 60_000);
});
