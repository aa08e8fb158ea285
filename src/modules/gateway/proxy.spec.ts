import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { GatewayEndpoint, GatewayEvent, GatewayRoute } from './gateway.types.js';
import { GatewayProxy, type GatewayProxyOptions } from './proxy.js';
import { hardenServer, MAX_UNANSWERED, strictRequest, strictServerOptions, type StrictServerOptions } from './node-server.js';
import { routeGatewayUrl } from './routing.js';
import { WireProxy } from './wire-proxy.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Backend {
  endpoint: GatewayEndpoint;
  hits: number;
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const servers: http.Server[] = [];
let sut: GatewayProxy | undefined;
let wire: WireProxy | undefined;
/** 'node': node:http + undici (the main port); 'wire': the raw-socket fast path with node:http behind it (the dedicated listener). */
let mode: 'node' | 'wire' = 'node';
let table: Record<string, GatewayRoute>;
let events: GatewayEvent[];
let proxyPort: number;

async function listen(handler: Handler): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A port with nothing listening: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function reply(body: unknown, status = 200): Handler {
  return (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  };
}

async function backend(podId: string, version: string, handler: Handler = reply({ podId })): Promise<Backend> {
  const b: Backend = { endpoint: { podId, version, host: '127.0.0.1', port: 0 }, hits: 0, seen: [] };
  b.endpoint.port = await listen((req, res) => {
    b.hits++;
    b.seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    handler(req, res);
  });
  return b;
}


/** A pod speaking raw bytes: `respond` gets each bodiless request's method, target and connection number (from 1). */
async function rawBackend(podId: string, respond: (method: string, url: string, socket: net.Socket, connection: number) => void): Promise<Backend> {
  const b: Backend = { endpoint: { podId, version: 'v1', host: '127.0.0.1', port: 0 }, hits: 0, seen: [] };
  let connections = 0;
  const server = net.createServer((socket) => {
    const n = ++connections;
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const [method, url] = buf.slice(0, buf.indexOf(' ', buf.indexOf(' ') + 1)).split(' ');
        buf = buf.slice(end + 4);
        b.hits++;
        b.seen.push({ method, url, headers: {} });
        respond(method, url, socket, n);
      }
    });
  });
  rawServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  b.endpoint.port = (server.address() as AddressInfo).port;
  return b;
}

const rawServers: net.Server[] = [];

function deadEndpoint(podId: string, version: string, port: number): GatewayEndpoint {
  return { podId, version, host: '127.0.0.1', port };
}

function setRoute(service: string, ...versions: Array<[string, number, GatewayEndpoint[]]>): void {
  table[service] = { service, versions: versions.map(([version, weight, endpoints]) => ({ version, weight, endpoints })) };
}

/** The proxy's own servers, made as Grid makes them (main.ts, GatewayService): strict, with the refusals answered first. */
function proxyServer(handler: Handler, options: StrictServerOptions): http.Server {
  const server = http.createServer(strictServerOptions(options), (req, res) => {
    if (!strictRequest(req, res)) handler(req, res);
  });
  hardenServer(server);
  servers.push(server);
  return server;
}

async function startProxy(options: Partial<GatewayProxyOptions> = {}, serverOptions: StrictServerOptions = {}): Promise<GatewayProxy> {
  const proxy = new GatewayProxy({ routes: (s) => table[s], now: () => Date.now(), onEvent: (e) => events.push(e), ...options });
  sut = proxy;
  const handler: Handler = (req, res) => {
    const target = routeGatewayUrl(req.url!);
    if (target === undefined) {
      res.writeHead(404).end();
      return;
    }
    proxy.handle(req, res, target.service, target.path);
  };
  const server = proxyServer(handler, serverOptions);
  if (mode === 'node') {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxyPort = (server.address() as AddressInfo).port;
    return proxy;
  }
  wire = new WireProxy({ core: proxy.core, fallback: (socket) => server.emit('connection', socket), router: (target) => routeGatewayUrl(target), ...(serverOptions.requestTimeoutMs !== undefined ? { requestTimeoutMs: serverOptions.requestTimeoutMs } : {}) });
  proxyPort = (await wire.listen(0, '127.0.0.1')).port;
  return proxy;
}

/**
 * Writes `parts` to the proxy over a raw socket (each part its own write, after
 * the previous one was flushed) and resolves with everything read until the
 * proxy closes the connection, or `ms` passed since the last byte.
 */
