// Issue 15, retention: followers of a chatty pod's log that never read cannot grow Grid's memory
// or stall it. Grid stops reading the log for a follower whose socket is full, cuts one that takes
// nothing for GRID_CLIENT_SEND_TIMEOUT_MS, admits 4 follows per client address, and tells a reader
// that fell behind a rotation how many bytes it missed (event: skipped).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { applyYaml, cleanupAll, expectEventually, podsOf, startGrid, type GridHandle } from '../utils/grid.js';

const SEND_TIMEOUT_MS = 6000;
// ~3 MB/s of numbered lines: a reader at Grid's follow rate falls behind, so rotations outrun it.
const CHATTY = `let n = 0; setInterval(() => { let s = ''; for (let i = 0; i < 300; i++) s += 'line ' + (n++) + ' ' + 'x'.repeat(90) + '\\n'; process.stdout.write(s); }, 10);`;
const SPEC = `apiVersion: v1
kind: Service
metadata: { name: chatty }
spec:
  replicas: 1
  command: ["node", "-e", ${JSON.stringify(CHATTY)}]
  terminationGracePeriodSeconds: 1
`;
/** Non-reading followers: 5 client addresses × the 4 each may have. */
const ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
const PER_ADDRESS = 4;
/** Grid's RSS may grow by this much over its baseline with every stalled follower open (each holds at most ~0.6 MiB; see the README). */
const RSS_BOUND = 64 * 1024 * 1024;
const HEALTHZ_DEADLINE_MS = 3000;

function rss(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** A follow request from `localAddress` whose socket is never read; the status line is peeked without reading on. */
function stalledFollower(port: number, path: string, localAddress: string): Promise<{ socket: net.Socket; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress }, () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
    socket.once('error', reject);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      resolve({ socket, status: Number(/^HTTP\/1\.1 (\d+)/.exec(first.toString('latin1'))?.[1]) });
    });
  });
}

/** Reads a stalled socket from now on: resolves with the bytes it got once the server closed it. */
function readToEnd(socket: net.Socket): Promise<number> {
  return new Promise((resolve) => {
    let bytes = 0;
    socket.on('data', (c: Buffer) => (bytes += c.length));
    socket.once('close', () => resolve(bytes));
    socket.resume();
  });
}

/** Grid's connections from the stalled followers' addresses that Grid has not closed (TCP state ESTABLISHED in /proc/net/tcp). */
function openAtGrid(port: number): number {
  const ours = new Set(ADDRESSES.map((a) => a.split('.').reverse().map((b) => Number(b).toString(16).padStart(2, '0')).join('').toUpperCase()));
  return fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter(([, local, remote, state]) => local && parseInt(local.split(':')[1], 16) === port && ours.has(remote.split(':')[0]) && state === '01').length;
}

async function timedHealthz(url: string): Promise<number> {
  const t0 = Date.now();
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) });
  expect(res.status).toBe(200);
  return Date.now() - t0;
}

describe('following a chatty pod log with clients that do not read', () => {
  let g: GridHandle;
  afterAll(cleanupAll);

  it('keeps Grid small and responsive, cuts the stalled followers after the send timeout, and marks what a slow reader missed', async () => {
    g = await startGrid({ env: { GRID_CLIENT_SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS), GRID_POD_LOG_MAX_BYTES: String(1024 * 1024) } });
    await applyYaml(g, SPEC);
    const pod = await expectEventually(async () => {
      const [p] = await podsOf(g, 'chatty');
      if (!p || p.state !== 'Running') throw new Error(`chatty: ${JSON.stringify(p)}`);
      return p;
    }, 20_000);
    const path = `/pods/${pod.id}/logs?follow=1`;
    const pid = g.proc.pid!;

    // Baseline: the chatty pod alone, its log rotating.
    let baseline = 0;
    let slowestBefore = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 3000) {
      baseline = Math.max(baseline, rss(pid));
      slowestBefore = Math.max(slowestBefore, await timedHealthz(g.url));
      await new Promise((r) => setTimeout(r, 200));
    }

    // A reader that keeps reading, but at Grid's follow rate, behind a 3 MB/s pod.
    const reader = http.get(`${g.url}${path}`);
    let readerText = '';
    reader.on('response', (res) => res.setEncoding('utf8').on('data', (c: string) => (readerText += c)));

    const stalled: net.Socket[] = [];
    for (const address of ADDRESSES) {
      for (let i = 0; i < PER_ADDRESS; i++) {
        const f = await stalledFollower(g.port, path, address);
        expect(f.status).toBe(200);
        stalled.push(f.socket);
      }
    }
    const opened = Date.now();
    // A fifth follow from one address is refused; the others' addresses are not affected by it.
    const fifth = await stalledFollower(g.port, path, ADDRESSES[0]);
    expect(fifth.status).toBe(429);
    fifth.socket.destroy();

    // Grid fills each stalled socket's buffers (the kernel's, a few MB), then stops, and cuts it once it has
    // taken nothing for the send timeout. Meanwhile its memory stays bounded and /healthz answers in time.
    let peak = 0;
    let slowest = 0;
    let firstCut = 0;
    await expectEventually(async () => {
      peak = Math.max(peak, rss(pid));
      slowest = Math.max(slowest, await timedHealthz(g.url));
      const open = openAtGrid(g.port);
      if (open < stalled.length && !firstCut) firstCut = Date.now() - opened;
      return open === 0;
    }, 90_000, 200);
    console.log(
      `follow backpressure: RSS baseline ${(baseline / 2 ** 20).toFixed(0)} MiB, peak with ${stalled.length} stalled followers ${(peak / 2 ** 20).toFixed(0)} MiB; ` +
        `slowest /healthz ${slowestBefore} ms before, ${slowest} ms with them; first cut after ${firstCut} ms, all after ${Date.now() - opened} ms`,
    );
    expect(peak - baseline).toBeLessThan(RSS_BOUND);
    expect(slowest).toBeLessThan(HEALTHZ_DEADLINE_MS);
    // Cut for the send timeout, not earlier (say, for a full buffer).
    expect(firstCut).toBeGreaterThanOrEqual(SEND_TIMEOUT_MS);
    // Cut, not ended: read on, and each ends with what its buffers held, though the pod writes on.
    const got = await Promise.all(stalled.map(readToEnd));
    for (const bytes of got) expect(bytes).toBeLessThan(32 * 1024 * 1024);
    // Their places are free again.
    const again = await stalledFollower(g.port, path, ADDRESSES[0]);
    expect(again.status).toBe(200);
    again.socket.destroy();

    // The reader was never cut, and was told each time rotations outran it.
    await expectEventually(() => /^event: skipped\ndata: \{"bytes":\d+\}\n\nevent: log\ndata: \[grid: \d+ bytes skipped\]$/m.test(readerText), 10_000);
    expect(reader.destroyed).toBe(false);
    reader.destroy();
  }, 150_000);
});
