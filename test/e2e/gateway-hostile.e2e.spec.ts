// Issue 15, hostile clients: slowloris heads and bodies, clients that never read, thousands of
// idle connections and a connection cap, against a real Grid with real process pods, on the
// main port's /gateway/<service> and on the dedicated listener, on the fast path and the node path.
import * as fs from 'node:fs';
import http from 'node:http';
import * as net from 'node:net';
import { applyYaml, cleanupAll, expectEventually, json, readyPods, startGrid, type GridHandle } from '../utils/grid.js';

const TIMEOUT_MS = 1500;
const MAX_CONNECTIONS = 2600;

const SPEC = `apiVersion: v1
kind: Service
metadata: { name: big }
spec:
  replicas: 1
  command: ["node", "test/fixtures/hostile/big-server.js"]
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
  terminationGracePeriodSeconds: 2
`;

/** A raw client: what it received, and whether and when the connection closed. */
class Raw {
  bytes = 0;
  text = '';
  closed = false;
  readonly socket: net.Socket;

  constructor(url: string) {
    const u = new URL(url);
    this.socket = net.connect({ host: u.hostname, port: Number(u.port) });
    this.socket.on('data', (d: Buffer) => {
      this.bytes += d.length;
      if (this.text.length < 4096) this.text += d.toString('latin1');
    });
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
    sockets.push(this.socket);
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.socket.connecting) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }
}

const sockets: net.Socket[] = [];
const timers: NodeJS.Timeout[] = [];

/** Writes `head` then one byte of `drip` per 200 ms, for as long as the connection takes it. */
function slowloris(url: string, head: string, drip: string): Raw {
  const c = new Raw(url);
  c.socket.write(head);
  let i = 0;
  const t = setInterval(() => {
    if (c.closed || c.socket.destroyed) return clearInterval(t);
    c.socket.write(drip[i++ % drip.length]);
  }, 200);
  timers.push(t);
  return c;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

async function aborted(g: GridHandle): Promise<number> {
  return (await json<{ aborted: number }>(`${g.url}/gateway/big/stats`)).body.aborted;
}

describe('the gateway under hostile clients', () => {
  let g: GridHandle;
  let bases: Array<[string, string]>;

  beforeAll(async () => {
    g = await startGrid({
      env: {
        GRID_GATEWAY_PORT: '0',
        GRID_CLIENT_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
        GRID_CLIENT_SEND_TIMEOUT_MS: String(TIMEOUT_MS),
        GRID_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      },
    });
    expect((await applyYaml(g, SPEC)).status).toBe(200);
    await expectEventually(() => readyPods(g, 'big', 1), 30_000, 200);
    bases = [
      ['main port', `${g.url}/gateway/big`],
      ['dedicated listener', `${g.gatewayUrl!}/big`],
    ];
  }, 60_000);

  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    await cleanupAll();
  });

  it.each([
    ['main port', 'head', 'fast path'],
    ['dedicated listener', 'head', 'fast path'],
    ['main port', 'body', 'fast path'],
    ['main port', 'big body', 'node path'],
    ['dedicated listener', 'big body', 'node path'],
  ])('%s: a slowloris %s (%s) is answered 408 and closed after the request timeout', async (where, what) => {
    const base = bases.find(([w]) => w === where)![1];
    const u = new URL(base);
    const path = u.pathname;
    const head =
      what === 'head'
        ? `GET ${path}/ HTTP/1.1\r\nHost: t\r\n`
        : `POST ${path}/ HTTP/1.1\r\nHost: t\r\nContent-Length: ${what === 'body' ? 1000 : 100_000}\r\n\r\n`;
    const c = slowloris(base, head, what === 'head' ? 'X-a: b\r\n' : 'x');
    await c.connected();
    const since = Date.now();

    await expectEventually(() => c.closed, TIMEOUT_MS + 8000, 100);
    expect(Date.now() - since).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    // A 408 when the client could still be answered; a reset is allowed too.
    if (c.bytes > 0) expect(c.text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it.each([
    ['main port', 'fast path', false],
    ['dedicated listener', 'fast path', false],
    ['main port', 'node path', true],
  ])('%s: a client that never reads a 64 MiB response (%s) does not stop others and is cut after the send timeout', async (where, _path, nodePath) => {
    const base = bases.find(([w]) => w === where)![1];
    const before = await aborted(g);
    const c = new Raw(base);
    await c.connected();
    c.socket.pause();
    // A request body over the fast path's 64 KiB hands the connection to node:http.
    const body = nodePath ? 'b'.repeat(70_000) : '';
    c.socket.write(`${nodePath ? 'POST' : 'GET'} ${new URL(base).pathname}/big?mib=64 HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n${body}`);

    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${base}/`);
      expect(r.status).toBe(200);
      await r.text();
    }
    // The pod sees its response cut once Grid has cut the client.
    await expectEventually(async () => (await aborted(g)) > before, TIMEOUT_MS + 10_000, 200);
    c.socket.resume();
    await expectEventually(() => c.closed, 10_000, 100);
    expect(c.bytes).toBeLessThan(64 * 1024 * 1024);
  });

  it('2,000 idle connections do not stop a normal request; RSS stays bounded; over the cap new connections are closed and kept-alive ones still served', async () => {
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const viaKeepAlive = () =>
      new Promise<number>((resolve, reject) => {
        http
          .get(`${g.url}/gateway/big/`, { agent: keepAlive }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          })
          .on('error', reject);
      });
    try {
      expect(await viaKeepAlive()).toBe(200);
      const rssBefore = rssBytes(g.proc.pid!);
      const idle: Raw[] = [];
      for (let i = 0; i < 2000; i++) idle.push(new Raw(g.url));
      await Promise.all(idle.map((c) => c.connected()));

      const r = await fetch(`${g.url}/gateway/big/`);
      expect(r.status).toBe(200);
      await r.text();
      expect(idle.filter((c) => c.closed)).toHaveLength(0);
      const rssIdle = rssBytes(g.proc.pid!);
      // Generous: the measured cost is a few KiB per connection (bench/results/hostile.md).
      expect(rssIdle - rssBefore).toBeLessThan(200 * 1024 * 1024);

      // Up to the cap and past it: the ones over it are closed as they are accepted, without an answer.
      const more: Raw[] = [];
      for (let i = 0; i < MAX_CONNECTIONS - 2000 + 50; i++) more.push(new Raw(g.url));
      await Promise.all(more.map((c) => c.connected().catch(() => undefined)));
      await expectEventually(() => more.filter((c) => c.closed).length >= 50, 10_000, 100);
      expect(more.filter((c) => c.closed && c.bytes > 0)).toHaveLength(0);
      expect(await viaKeepAlive()).toBe(200);

      for (const c of [...idle, ...more]) c.socket.destroy();
      await expectEventually(async () => (await fetch(`${g.url}/gateway/big/`).then((x) => x.text().then(() => x.status)).catch(() => 0)) === 200, 10_000, 100);
    } finally {
      keepAlive.destroy();
    }
  }, 60_000);
});