function raw(parts: Array<string | Buffer>, ms = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, '127.0.0.1');
    let out = '';
    let timer = setTimeout(() => socket.destroy(), ms);
    socket.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), ms);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    void (async () => {
      for (const p of parts) await new Promise<void>((done) => socket.write(p, () => done()));
    })();
  });
}

/** The status codes of the responses in a raw byte string, in order. */
function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

function send(method: string, path: string, headers: http.OutgoingHttpHeaders = {}, body?: Buffer | Buffer[]): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(new Error('response cut short'));
      });
    });
    req.on('error', reject);
    if (Array.isArray(body)) for (const part of body) req.write(part);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function json(r: Reply): Record<string, unknown> {
  return JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
}

describe.each(['node', 'wire'] as const)('%s path', (path) => {
  beforeEach(() => {
    mode = path;
    table = {};
    events = [];
  });

  afterEach(async () => {
    await sut?.close();
    sut = undefined;
    wire?.close();
    wire = undefined;
    await Promise.all(rawServers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await Promise.all(
      servers.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  });

  describe('forwarding', () => {
    it.each([
      { method: 'GET', url: '/gateway/api/items/7?x=1&y=%20z', want: '/items/7?x=1&y=%20z' },
      { method: 'DELETE', url: '/proxy/api/items/7', want: '/items/7' },
      { method: 'PUT', url: '/gateway/api?q=1', want: '/?q=1' },
      { method: 'OPTIONS', url: '/gateway/api', want: '/' },
    ])('$method $url reaches the pod as $want', async ({ method, url, want }) => {
      const b = await backend('api-1', 'v1');
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const r = await send(method, url);

      expect(r.status).toBe(200);
      expect(b.seen).toEqual([expect.objectContaining({ method, url: want })]);
    });

    it('streams a 1 MiB POST body to the pod and the echo back byte-exact', async () => {
      const b = await backend('api-1', 'v1', (req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        req.pipe(res);
      });
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();
      const payload = randomBytes(1024 * 1024);

      const fixed = await send('POST', '/gateway/api/echo', { 'content-length': payload.length }, payload);
      const chunked = await send('POST', '/gateway/api/echo', {}, [payload.subarray(0, 300_000), payload.subarray(300_000)]);

      expect(fixed.status).toBe(200);
      expect(fixed.body.equals(payload)).toBe(true);
      expect(b.seen[0].headers['content-length']).toBe(String(payload.length));
      expect(chunked.status).toBe(200);
      expect(chunked.body.equals(payload)).toBe(true);
      expect(b.seen[1].headers['transfer-encoding']).toBe('chunked');
    });

    it('answers HEAD with the headers and no body', async () => {
      const b = await backend('api-1', 'v1', (req, res) => {
        res.writeHead(200, { 'content-length': '42', 'content-type': 'text/plain' });
        res.end();
      });
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const r = await send('HEAD', '/gateway/api/x');

      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toBe('42');
      expect(r.body.length).toBe(0);
    });
  });

  describe('headers', () => {
    it('drops hop-by-hop headers both ways and adds the forwarding headers', async () => {
      const b = await backend('api-1', 'v1', (req, res) => {
        res.setHeader('Connection', 'keep-alive, X-Resp-Hop');
        res.setHeader('X-Resp-Hop', 'secret');
        res.setHeader('Proxy-Authenticate', 'Basic realm="x"');
        res.setHeader('Proxy-Connection', 'keep-alive');
        res.setHeader('X-App', 'ok');
        res.end('hi');
      });
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const r = await send('GET', '/gateway/api/h', {
        Host: 'shop.example',
        Connection: 'keep-alive, X-Hop',
        'X-Hop': 'secret',
        'Keep-Alive': 'timeout=5',
        TE: 'trailers',
        'Proxy-Authorization': 'Basic eDp5',
        'Proxy-Connection': 'keep-alive',
        'X-Forwarded-For': '10.1.2.3',
        'X-Forwarded-Proto': 'https',
        'X-Custom': 'yes',
      });

      const up = b.seen[0].headers;
      expect(up).not.toHaveProperty('x-hop');
      expect(up).not.toHaveProperty('te');
      expect(up).not.toHaveProperty('proxy-authorization');
      expect(up).not.toHaveProperty('proxy-connection');
      expect(up.connection).not.toContain('X-Hop');
      expect(up).toMatchObject({
        host: `127.0.0.1:${b.endpoint.port}`,
        'x-forwarded-for': '10.1.2.3, 127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-host': 'shop.example',
        'x-custom': 'yes',
      });
      expect(up['x-request-id']).toMatch(/^[0-9a-z]+-[0-9a-z]+$/);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('hi');
      expect(r.headers).not.toHaveProperty('x-resp-hop');
      expect(r.headers).not.toHaveProperty('proxy-authenticate');
      expect(r.headers).not.toHaveProperty('proxy-connection');
      expect(r.headers).toMatchObject({ 'x-app': 'ok', 'x-grid-pod': 'api-1', 'x-grid-version': 'v1', 'x-request-id': up['x-request-id'] });
    });

    it('keeps an incoming X-Request-Id and numbers the others uniquely', async () => {
      const b = await backend('api-1', 'v1');
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      await send('GET', '/gateway/api/', { 'X-Request-Id': 'abc-123' });
      await send('GET', '/gateway/api/');
      await send('GET', '/gateway/api/');

      const ids = b.seen.map((s) => s.headers['x-request-id']);
      expect(ids[0]).toBe('abc-123');
      expect(new Set(ids).size).toBe(3);
    });
  });

  describe('strict HTTP/1.1 requests', () => {
    const H = 'Host: shop.example\r\n';
    it.each([
      { name: 'a duplicate Host', head: `GET /gateway/api/ HTTP/1.1\r\n${H}Host: other.example\r\n\r\n`, status: 400, says: '2 Host header fields' },
      { name: 'two spaces after the method', head: `GET  /gateway/api/ HTTP/1.1\r\n${H}\r\n`, status: 400, says: 'more than one space' },
      { name: 'two spaces before the version', head: `GET /gateway/api/  HTTP/1.1\r\n${H}\r\n`, status: 400, says: 'more than one space' },
      { name: 'no HTTP version (HTTP/0.9)', head: `GET /gateway/api/\r\n${H}\r\n`, status: 400, says: 'no HTTP version' },
      { name: 'HTTP/2.0', head: `GET /gateway/api/ HTTP/2.0\r\n${H}\r\n`, status: 400, says: "HTTP version 'HTTP/2.0'" },
      { name: 'a #fragment in the target', head: `GET /gateway/api/a#b HTTP/1.1\r\n${H}\r\n`, status: 400, says: 'fragment' },
      { name: 'Transfer-Encoding: identity, chunked', head: `POST /gateway/api/ HTTP/1.1\r\n${H}Transfer-Encoding: identity, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, status: 501, says: "coding 'identity'" },
      { name: 'Transfer-Encoding: gzip, chunked', head: `POST /gateway/api/ HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, status: 501, says: "coding 'gzip'" },
      { name: 'Transfer-Encoding: chunked, chunked', head: `POST /gateway/api/ HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, status: 400, says: '' /* llhttp refuses it before Grid sees it */ },
      { name: 'Transfer-Encoding with an empty element', head: `POST /gateway/api/ HTTP/1.1\r\n${H}Transfer-Encoding: , chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, status: 400, says: 'empty list element' },
      { name: 'Connection: close<TAB>', head: `GET /gateway/api/ HTTP/1.1\r\n${H}Connection: close\t\r\n\r\n`, status: 400, says: 'tab in Connection' },
      { name: 'two spaces on a route that is not the gateway', head: `GET  /api/services HTTP/1.1\r\n${H}\r\n`, status: 400, says: 'more than one space' },
    ])('refuses $name with $status and closes the connection, without contacting a pod', async ({ head, status, says }) => {
      const b = await backend('api-1', 'v1');
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const out = await raw([head + `GET /gateway/api/after HTTP/1.1\r\n${H}\r\n`]);

      expect(statuses(out)).toEqual([status]);
      expect(out.toLowerCase()).toContain('connection: close');
      expect(out).toContain(says);
      expect(b.hits).toBe(0);
    });

    it('judges a request line split over many writes the same', async () => {
      const b = await backend('api-1', 'v1');
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const out = await raw(['G', 'ET ', ' /gateway/api/ HT', 'TP/1.1\r', `\n${H}`, '\r\n']);

      expect(statuses(out)).toEqual([400]);
      expect(b.hits).toBe(0);
    });

    it('refuses a lenient request pipelined after a valid one with a body, and serves the valid one', async () => {
      const b = await backend('api-1', 'v1', (req, res) => req.pipe(res));
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();
      // The body contains what looks like a lenient request line: only framing tells it is a body.
      const body = 'GET  /x HTTP/1.1\r\n\r\n';
      const chunked = `POST /gateway/api/c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)};ext=1\r\n${body}\r\n0\r\n\r\n`;

      const out = await raw([`POST /gateway/api/l HTTP/1.1\r\n${H}Content-Length: ${body.length}\r\n\r\n${body}` + chunked + `GET  /gateway/api/bad HTTP/1.1\r\n${H}\r\n`]);

      expect(statuses(out)).toEqual([200, 200, 400]);
      expect(b.seen.map((s) => s.url)).toEqual(['/l', '/c']);
    });

    // The fast path forwards all of them itself (its limit is the head's size), so only node:http's cut is at stake.
    it('answers 431 to more headers than it forwards, rather than dropping the rest', async () => {
      const b = await backend('api-1', 'v1', (req, res) => req.pipe(res));
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();
      const many = Array.from({ length: 1200 }, (_, i) => `a${i}:b\r\n`).join('');

      const out = await raw([`POST /gateway/api/ HTTP/1.1\r\n${H}${many}Content-Length: 3\r\n\r\nabc`]);

      expect(statuses(out)).toEqual([431]);
      expect(b.hits).toBe(0);
    });

    it('forwards a request with as many headers as allowed, body intact', async () => {
      const b = await backend('api-1', 'v1', (req, res) => req.pipe(res));
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();
      const many = Array.from({ length: 990 }, (_, i) => `a${i}:b\r\n`).join('');

      const out = await raw([`POST /gateway/api/ HTTP/1.1\r\n${H}${many}Content-Length: 3\r\nConnection: close\r\n\r\nabc`]);

      expect(statuses(out)).toEqual([200]);
      expect(out).toContain('\r\nabc\r\n');
    });

    it('lets a server-sent event stream run past the request timeout', async () => {
      const b = await backend('api-1', 'v1', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const t = setInterval(() => {
          res.write(`data: ${++n}\n\n`);
          if (n === 8) {
            clearInterval(t);
            res.end();
          }
        }, 50);
      });
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy({}, { requestTimeoutMs: 100 });
      const started = Date.now();

      const r = await send('GET', '/gateway/api/events');

      expect(Date.now() - started).toBeGreaterThan(300);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toContain('data: 8\n\n');
    });
    it('answers 408 to a request whose body does not arrive within the request timeout', async () => {
      const b = await backend('api-1', 'v1');
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy({}, { requestTimeoutMs: 150 });

      const out = await raw([`POST /gateway/api/ HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`], 3000);

      expect(statuses(out)).toContain(408);
    });
  });

  describe('pipelining', () => {
    it('sends the next request of a connection upstream only after the previous response finished', async () => {
      let active = 0;
      let maxActive = 0;
      const b = await backend('api-1', 'v1', (req, res) => {
        maxActive = Math.max(maxActive, ++active);
        req.resume();
        // Held until a second request arrives beside it (the fault) or, at the latest, 200 ms.
        const release = (): void => {
          active--;
          res.end(req.url);
        };
        if (req.url === '/one') setTimeout(release, 200);
        else release();
      });
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();
      const post = (p: string): string => `POST /gateway/api${p} HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx`;

      const out = await raw([post('/one') + post('/two') + `GET /gateway/api/three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`]);

      expect(statuses(out)).toEqual([200, 200, 200]);
      expect(b.seen.map((s) => s.url)).toEqual(['/one', '/two', '/three']);
      expect(maxActive).toBe(1);
      expect(out.indexOf('/one')).toBeLessThan(out.indexOf('/two'));
    });

    // Found by the attack review: 40 connections pipelining 20,000 requests each kept /healthz on another connection waiting ~12 s,
    // since llhttp parses a whole 64 KiB read (a thousand requests) and every one of them was served.
    it(`serves ${MAX_UNANSWERED} unanswered pipelined requests of one read, answers the next 503 in its turn and closes`, async () => {
      const b = await backend('api-1', 'v1');
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();
      // Chunked bodies: the fast path hands the connection to node:http, whose parser is the one that reads ahead.
      const post = (i: number): string => `POST /gateway/api/${i} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n`;

      const out = await raw([Array.from({ length: 300 }, (_, i) => post(i)).join('')]);

      expect(statuses(out)).toEqual([...Array<number>(MAX_UNANSWERED).fill(200), 503]);
      expect(b.seen.map((s) => s.url)).toEqual(Array.from({ length: MAX_UNANSWERED }, (_, i) => `/${i}`));
      expect(out).toContain('pipelined requests unanswered');
    });
  });

  describe('request header hygiene', () => {
    it('drops header names with an underscore and replaces a client Forwarded with its own', async () => {
      const b = await backend('api-1', 'v1');
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const r = await send('GET', '/gateway/api/', { Host: 'shop.example:8080', X_Forwarded_For: '6.6.6.6', 'X-Ok': '1', Forwarded: 'for=6.6.6.6;proto=https' });

      expect(r.status).toBe(200);
      const up = b.seen[0].headers;
      expect(up).not.toHaveProperty('x_forwarded_for');
      expect(up['x-ok']).toBe('1');
      expect(up.forwarded).toBe('for=127.0.0.1;proto=http;host="shop.example:8080"');
    });
  });

  describe('response framing', () => {
    const OWN = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nown';
    const EVIL = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil';

    it.each([
      { name: 'a HEAD answered with its Content-Length body', method: 'HEAD', first: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', late: 'hello' + EVIL },
      { name: 'a 204 with a Content-Length body', method: 'GET', first: 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n', late: 'hello' + EVIL },
      { name: 'bytes after a complete Content-Length body', method: 'GET', first: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', late: EVIL },
      { name: 'bytes after a chunked body and its trailer', method: 'GET', first: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n', late: EVIL },
    ])('keeps late bytes after $name from the next request on the pool', async ({ method, first, late }) => {
      let lateWritten = false;
      const b = await rawBackend('api-1', (_m, url, socket) => {
        if (url !== '/first') return void socket.write(OWN);
        socket.write(first);
        setTimeout(() => socket.write(late, () => (lateWritten = true)), 30);
      });
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const r1 = await send(method, '/gateway/api/first');
      await until(() => lateWritten);
      // Loopback delivers at once; the wait lets the proxy's event loop see the bytes on its idle pooled socket.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const r2 = await send('GET', '/gateway/api/second');

      expect(r1.status).toBeLessThan(300);
      if (r1.status === 204) expect(r1.headers).not.toHaveProperty('content-length');
      expect(`${r2.status} ${r2.body.toString()}`).toBe('200 own');
    });

    it('answers a 304 that declares a length at once and whole', async () => {
      const b = await rawBackend('api-1', (_m, _u, socket) => socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: "x"\r\n\r\n'));
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const r = await send('GET', '/gateway/api/x');

      expect(r.status).toBe(304);
      expect(r.headers.etag).toBe('"x"');
    });

    it.each([
      { name: 'a repeated Content-Length', head: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok' },
      { name: 'Transfer-Encoding with Content-Length', head: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' },
      { name: 'an LF-only head', head: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok' },
    ])('answers 502 at once to $name', async ({ head }) => {
      const b = await rawBackend('api-1', (_m, _u, socket) => socket.write(head));
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy({ upstreamTimeoutMs: 5000 });
      const started = Date.now();

      const r = await send('GET', '/gateway/api/x');

      expect(r.status).toBe(502);
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('does not forward a Content-Length sent in a trailer', async () => {
      const b = await rawBackend('api-1', (_m, _u, socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n2\r\nok\r\n0\r\nContent-Length: 99\r\n\r\n'));
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const out = await raw(['GET /gateway/api/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);

      // llhttp refuses the response on both paths, after its head may have gone out: the client's response is cut short
      // (no last chunk), never completed with the field. (Ordinary trailer lines are dropped on both paths.)
      expect(statuses(out)).toEqual(path === 'node' ? [200] : []);
      expect(out.toLowerCase()).not.toContain('content-length: 99');
      expect(out).not.toContain('0\r\n\r\n');
    });

    it('drops trailer lines and completes the chunked body, the same on both paths', async () => {
      const b = await rawBackend('api-1', (_m, _u, socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n'));
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const out = await raw(['GET /gateway/api/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);

      expect(statuses(out)).toEqual([200]);
      expect(out.endsWith('2\r\nok\r\n0\r\n\r\n')).toBe(true);
      expect(out).not.toContain('X-T');
    });

  });

  describe('balancing', () => {
    it('spreads requests round robin over 3 pods', async () => {
      const pods = await Promise.all(['a', 'b', 'c'].map((p) => backend(p, 'v1')));
      setRoute('api', ['v1', 100, pods.map((p) => p.endpoint)]);
      await startProxy();

      const seen: string[] = [];
      for (let i = 0; i < 30; i++) seen.push((await send('GET', '/gateway/api/')).headers['x-grid-pod'] as string);

      expect(pods.map((p) => p.hits)).toEqual([10, 10, 10]);
      expect(seen.slice(0, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    });

    it('splits 25/75 exactly over 100 requests and counts them per version', async () => {
      const stable = await backend('s-1', 'v1');
      const canary = await backend('c-1', 'v2');
      setRoute('api', ['v1', 25, [stable.endpoint]], ['v2', 75, [canary.endpoint]]);
      const observed: string[] = [];
      const proxy = await startProxy({ observe: (service, version, status) => observed.push(`${service}/${version}/${status}`) });

      for (let i = 0; i < 100; i++) await send('GET', '/gateway/api/');

      expect([stable.hits, canary.hits]).toEqual([25, 75]);
      expect(proxy.stats.totals('api')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ version: 'v1', requests: 25, errors5xx: 0 }),
          expect.objectContaining({ version: 'v2', requests: 75, errors5xx: 0 }),
        ]),
      );
      expect(proxy.stats.window('api', 'v2', Date.now() - 60_000, Date.now()).requests).toBe(75);
      expect(observed.filter((o) => o === 'api/v2/200')).toHaveLength(75);
    });

    it('selects without proxying for /lb/select', async () => {
      setRoute('api', ['v1', 100, [deadEndpoint('p1', 'v1', 1), deadEndpoint('p2', 'v1', 2)]]);
      const proxy = await startProxy();

      expect([proxy.select('api')?.endpoint.podId, proxy.select('api')?.endpoint.podId]).toEqual(['p1', 'p2']);
      expect(proxy.select('nope')).toBeUndefined();
    });
  });

  describe('errors', () => {
    it('answers 404 for an unknown service', async () => {
      await startProxy();

      const r = await send('GET', '/gateway/nope/x');

      expect(r.status).toBe(404);
      expect(json(r)).toEqual({ statusCode: 404, error: 'Not Found', message: "service 'nope' not found" });
    });

    it('answers 501 to a protocol upgrade (WebSocket) without contacting a pod', async () => {
      const b = await backend('api-1', 'v1');
      setRoute('api', ['v1', 100, [b.endpoint]]);
      await startProxy();

      const r = await send('GET', '/gateway/api/ws', { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' });

      expect(r.status).toBe(501);
      expect(json(r).message).toContain('protocol upgrades (websocket) are not proxied');
      expect(b.hits).toBe(0);
    });

    it('answers 503 when the service has no ready pod', async () => {
      setRoute('api', ['v1', 100, []]);
      await startProxy();

      const r = await send('GET', '/gateway/api/x');

      expect(r.status).toBe(503);
      expect(json(r)).toEqual({ statusCode: 503, error: 'Service Unavailable', message: "no ready pods for service 'api'" });
    });

    it('retries an idempotent request once on another pod when the first refuses connections', async () => {
      const live = await backend('live', 'v1');
      setRoute('api', ['v1', 100, [deadEndpoint('dead', 'v1', await closedPort()), live.endpoint]]);
      await startProxy();

      const replies = [];
      for (let i = 0; i < 4; i++) replies.push(await send('GET', '/gateway/api/r'));

      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(replies.map((r) => r.headers['x-grid-pod'])).toEqual(['live', 'live', 'live', 'live']);
      expect(live.hits).toBe(4);
      expect(events.filter((e) => e.type === 'retried').map((e) => e.podId)).toEqual(['live', 'live']);
      expect(events.filter((e) => e.type === 'upstreamError')).toEqual([
        expect.objectContaining({ podId: 'dead', service: 'api', version: 'v1', message: expect.stringContaining('ECONNREFUSED') }),
        expect.objectContaining({ podId: 'dead' }),
      ]);
    });

    it('retries on another version when the failed pod was the only one of its version', async () => {
      const live = await backend('v2-pod', 'v2');
      setRoute('api', ['v1', 100, [deadEndpoint('dead', 'v1', await closedPort())]], ['v2', 0, [live.endpoint]]);
      await startProxy();

      const r = await send('GET', '/gateway/api/');

      expect(r.status).toBe(200);
      expect(r.headers).toMatchObject({ 'x-grid-pod': 'v2-pod', 'x-grid-version': 'v2' });
    });

    it("retries a failover group's GET on the standby target when the active target refuses, before its other pods", async () => {
      const standby = await backend('fb-0', 'v2');
      const [dead1, dead2] = [deadEndpoint('fa-0', 'v1', await closedPort()), deadEndpoint('fa-1', 'v1', await closedPort())];
      table.fo = { service: 'fo', failover: true, versions: [{ version: 'v1', weight: 100, endpoints: [dead1, dead2] }, { version: 'v2', weight: 0, endpoints: [standby.endpoint] }] };
      await startProxy();

      const replies = [await send('GET', '/gateway/fo/'), await send('GET', '/gateway/fo/')];

      expect(replies.map((r) => [r.status, r.headers['x-grid-pod']])).toEqual([
        [200, 'fb-0'],
        [200, 'fb-0'],
      ]);
    });

    it('does not retry a POST: 502 naming the service and pod', async () => {
      const live = await backend('live', 'v1');
      setRoute('api', ['v1', 100, [deadEndpoint('dead', 'v1', await closedPort()), live.endpoint]]);
      await startProxy();

      const first = await send('POST', '/gateway/api/orders', { 'content-type': 'application/json' }, Buffer.from('{"n":1}'));
      const second = await send('POST', '/gateway/api/orders', { 'content-type': 'application/json' }, Buffer.from('{"n":2}'));

      expect(first.status).toBe(502);
      expect(json(first)).toMatchObject({ statusCode: 502, error: 'Bad Gateway' });
      expect(json(first).message).toEqual(expect.stringContaining("pod 'dead' of service 'api'"));
      expect(second.status).toBe(200);
      expect(live.hits).toBe(1);
      expect(events.filter((e) => e.type === 'retried')).toEqual([]);
    });

    it('retries a POST carrying an Idempotency-Key, body intact', async () => {
      const live = await backend('live', 'v1', (req, res) => req.pipe(res));
      setRoute('api', ['v1', 100, [deadEndpoint('dead', 'v1', await closedPort()), live.endpoint]]);
      await startProxy();
      const payload = randomBytes(64 * 1024);

      const r = await send('POST', '/gateway/api/pay', { 'idempotency-key': 'k1', 'content-length': payload.length }, payload);

      expect(r.status).toBe(200);
      expect(r.body.equals(payload)).toBe(true);
      expect(events.map((e) => e.type)).toEqual(['upstreamError', 'retried']);
    });

    it('answers 502 when a GET has no other pod to retry on', async () => {
      setRoute('api', ['v1', 100, [deadEndpoint('dead', 'v1', await closedPort())]]);
      await startProxy();

      const r = await send('GET', '/gateway/api/');

      expect(r.status).toBe(502);
      expect(r.headers['x-grid-pod']).toBe('dead');
    });

    it('answers 504 when the pod sends no headers within the upstream timeout', async () => {
      const held: http.ServerResponse[] = [];
      const slow = await backend('slow', 'v1', (_req, res) => held.push(res));
      setRoute('api', ['v1', 100, [slow.endpoint]]);
      await startProxy({ upstreamTimeoutMs: 150 });

      const r = await send('GET', '/gateway/api/slow');

      expect(r.status).toBe(504);
      expect(json(r)).toMatchObject({ statusCode: 504, error: 'Gateway Timeout' });
      expect(json(r).message).toEqual(expect.stringContaining("pod 'slow' of service 'api'"));
      expect(slow.hits).toBe(1);
    });

    it('cuts the client connection when the pod dies mid-body', async () => {
      const b = await backend('api-1', 'v1', (_req, res) => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setImmediate(() => res.destroy());
      });
      setRoute('api', ['v1', 100, [b.endpoint]]);
      const proxy = await startProxy();

      await expect(send('GET', '/gateway/api/')).rejects.toThrow();
      await until(() => proxy.stats.totals('api')[0]?.requests === 1);
      expect(proxy.stats.totals('api')[0].byCode).toEqual({ '502': 1 });
      expect(proxy.inflight('api-1')).toBe(0);
    });
  });

  describe('outlier ejection', () => {
    it('ejects a pod after 5 consecutive 500s and sends it no more traffic', async () => {
      const bad = await backend('bad', 'v1', reply({ err: true }, 500));
      const good = await backend('good', 'v1');
      setRoute('api', ['v1', 100, [bad.endpoint, good.endpoint]]);
      const proxy = await startProxy();

      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await send('GET', '/gateway/api/')).status);

      expect(bad.hits).toBe(5);
      expect(good.hits).toBe(15);
      expect(statuses.filter((s) => s === 500)).toHaveLength(5);
      expect(events.filter((e) => e.type === 'ejected')).toEqual([
        expect.objectContaining({ service: 'api', podId: 'bad', version: 'v1' }),
      ]);
      expect(proxy.ejections()).toEqual([expect.objectContaining({ podId: 'bad', timesEjected: 1 })]);
    });

    it('returns an ejected pod when its readiness probe passes', async () => {
      const bad = await backend('bad', 'v1', reply({ err: true }, 500));
      const good = await backend('good', 'v1');
      setRoute('api', ['v1', 100, [bad.endpoint, good.endpoint]]);
      const proxy = await startProxy();
      for (let i = 0; i < 10; i++) await send('GET', '/gateway/api/');

      proxy.probePassed('bad');
      for (let i = 0; i < 2; i++) await send('GET', '/gateway/api/');

      expect(events.filter((e) => e.type === 'returned')).toEqual([
        expect.objectContaining({ podId: 'bad', version: 'v1', message: expect.stringContaining('readiness probe') }),
      ]);
      expect(bad.hits).toBe(6);
    });

    it('returns an ejected pod when the ejection time has elapsed', async () => {
      let now = 1_000_000;
      const bad = await backend('bad', 'v1', reply({ err: true }, 500));
      const good = await backend('good', 'v1');
      setRoute('api', ['v1', 100, [bad.endpoint, good.endpoint]]);
      await startProxy({ now: () => now });
      for (let i = 0; i < 10; i++) await send('GET', '/gateway/api/');

      now += 30_000;
      for (let i = 0; i < 2; i++) await send('GET', '/gateway/api/');

      expect(events.filter((e) => e.type === 'returned')).toEqual([expect.objectContaining({ podId: 'bad' })]);
      expect(bad.hits).toBe(6);
    });
  });

  describe('route changes', () => {
    it('prune() forgets removed pods and later requests open fresh pools', async () => {
      const bad = await backend('bad', 'v1', reply({ err: true }, 500));
      const good = await backend('good', 'v1');
      setRoute('api', ['v1', 100, [bad.endpoint, good.endpoint]]);
      const proxy = await startProxy();
      for (let i = 0; i < 10; i++) await send('GET', '/gateway/api/');
      expect(proxy.ejections()).toHaveLength(1);

      setRoute('api', ['v1', 100, [good.endpoint]]);
      proxy.prune([good.endpoint]);
      expect(proxy.ejections()).toEqual([]);
      proxy.prune([]);

      expect((await send('GET', '/gateway/api/')).status).toBe(200);
    });

    it('forgetService() drops the statistics of a deleted service', async () => {
      const b = await backend('api-1', 'v1');
      setRoute('api', ['v1', 100, [b.endpoint]]);
      const proxy = await startProxy();
      await send('GET', '/gateway/api/');

      proxy.forgetService('api');

      expect(proxy.stats.totals('api')).toEqual([]);
    });
  });

  describe('in-flight and drain', () => {
    it('drain() resolves once the in-flight request completes', async () => {
      const held: http.ServerResponse[] = [];
      const b = await backend('api-1', 'v1', (_req, res) => held.push(res));
      setRoute('api', ['v1', 100, [b.endpoint]]);
      const proxy = await startProxy();

      const pending = send('GET', '/gateway/api/slow');
      await until(() => held.length === 1 && proxy.inflight('api-1') === 1);
      let drained: boolean | undefined;
      const drain = proxy.drain('api-1', 10_000).then((d) => (drained = d));
      expect(await proxy.drain('api-1', 20)).toBe(false);
      expect(drained).toBeUndefined();

      held[0].end('done');

      await expect(drain).resolves.toBe(true);
      expect((await pending).body.toString()).toBe('done');
      expect(proxy.inflight('api-1')).toBe(0);
      await expect(proxy.drain('api-1', 10)).resolves.toBe(true);
    });

    it('aborts the upstream request when the client goes away', async () => {
      let upstreamClosed = false;
      const b = await backend('api-1', 'v1', (req) => req.socket.on('close', () => (upstreamClosed = true)));
      setRoute('api', ['v1', 100, [b.endpoint]]);
      const proxy = await startProxy();

      const client = http.request({ host: '127.0.0.1', port: proxyPort, path: '/gateway/api/', agent: false });
      client.on('error', () => undefined);
      client.end();
      await until(() => proxy.inflight('api-1') === 1 && b.hits === 1);
      client.destroy();

      await until(() => upstreamClosed && proxy.inflight('api-1') === 0);
      await until(() => proxy.stats.totals('api')[0]?.requests === 1);
      expect(proxy.stats.totals('api')[0].byCode).toEqual({ '499': 1 });
      expect(events).toEqual([]);
    });
  });
});
