// Issue 3 end to end: real child processes, real HTTP probes, the gateway.
import { spawnSync } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import { applyYaml, cleanupAll, example, expectEventually, json, killRecordedPods, podsOf, readyPods, sameProcess, startGrid, tempDataDir, type GridHandle } from '../utils/grid.js';

function webSpec(name: string, extra = '', env = '', replicas = 3): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  command: ["node", "demo-services/versioned/server.js"]
  env:
    - { name: VERSION, value: v1 }${env}
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
  livenessProbe: { httpGet: { path: /health/live }, periodSeconds: 1, failureThreshold: 2 }
  restartBackoff: { initialSeconds: 0.5, maxSeconds: 2 }
  terminationGracePeriodSeconds: 3
${extra}`;
}

/** Sends requests to the gateway in a bounded loop (count and time) and counts outcomes. */
async function load(url: string, opts: { concurrency: number; maxRequests: number; maxMs: number; until?: (sent: number) => boolean }) {
  const codes = new Map<number | string, number>();
  const pods = new Map<string, number>();
  let sent = 0;
  const deadline = Date.now() + opts.maxMs;
  const worker = async () => {
    while (sent < opts.maxRequests && Date.now() < deadline && !(opts.until?.(sent) ?? false)) {
      sent++;
      try {
        const r = await fetch(url);
        await r.arrayBuffer();
        codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
        const pod = r.headers.get('x-grid-pod');
        if (pod) pods.set(pod, (pods.get(pod) ?? 0) + 1);
      } catch (e) {
        const k = `error: ${(e as Error).message}`;
        codes.set(k, (codes.get(k) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const total = [...codes.values()].reduce((a, b) => a + b, 0);
  const ok = codes.get(200) ?? 0;
  return { total, ok, failed: total - ok, codes: Object.fromEntries(codes), pods };
}

describe('process runtime and gateway', () => {
  let g: GridHandle;
  afterAll(cleanupAll);

  beforeAll(async () => {
    g = await startGrid();
  });

  it('runs examples/demo.yaml as 3 Ready processes within 5 s and spreads gateway traffic over them', async () => {
    const t0 = Date.now();
    expect((await applyYaml(g, example('demo.yaml'))).status).toBe(200);
    // The 5 s count from before the apply: the poll gets what the apply left of them.
    const pods = await expectEventually(() => readyPods(g, 'web', 3), 5000 - (Date.now() - t0), 20);
    expect(pods.every((p) => typeof p.pid === 'number' && typeof p.port === 'number')).toBe(true);
    const r = await load(`${g.url}/gateway/web/version`, { concurrency: 3, maxRequests: 30, maxMs: 10000 });
    expect(r.codes).toEqual({ 200: 30 });
    expect([...r.pods.keys()].sort()).toEqual(pods.map((p) => p.id).sort());
    expect([...r.pods.values()]).toEqual([10, 10, 10]);
    const one = await fetch(`${g.url}/gateway/web/version`);
    expect(one.headers.get('x-grid-version')).toBe('v1');
    expect(((await one.json()) as { version: string }).version).toBe('v1');
    const proxyAlias = await fetch(`${g.url}/proxy/web/headers`, { headers: { 'x-request-id': 'abc-123' } });
    const h = (await proxyAlias.json()) as Record<string, string>;
    expect(h['x-request-id']).toBe('abc-123');
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-host']).toBe(`127.0.0.1:${g.port}`);
    const logs = await fetch(`${g.url}/pods/${pods[0].id}/logs?tail=5`);
    expect(await logs.text()).toContain('listening on 127.0.0.1:');
  });

  it('restarts a crashed process (same pod, restart counted)', async () => {
    expect((await applyYaml(g, webSpec('crashme'))).status).toBe(200);
    const all = await expectEventually(() => readyPods(g, 'crashme', 3), 10000);
    const r = await fetch(`${g.url}/gateway/crashme/chaos/crash`, { method: 'POST' });
    expect(r.status).toBe(202);
    const victim = r.headers.get('x-grid-pod')!;
    const before = all.find((p) => p.id === victim)!;
    await expectEventually(async () => {
      const p = (await podsOf(g, 'crashme')).find((x) => x.id === victim);
      return p && p.restarts === before.restarts + 1 && p.ready && p.pid !== before.pid;
    }, 10000);
    const ev = (await json(`${g.url}/events?service=crashme&type=pod.exited`)).body.events;
    expect(ev.some((e: any) => e.pod === victim && /exited with code 1/.test(e.message))).toBe(true);
    await expectEventually(() => readyPods(g, 'crashme', 3));
  });

  it('keeps an unready pod out of the gateway and restarts a pod whose liveness fails, with backoff', async () => {
    await applyYaml(g, webSpec('probed'));
    await expectEventually(() => readyPods(g, 'probed', 3), 10000);
    const r = await fetch(`${g.url}/gateway/probed/chaos/unready?value=true`, { method: 'POST' });
    const unready = r.headers.get('x-grid-pod')!;
    await expectEventually(async () => (await podsOf(g, 'probed')).find((p) => p.id === unready)?.ready === false, 10000);
    const traffic = await load(`${g.url}/gateway/probed/version`, { concurrency: 2, maxRequests: 40, maxMs: 10000 });
    expect(traffic.codes).toEqual({ 200: 40 });
    expect(traffic.pods.has(unready)).toBe(false);
    const port = (await podsOf(g, 'probed')).find((p) => p.id === unready)!.port;
    await fetch(`http://127.0.0.1:${port}/reset`, { method: 'POST' });
    await expectEventually(() => readyPods(g, 'probed', 3), 10000);

    const l = await fetch(`${g.url}/gateway/probed/chaos/liveness?fail=true`, { method: 'POST' });
    const dying = l.headers.get('x-grid-pod')!;
    await expectEventually(async () => (await podsOf(g, 'probed')).find((p) => p.id === dying)!.restarts >= 1, 15000);
    const ev = (await json(`${g.url}/events?service=probed&type=pod.exited`)).body.events;
    expect(ev.some((e: any) => e.pod === dying && e.reason === 'LivenessProbeFailed')).toBe(true);
    await expectEventually(() => readyPods(g, 'probed', 3), 15000);
  });

  it('scales down under load with zero failed requests', async () => {
    expect((await applyYaml(g, webSpec('shrink'))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'shrink', 3), 10000);
    let scaled = false;
    let mark: number | undefined;
    // Keep the load on until 300 more requests have gone to the single remaining pod.
    const until = (sent: number) => {
      if (scaled && mark === undefined) mark = sent;
      return mark !== undefined && sent > mark + 300;
    };
    const running = load(`${g.url}/gateway/shrink/version`, { concurrency: 8, maxRequests: 20000, maxMs: 20000, until });
    await expectEventually(async () => (await json(`${g.url}/traffic?service=shrink&window=5`)).body.totals.length > 0);
    const s = await json(`${g.url}/scale?service=shrink&delta=-2`, { method: 'POST' });
    expect(s.body.replicas).toBe(1);
    await expectEventually(async () => (await podsOf(g, 'shrink')).length === 1, 15000);
    scaled = true;
    const r = await running;
    expect(r.total).toBeGreaterThan(300);
    expect(r.codes).toEqual({ 200: r.total });
  });

  it('marks a pod Failed with the spawn error when the binary does not exist, and stays healthy', async () => {
    const bad = `apiVersion: v1\nkind: Service\nmetadata: { name: broken }\nspec:\n  replicas: 1\n  command: ["/nonexistent/grid-test-binary"]\n  restartBackoff: { initialSeconds: 1, maxSeconds: 5 }\n`;
    expect((await applyYaml(g, bad)).status).toBe(200);
    await expectEventually(async () => ['Failed', 'CrashLoopBackOff'].includes((await podsOf(g, 'broken'))[0]?.state), 10000);
    const ev = (await json(`${g.url}/events?service=broken&type=pod.failed`)).body.events;
    expect(ev[0].message).toContain('no such file or directory');
    expect((await json(`${g.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${g.url}/gateway/broken/`)).status).toBe(503);
    expect((await json(`${g.url}/services/broken`, { method: 'DELETE' })).status).toBe(200);
  });

  it('restarts a pod whose port never opens once its liveness budget runs out', async () => {
    const mute = `apiVersion: v1\nkind: Service\nmetadata: { name: mute }\nspec:\n  replicas: 1\n  command: ["node", "-e", "setInterval(() => {}, 1000)"]\n  livenessProbe: { httpGet: { path: /health/live }, periodSeconds: 1, failureThreshold: 2 }\n  restartBackoff: { initialSeconds: 1, maxSeconds: 2 }\n  terminationGracePeriodSeconds: 1\n`;
    expect((await applyYaml(g, mute)).status).toBe(200);
    await expectEventually(async () => (await podsOf(g, 'mute'))[0]?.restarts >= 1, 15000);
    const ev = (await json(`${g.url}/events?service=mute&type=pod.exited`)).body.events;
    expect(ev[0]).toMatchObject({ reason: 'LivenessProbeFailed' });
    expect(ev[0].message).toContain('did not accept connections within 2s');
    expect((await json(`${g.url}/services/mute`, { method: 'DELETE' })).status).toBe(200);
  });

  it('expands $(PORT) in command: examples/python-http.yaml runs python3 -m http.server behind the gateway', async () => {
    if (spawnSync('python3', ['--version']).status !== 0) {
      if (process.env.CI === 'true') throw new Error('python3 is not installed, and CI must run this test');
      console.warn('skipping the python-http example: python3 is not installed');
      return;
    }
    expect((await applyYaml(g, example('python-http.yaml'))).status).toBe(200);
    const pods = await expectEventually(() => readyPods(g, 'python-http', 2), 15000);
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${g.url}/gateway/python-http/`);
      expect([r.status, await r.text()]).toEqual([200, expect.stringContaining('Hello from python3 -m http.server, run by Grid')]);
      served.add(r.headers.get('x-grid-pod')!);
    }
    expect([...served].sort()).toEqual(pods.map((p) => p.id).sort());
    expect((await json(`${g.url}/services/python-http`, { method: 'DELETE' })).status).toBe(200);
  });

  it('runs the shop app end to end through the gateway', async () => {
    expect((await applyYaml(g, example('shop.yaml'))).status).toBe(200);
    for (const s of ['data-ingest', 'business-logic', 'frontend-api']) await expectEventually(() => readyPods(g, s, 2), 15000);
    const created = await json(`${g.url}/gateway/frontend-api/api/v1/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice_1', email: 'alice@example.com' }) });
    expect(created.status).toBe(201);
    const invalid = await json(`${g.url}/gateway/frontend-api/api/v1/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'x', email: 'nope' }) });
    expect(invalid.status).toBe(400);
    const ingest = await json(`${g.url}/gateway/frontend-api/api/v1/data/ingest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'sensor', data: { t: 25.5 }, source: 'api' }) });
    expect(ingest.status).toBe(201);
    const order = await json(`${g.url}/gateway/frontend-api/api/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: 1, amount: 10 }) });
    expect(order.status).toBe(201);
    expect(order.body.total).toBeCloseTo(10.8);
  });
});

/** Writes `bytes` on one connection and reads `count` responses (content-length framed) off it. */
function rawExchange(url: string, bytes: string, count: number): Promise<Array<{ status: number; headers: Record<string, string>; body: string }>> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    let buf = Buffer.alloc(0);
    const out: Array<{ status: number; headers: Record<string, string>; body: string }> = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only ${out.length} of ${count} responses within 10 s: ${buf.toString('latin1')}`));
    }, 10_000);
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.toString('latin1', 0, end).split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        const length = Number(headers['content-length'] ?? 0);
        if (buf.length < end + 4 + length) return;
        out.push({ status: Number(lines[0].split(' ')[1]), headers, body: buf.toString('utf8', end + 4, end + 4 + length) });
        buf = buf.subarray(end + 4 + length);
        if (out.length === count) {
          clearTimeout(timer);
          socket.destroy();
          resolve(out);
          return;
        }
      }
    });
  });
}

