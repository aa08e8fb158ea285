import * as http from 'node:http';
import * as net from 'node:net';
import { hardenServer, strictRequest, strictServerOptions } from './node-server.js';
import { FIRST_BYTE_GRACE_MS } from './client-limits.js';
import type { ConnectionCap } from './connection-cap.js';

/** A raw client of the server under test: whether its connection was closed, and what it got. */
interface Client {
  socket: net.Socket;
  closed: boolean;
  text: string;
}

let server: http.Server;
let sut: ConnectionCap;
let port: number;
const clients: Client[] = [];
/** Requests the server holds unanswered until the test ends. */
const held: http.ServerResponse[] = [];
/** The server's side of each connection, in accept order. */
const accepted: net.Socket[] = [];
/** What the cap logged. */
const warnings: string[] = [];
const BODY_TIMEOUT_MS = 300;

async function connect(): Promise<Client> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const c: Client = { socket, closed: false, text: '' };
  socket.on('data', (d: Buffer) => (c.text += d.toString('latin1')));
  socket.on('close', () => (c.closed = true));
  socket.on('error', () => undefined);
  clients.push(c);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return c;
}

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Connects a client and waits until the server has taken (admitted or refused) it. */
async function arrive(expectedOpen: number): Promise<Client> {
  const c = await connect();
  await until(() => sut.size === expectedOpen || c.closed);
  return c;
}

beforeEach(async () => {
  server = http.createServer(strictServerOptions(), (req, res) => {
    if (strictRequest(req, res)) return;
    req.resume();
    if (req.url === '/hold') held.push(res);
    else if (req.method === 'POST') req.on('end', () => res.end('got it'));
    else res.end('ok');
  });
  sut = hardenServer(server, 3, { listener: 'test port', warn: (m) => warnings.push(m), bodyTimeoutMs: BODY_TIMEOUT_MS });
  server.on('connection', (s: net.Socket) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});

afterEach(async () => {
  for (const res of held.splice(0)) res.destroy();
  for (const c of clients.splice(0)) c.socket.destroy();
  accepted.length = 0;
  warnings.length = 0;
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('ConnectionCap (a hardened server at its connection cap)', () => {
  it('closes the idle keep-alive connection, then the slowloris, then the one that has not spoken yet, never the one with a request in flight; refuses only when all are busy', async () => {
    const busy = await arrive(1);
    busy.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => held.length === 1);
    const idle = await arrive(2);
    idle.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => idle.text.includes('ok'));
    const slowloris = await arrive(3);
    slowloris.socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-a: ');
    // Its request is arriving from when the server reads its first byte.
    await until(() => accepted[2].bytesRead > 0);

    const first = await arrive(3);
    await until(() => idle.closed);
    expect([busy.closed, slowloris.closed, first.closed]).toEqual([false, false, false]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^test port: at or near its connection cap \(GRID_MAX_CONNECTIONS=3, \d open\): 1 connections closed to make room \(0 never sent a byte, 1 idle keep-alive, 0 receiving a request\)/);

    // first has not spoken, but only just connected: as if its request were arriving, and younger than the slowloris.
    const second = await arrive(3);
    await until(() => slowloris.closed);
    expect([busy.closed, first.closed, second.closed]).toEqual([false, false, false]);

    const third = await arrive(3);
    await until(() => first.closed);
    expect([busy.closed, second.closed, third.closed]).toEqual([false, false, false]);

    for (const c of [second, third]) c.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => held.length === 3);
    const refused = await connect();
    await until(() => refused.closed);
    expect(refused.text).toBe('');
    expect([busy.closed, second.closed, third.closed]).toEqual([false, false, false]);
    expect(sut.refused).toBe(1);
    expect(sut.shed).toEqual([0, 1, 2]);
    // At most one line a minute: the rest are in the next one.
    expect(warnings).toHaveLength(1);

    // The held requests are still answered.
    held[0].end('late');
    await until(() => busy.text.includes('late'));
  });

  it('keeps a connection whose request body is arriving over an idle one, and a pipelined head behind a request in flight over both', async () => {
    const upload = await arrive(1);
    upload.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
    const pipelined = await arrive(2);
    pipelined.socket.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHo');
    await until(() => held.length === 1);
    const idle = await arrive(3);
    idle.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => idle.text.includes('ok'));

    await arrive(3);
    await until(() => idle.closed);
    await arrive(3);
    await until(() => upload.closed);
    expect(pipelined.closed).toBe(false);
  });

  it('near the cap, closes connections that never sent a byte after the first-byte grace, and only those', async () => {
    const spoke = await arrive(1);
    spoke.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => spoke.text.includes('ok'));
    const silent = await arrive(2);
    const openedAt = Date.now();
    // The timeout under test: nothing but time makes the connection older than it.
    await until(() => Date.now() - openedAt > FIRST_BYTE_GRACE_MS + 50, FIRST_BYTE_GRACE_MS + 1_000);
    expect(silent.closed).toBe(false);

    // A third connection puts the listener over PRESSURE_THRESHOLD of 3.
    const third = await connect();
    await until(() => silent.closed);
    expect([spoke.closed, third.closed]).toEqual([false, false]);
    expect(sut.shed).toEqual([1, 0, 0]);
  });
});

describe('hardenServer (a request body that stalls)', () => {
  it('serves a body arriving slowly but steadily, for longer than the body timeout in all', async () => {
    const c = await connect();
    c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n');
    const startedAt = Date.now();
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, BODY_TIMEOUT_MS / 3));
      c.socket.write('b');
    }
    await until(() => c.text.includes('got it'));
    expect(c.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(Date.now() - startedAt).toBeGreaterThan(2 * BODY_TIMEOUT_MS);
  });

  it('answers 408 and closes when no body bytes come for the body timeout, before any response started', async () => {
    const c = await connect();
    const startedAt = Date.now();
    c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\nbb');
    await until(() => c.closed);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 20);
    expect(c.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(c.text).toContain(`request body stalled: no bytes for ${BODY_TIMEOUT_MS} ms`);
  });
});
