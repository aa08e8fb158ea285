// Issue 15, retention: a process pod's log rotates by size (GRID_POD_LOG_MAX_BYTES, _MAX_FILES),
// GET /pods/:id/logs reads its tail across a rotation and follows it without losing lines, and
// the logs go with the pod.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { ROTATE_CARRY_MAX } from '../../src/modules/runtime/drivers/process.driver.js';
import { applyYaml, cleanupAll, expectEventually, killRecordedPods, podsOf, startGrid, type GridHandle } from '../utils/grid.js';

const MAX_BYTES = 16 * 1024;
const MAX_FILES = 3;
// ~40 KB/s of numbered lines, one write each: a rotation about every 0.4 s (Grid checks sizes every 100 ms).
const CHATTY = `let n = 0; setInterval(() => { for (let i = 0; i < 2; i++) process.stdout.write('line ' + (n++) + ' ' + 'x'.repeat(90) + '\\n'); }, 5);`;
const SPEC = `apiVersion: v1
kind: Service
metadata: { name: chatty }
spec:
  replicas: 1
  command: ["node", "-e", ${JSON.stringify(CHATTY)}]
  terminationGracePeriodSeconds: 1
`;

/** Collects the `event: log` lines of a followed log for ms milliseconds. */
function follow(url: string, ms: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      setTimeout(() => {
        req.destroy();
        resolve([...text.matchAll(/^event: log\ndata: (.*)$/gm)].map((m) => m[1]));
      }, ms);
    });
    req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
  });
}

function numbers(lines: string[]): number[] {
  return lines.map((l) => /^line (\d+) x+$/.exec(l)).filter((m) => m !== null).map((m) => Number(m![1]));
}

/** How many numbers are missing between the first and the last, and whether any repeats or goes back. */
function gaps(ns: number[]): { missing: number; backwards: number } {
  let missing = 0;
  let backwards = 0;
  for (let i = 1; i < ns.length; i++) {
    if (ns[i] <= ns[i - 1]) backwards++;
    else missing += ns[i] - ns[i - 1] - 1;
  }
  return { missing, backwards };
}