/** Writes `bytes` on one connection and returns everything read until the server closes it (or 10 s pass). */
function rawUntilClosed(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes, 'latin1'));
    let out = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection not closed within 10 s: ${out}`));
    }, 10_000);
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

function getWithHost(url: string, host: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

describe('dedicated gateway listener (GRID_GATEWAY_PORT, raw-socket fast path)', () => {
  let g: GridHandle;
  let gw: string;
  afterAll(cleanupAll);

  beforeAll(async () => {
    g = await startGrid({ env: { GRID_GATEWAY_PORT: '0' } });
    gw = g.gatewayUrl!;
    expect(gw).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await applyYaml(g, webSpec('web'))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'web', 3), 10000);
  });

  it('routes by path and by Host, spreads over the pods and forwards the request headers', async () => {
    const pods = await readyPods(g, 'web', 3);
    const r = await load(`${gw}/web/version`, { concurrency: 3, maxRequests: 30, maxMs: 10000 });
    expect(r.codes).toEqual({ 200: 30 });
    expect([...r.pods.keys()].sort()).toEqual(pods.map((p) => p.id).sort());
    expect([...r.pods.values()]).toEqual([10, 10, 10]);

    const byHost = await getWithHost(`${gw}/version`, 'web.grid.test');
    expect(byHost.status).toBe(200);
    expect(JSON.parse(byHost.body)).toMatchObject({ service: 'web', version: 'v1' });
    expect(byHost.headers['x-grid-version']).toBe('v1');

    const echoed = await fetch(`${gw}/web/headers`, { headers: { 'x-request-id': 'abc-123', 'x-forwarded-for': '10.0.0.1', 'x-custom': 'yes' } });
    const h = (await echoed.json()) as Record<string, string>;
    expect(echoed.headers.get('x-request-id')).toBe('abc-123');
    expect(h).toMatchObject({ 'x-request-id': 'abc-123', 'x-forwarded-for': '10.0.0.1, 127.0.0.1', 'x-forwarded-proto': 'http', 'x-custom': 'yes' });
    expect(h['x-forwarded-host']).toBe(new URL(gw).host);
    expect(h.host).toMatch(/^127\.0\.0\.1:\d+$/);

    expect((await fetch(`${gw}/nope/x`)).status).toBe(404);
    const bare = await json(`${gw}/`);
    expect(bare.status).toBe(404);
    expect(bare.body.message).toContain('no service named in the request');
    // A Host that names no service: the 404 names it, not the first path segment.
    expect(JSON.parse((await getWithHost(`${gw}/api/v1/users`, 'shop.local')).body).message).toBe("service 'shop' not found");
    expect((await getWithHost(`${gw}/version`, 'WEB.grid.test')).status).toBe(200);
    // Absolute form, as an HTTP proxy client sends it (curl -x).
    const proxied = await rawExchange(gw, `GET http://web.local/version HTTP/1.1\r\nHost: web.local\r\n\r\n`, 1);
    expect(proxied[0].status).toBe(200);
    expect(JSON.parse(proxied[0].body)).toMatchObject({ service: 'web' });
    // No blue/green preview waiting: the preview route serves the active version.
    expect((await fetch(`${gw}/web--preview/version`)).headers.get('x-grid-version')).toBe('v1');
  });

  it('serves pipelined requests in order when one of them needs the full HTTP parser (chunked body, HTTP/1.0)', async () => {
    const host = new URL(gw).host;
    const replies = await rawExchange(
      gw,
      `GET /web/version HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
        `POST /web/version HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n` +
        `GET /web/version HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      3,
    );
    // The demo service answers 405 to a POST on /version: proof that the chunked request reached a pod.
    expect(replies.map((r) => r.status)).toEqual([200, 405, 200]);
    expect(replies.every((r) => /^web-/.test(r.headers['x-grid-pod']))).toBe(true);
    const old = await rawExchange(gw, `GET /web/version HTTP/1.0\r\n\r\n`, 1);
    expect(old[0].status).toBe(200);
    expect(JSON.parse(old[0].body)).toMatchObject({ service: 'web' });
  });

  // Found by the attack review: after the guard's refusal, llhttp's error on the bytes behind it made
  // Fastify's client-error handler (main port) and Node's (dedicated port) write a second response.
  it.each([
    ['main port, REST API', 'url', '/healthz'],
    ['main port, gateway', 'url', '/gateway/web/version'],
    ['dedicated port', 'gatewayUrl', '/web/version'],
  ] as const)('%s: a refused request is answered once, whatever unparsable bytes follow it', async (_name, port, target) => {
    const url = port === 'url' ? g.url : gw;
    for (const after of ['\x01garbage\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'G\x00T / HTTP/1.1\r\n\r\n']) {
      const out = await rawUntilClosed(url, `GET ${target} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n${after}`);
      expect({ after, statuses: out.match(/HTTP\/1\.1 \d{3}/g) }).toEqual({ after, statuses: ['HTTP/1.1 400'] });
    }
    // A connection whose first bytes llhttp refuses gets one 400 too.
    const bad = await rawUntilClosed(url, 'G\x00T / HTTP/1.1\r\n\r\n');
    expect(bad.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 400']);
    expect(JSON.parse(bad.slice(bad.indexOf('\r\n\r\n') + 4))).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('on the main port, a connection that starts with gateway traffic carries on to the REST API', async () => {
    const host = new URL(g.url).host;
    const replies = await rawExchange(
      g.url,
      `GET /gateway/web/version HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
        `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
        `GET /gateway/web/version HTTP/1.1\r\nHost: ${host}\r\n\r\n` +
        `GET /gateway/BAD/x HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      4,
    );
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 400]);
    expect(JSON.parse(replies[0].body)).toMatchObject({ service: 'web' });
    expect(replies[1].headers['x-grid-pod']).toBeUndefined();
    expect(JSON.parse(replies[1].body)).toMatchObject({ status: 'ok' });
    expect(JSON.parse(replies[2].body)).toMatchObject({ service: 'web' });
    expect(JSON.parse(replies[3].body).message).toContain('service');
  });

  it('keeps serving with zero failed requests while a pod crashes and while the service scales down', async () => {
    let crashed = false;
    let mark: number | undefined;
    const until = (sent: number) => {
      if (crashed && mark === undefined) mark = sent;
      return mark !== undefined && sent > mark + 300;
    };
    const running = load(`${gw}/web/version`, { concurrency: 8, maxRequests: 20000, maxMs: 20000, until });
    await expectEventually(async () => (await json(`${g.url}/traffic?service=web&window=5`)).body.totals.length > 0);
    const crash = await fetch(`${gw}/web/chaos/crash`, { method: 'POST' });
    expect(crash.status).toBe(202);
    crashed = true;
    const r = await running;
    expect(r.codes).toEqual({ 200: r.total });
    await expectEventually(async () => (await podsOf(g, 'web')).some((p) => p.restarts >= 1), 10000);
    await expectEventually(() => readyPods(g, 'web', 3), 10000);

    let scaled = false;
    mark = undefined;
    const untilScaled = (sent: number) => {
      if (scaled && mark === undefined) mark = sent;
      return mark !== undefined && sent > mark + 300;
    };
    const during = load(`${gw}/web/version`, { concurrency: 8, maxRequests: 20000, maxMs: 20000, until: untilScaled });
    expect((await json(`${g.url}/scale?service=web&delta=-2`, { method: 'POST' })).body.replicas).toBe(1);
    await expectEventually(async () => (await podsOf(g, 'web')).length === 1, 15000);
    scaled = true;
    const d = await during;
    expect(d.total).toBeGreaterThan(300);
    expect(d.codes).toEqual({ 200: d.total });
  });
});

describe('shutdown with idle gateway connections open', () => {
  afterAll(cleanupAll);

  it('SIGTERM exits promptly while keep-alive clients sit idle on both ports', async () => {
    const g = await startGrid({ env: { GRID_GATEWAY_PORT: '0' } });
    expect((await applyYaml(g, webSpec('idle', '', '', 1))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'idle', 1), 10000);
    const open: net.Socket[] = [];
    const connectTo = (url: string) =>
      new Promise<net.Socket>((resolve, reject) => {
        const { hostname, port } = new URL(url);
        const s = net.connect(Number(port), hostname, () => resolve(s));
        s.on('error', reject);
        open.push(s);
      });
    try {
      // Served on the fast path, then left idle (keep-alive) on each port; and one that never sends a byte.
      for (const [url, path] of [
        [g.url, '/gateway/idle/version'],
        [g.gatewayUrl!, '/idle/version'],
      ]) {
        const s = await connectTo(url);
        const got = new Promise<void>((resolve) => s.once('data', () => resolve()));
        s.write(`GET ${path} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n`);
        await got;
      }
      await connectTo(g.url);

      const t0 = Date.now();
      expect(await g.stop()).toBe(0);
      // The client idle timeout is 65 s; without the fast path's connections being closed, Grid would wait for it.
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      for (const s of open) s.destroy();
    }
  });
});

describe('GRID_GATEWAY_FAST_PATH=false', () => {
  afterAll(cleanupAll);

  it('serves both gateway ports with node:http + undici only', async () => {
    const g = await startGrid({ env: { GRID_GATEWAY_PORT: '0', GRID_GATEWAY_FAST_PATH: 'false' } });
    expect((await applyYaml(g, webSpec('slow-path', '', '', 1))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'slow-path', 1), 10000);
    for (const url of [`${g.url}/gateway/slow-path/version`, `${g.gatewayUrl}/slow-path/version`]) {
      const r = await fetch(url);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-grid-version')).toBe('v1');
      // node:http answers keep-alive with its own Keep-Alive header (with the per-connection request limit); the fast path passes the connection through without one.
      expect(r.headers.get('keep-alive')).toMatch(/^timeout=\d+, max=1000$/);
      await r.arrayBuffer();
    }
  });
});

describe('Grid restart adopts process pods', () => {
  afterAll(cleanupAll);

  it('after SIGKILL, a new Grid adopts the same pods: none duplicated, none orphaned', async () => {
    const dataDir = tempDataDir();
    try {
      const g1 = await startGrid({ dataDir });
      await applyYaml(g1, webSpec('adoptee'));
      const before = await expectEventually(() => readyPods(g1, 'adoptee', 3), 10000);
      await g1.kill();
      for (const p of before) expect(sameProcess(p.pid!, null)).toBe(true);
      const g2 = await startGrid({ dataDir });
      const after = await expectEventually(() => readyPods(g2, 'adoptee', 3), 10000);
      expect(after.map((p) => `${p.id}:${p.pid}`).sort()).toEqual(before.map((p) => `${p.id}:${p.pid}`).sort());
      const ev = (await json(`${g2.url}/events?service=adoptee&type=pod.adopted`)).body.events;
      expect(ev).toHaveLength(3);
      // Traffic still flows to the adopted pods, and a clean stop ends them.
      expect((await fetch(`${g2.url}/gateway/adoptee/version`)).status).toBe(200);
      expect(await g2.stop()).toBe(0);
      await expectEventually(() => before.every((p) => !sameProcess(p.pid!, null)), 10000);
    } finally {
      killRecordedPods(dataDir);
    }
  });
});