describe('pod log rotation', () => {
  let g: GridHandle;
  afterAll(cleanupAll);

  it('rotates by size, keeps MAX_FILES files, and tail and follow read across rotations; the logs go with the pod', async () => {
    g = await startGrid({ env: { GRID_POD_LOG_MAX_BYTES: String(MAX_BYTES), GRID_POD_LOG_MAX_FILES: String(MAX_FILES) } });
    await applyYaml(g, SPEC);
    const pod = await expectEventually(async () => {
      const [p] = await podsOf(g, 'chatty');
      if (!p || p.state !== 'Running') throw new Error(`chatty: ${JSON.stringify(p)}`);
      return p;
    }, 20_000);
    const logDir = path.join(g.dataDir, 'logs');
    const file = path.join(logDir, `${pod.id}.log`);

    // Several rotations happen while the log is followed.
    const followed = numbers(await follow(`${g.url}/pods/${pod.id}/logs?follow=1`, 4500));
    expect(fs.existsSync(`${file}.1`)).toBe(true);
    expect(fs.existsSync(`${file}.2`)).toBe(true);
    expect(fs.existsSync(`${file}.3`)).toBe(false);
    // Without reading the rotated copy a follower would drop half a second (~200 lines) at each rotation;
    // copytruncate may lose what the pod writes in the instant of the truncate (at most a line or two here).
    expect(followed.length).toBeGreaterThan(500);
    expect(gaps(followed)).toEqual({ missing: expect.any(Number), backwards: 0 });
    expect(gaps(followed).missing).toBeLessThanOrEqual(4);
    for (const f of [file, `${file}.1`, `${file}.2`]) expect(fs.statSync(f).size).toBeLessThan(MAX_BYTES * 5);

    // More lines than the live file holds: the tail reaches into .1 and comes back contiguous, newest last.
    const want = 400;
    const res = await fetch(`${g.url}/pods/${pod.id}/logs?tail=${want}`);
    expect(res.status).toBe(200);
    const tail = numbers((await res.text()).split('\n'));
    expect(tail.length).toBe(want);
    expect(gaps(tail)).toEqual({ missing: expect.any(Number), backwards: 0 });
    expect(gaps(tail).missing).toBeLessThanOrEqual(2);
    expect(tail[want - 1]).toBeGreaterThanOrEqual(followed[followed.length - 1]);

    await fetch(`${g.url}/services/chatty`, { method: 'DELETE' });
    await expectEventually(() => {
      const left = fs.readdirSync(logDir).filter((n) => n.startsWith(pod.id));
      if (left.length > 0) throw new Error(`still there: ${left.join(', ')}`);
      return true;
    }, 15_000);
  }, 60_000);

  it('a pod writing ~150 MB/s: each copy stays within MAX_BYTES + the carry-over cap, and the live file is truncated every check (100 ms), not every second', async () => {
    const max = 100_000;
    // ~150 MB/s: 1.5 MB every 10 ms.
    const fast = `const b = Buffer.from(('z'.repeat(99) + '\\n').repeat(15000)); setInterval(() => process.stdout.write(b), 10);`;
    const g2 = await startGrid({ env: { GRID_POD_LOG_MAX_BYTES: String(max), GRID_POD_LOG_MAX_FILES: '2' } });
    await applyYaml(g2, SPEC.replace('chatty', 'flood').replace(JSON.stringify(CHATTY), JSON.stringify(fast)));
    const pod = await expectEventually(async () => {
      const [p] = await podsOf(g2, 'flood');
      if (!p || p.state !== 'Running') throw new Error(`flood: ${JSON.stringify(p)}`);
      return p;
    }, 20_000);
    const file = path.join(g2.dataDir, 'logs', `${pod.id}.log`);
    const size = (f: string) => fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0;
    let live = 0;
    let copy = 0;
    let dropped = 0;
    let written = 0;
    let last = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 4000) {
      const now = size(file);
      if (now < last) written += last;
      last = now;
      live = Math.max(live, now);
      copy = Math.max(copy, size(`${file}.1`));
      if (fs.readFileSync(`${file}.1`, { encoding: 'utf8', flag: fs.existsSync(`${file}.1`) ? 'r' : 'a+' }).includes('bytes dropped: the pod wrote faster')) dropped++;
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(`flood: ~${(written / 4 / 2 ** 20).toFixed(0)} MiB/s seen, largest live file ${(live / 2 ** 20).toFixed(1)} MiB, largest copy ${copy} bytes, ${dropped} samples with a drop marker`);
    expect(copy).toBeGreaterThan(0);
    expect(copy).toBeLessThanOrEqual(max + ROTATE_CARRY_MAX + 200);
    // A second of this pod's output is ~150 MB; a check every 100 ms holds a tenth of it (loose: the machine is shared).
    expect(live).toBeLessThan(100 * 2 ** 20);
    await g2.stop();
  }, 60_000);

  it('removes the logs of pods that went while Grid was down, and of no pod at all, when it starts again', async () => {
    const first = await startGrid({ env: { GRID_POD_LOG_MAX_BYTES: String(MAX_BYTES) } });
    await applyYaml(first, SPEC);
    const gone = await expectEventually(async () => {
      const [p] = await podsOf(first, 'chatty');
      if (!p || p.state !== 'Running') throw new Error(`chatty: ${JSON.stringify(p)}`);
      return p;
    }, 20_000);
    const logDir = path.join(first.dataDir, 'logs');
    await expectEventually(() => fs.existsSync(path.join(logDir, `${gone.id}.log.1`)), 10_000);
    // Grid dies, then its pod: the next Grid finds no process to adopt.
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));
    expect(killRecordedPods(first.dataDir).length).toBe(1);
    fs.writeFileSync(path.join(logDir, 'ghost-abcde.log.2'), 'a pod no record knows\n');
    fs.writeFileSync(path.join(logDir, 'notes.txt'), 'not a log of Grid\n');

    const second = await startGrid({ dataDir: first.dataDir, env: { GRID_POD_LOG_MAX_BYTES: String(MAX_BYTES) } });
    const next = await expectEventually(async () => {
      const [p] = await podsOf(second, 'chatty');
      if (!p || p.id === gone.id || p.state !== 'Running') throw new Error(`chatty: ${JSON.stringify(p)}`);
      return p;
    }, 20_000);
    const left = fs.readdirSync(logDir).sort();
    expect(left.filter((n) => !n.startsWith(next.id))).toEqual(['notes.txt']);
    expect(left).toContain(`${next.id}.log`);
  }, 60_000);
});
