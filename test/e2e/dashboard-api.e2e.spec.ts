// The server side of the dashboard: its static shell and bundles, and the routes it added
// (whoami, dry-run apply, history, kill one pod, a pod's chaos toggles, log follow, the audit id).
import * as http from 'node:http';
import { applyYaml, cleanupAll, expectEventually, json, readyPods, startGrid, type GridHandle } from '../utils/grid.js';

const versioned = (name: string, replicas: number, version = 'v1') => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  command: ["node", "demo-services/versioned/server.js"]
  env: [{ name: VERSION, value: ${version} }]
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
`;

/** Reads an SSE response until `until` says enough, or the deadline passes; `opened` resolves once its head arrived. */
function sse(url: string, until: (text: string) => boolean, timeoutMs = 10_000): { opened: Promise<void>; done: Promise<{ status: number; text: string }> } {
  let opened!: () => void;
  const open = new Promise<void>((r) => (opened = r));
  const done = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.get(url, (res) => {
      opened();
      let text = '';
      const timer = setTimeout(() => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text });
      }, timeoutMs);
      res.setEncoding('utf8');
      // The server ending the stream ends the read too.
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text });
      });
      res.on('data', (c: string) => {
        text += c;
        if (until(text)) {
          clearTimeout(timer);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, text });
        }
      });
    });
    req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
  });
  return { opened: open, done };
}

describe('dashboard: assets and routes (open Grid)', () => {
  let g: GridHandle;
  beforeAll(async () => {
    g = await startGrid();
  });
  afterAll(cleanupAll);

  it('serves the shell at /, /dashboard and /dashboard/ (no-cache, CSP) and hashed bundles as immutable, brotli when asked', async () => {
    for (const p of ['/', '/dashboard', '/dashboard/']) {
      const r = await fetch(`${g.url}${p}`);
      expect([p, r.status]).toEqual([p, 200]);
      expect(r.headers.get('content-type')).toContain('text/html');
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await r.text();
      expect(html).toMatch(/<script type="module" src="\/assets\/app-[A-Z0-9]+\.js">/);
    }
    const html = await (await fetch(`${g.url}/`)).text();
    const js = html.match(/\/assets\/app-[A-Z0-9]+\.js/)![0];
    const raw = await new Promise<http.IncomingMessage>((resolve) => http.get(`${g.url}${js}`, { headers: { 'accept-encoding': 'br' } }, resolve));
    raw.resume();
    expect(raw.headers['content-encoding']).toBe('br');
    expect(raw.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${g.url}${js}.br`)).status).toBe(404);
  });

  it('whoami: an open Grid lets anyone act', async () => {
    const r = await json(`${g.url}/auth/whoami`);
    expect(r.body).toEqual({ name: 'anonymous', kind: 'anonymous', role: null, canAct: true, authRequired: { read: false, mutate: false } });
  });

  it('dry run: reports changes field by field, stores nothing, and is audited as apply.dry-run with its id in X-Grid-Audit-Id', async () => {
    expect((await applyYaml(g, versioned('dry', 1))).status).toBe(200);
    const before = await json(`${g.url}/services/dry`);
    const r = await json(`${g.url}/apply?dryRun=All`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: versioned('dry', 2, 'v2') });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ dryRun: true, applied: [{ service: 'dry', result: 'configured', templateChanged: true, changes: [{ path: 'spec.replicas', from: 1, to: 2 }, { path: 'spec.env[0].value', from: 'v1', to: 'v2' }] }] });
    const after = await json(`${g.url}/services/dry`);
    expect(after.body.generation).toBe(before.body.generation);
    const id = Number(r.headers.get('x-grid-audit-id'));
    expect(id).toBeGreaterThan(0);
    const audit = await json(`${g.url}/audit?action=apply.dry-run`);
    expect(audit.body.entries.map((e: { id: number }) => e.id)).toContain(id);

    const bad = await json(`${g.url}/apply?dryRun=All`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: versioned('dry', -1) });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('spec.replicas');
    expect((await json(`${g.url}/apply?dryRun=yes`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: versioned('dry', 1) })).body.message).toContain('dryRun');
  });

  it('history: a sample every 5 s per service; 404 for an unknown one', async () => {
    expect((await applyYaml(g, 'apiVersion: v1\nkind: Service\nmetadata: {name: hist}\nspec: {replicas: 2, image: "local://hist@v1"}\n')).status).toBe(200);
    await expectEventually(() => readyPods(g, 'hist', 2));
    const r = await expectEventually(async () => {
      const h = await json(`${g.url}/services/hist/history`);
      expect(h.body.points.some((p: { ready: number }) => p.ready === 2)).toBe(true);
      return h;
    }, 15_000, 500);
    expect(r.body).toMatchObject({ service: 'hist', stepSeconds: 5, windowSeconds: 900 });
    expect(r.body.points.at(-1)).toEqual({ t: expect.any(Number), desired: 2, ready: 2, restarts: 0, rps: 0, errorRate: 0, p99Ms: null });
    expect((await json(`${g.url}/services/nope/history`)).status).toBe(404);
  });

  it("kills one pod by id, flips one pod's chaos toggle on that pod only, and follows its log", async () => {
    expect((await applyYaml(g, versioned('pods', 2))).status).toBe(200);
    const [a, b] = await expectEventually(() => readyPods(g, 'pods', 2), 15_000);

    const flip = await json(`${g.url}/pods/${a.id}/chaos/unready?value=true`, { method: 'POST' });
    expect(flip.status).toBe(200);
    expect(flip.body).toMatchObject({ pod: a.id, toggle: 'unready', status: 200, answer: { unready: true } });
    expect((await json(`${g.url}/pods/${a.id}/chaos`)).body.chaos.unready).toBe(true);
    expect((await json(`${g.url}/pods/${b.id}/chaos`)).body.chaos.unready).toBe(false);
    expect((await json(`${g.url}/events?type=chaos.injected`)).body.events.at(-1)).toMatchObject({ pod: a.id, reason: 'ChaosInjected' });

    // The pod's own refusal comes through as words, not as its JSON.
    const refused = await json(`${g.url}/pods/${a.id}/chaos/fail?rate=5`, { method: 'POST' });
    expect([refused.status, refused.body.message]).toEqual([400, 'query: rate must be a number 0..1']);

    // The demo service writes a line before a crash: the follower sees it as the pod writes it.
    const follow = sse(`${g.url}/pods/${a.id}/logs?follow=1`, (t) => t.includes('chaos/crash'), 10_000);
    await follow.opened;
    const crash = await json(`${g.url}/pods/${a.id}/chaos/crash`, { method: 'POST' });
    expect(crash.body).toMatchObject({ pod: a.id, toggle: 'crash', status: 202 });
    const followed = await follow.done;
    expect(followed.status).toBe(200);
    expect(followed.text).toMatch(/event: log\ndata: POST \/chaos\/crash: exiting with code 1/);

    expect((await json(`${g.url}/pods/${a.id}/chaos/explode`, { method: 'POST' })).body.message).toContain('toggle');
    expect((await json(`${g.url}/pods/${a.id}/chaos/fail?rate=0.5&evil=1`, { method: 'POST' })).status).toBe(400);
    expect((await json(`${g.url}/pods/nope/chaos/reset`, { method: 'POST' })).status).toBe(404);

    const kill = await json(`${g.url}/chaos/kill?pod=${b.id}`, { method: 'POST' });
    expect(kill.body).toMatchObject({ service: 'pods', killed: [b.id] });
    // Replaced: two Ready pods again, and the killed one is not among them.
    await expectEventually(async () => {
      const pods = await readyPods(g, 'pods', 2);
      expect(pods.map((p) => p.id)).not.toContain(b.id);
      return true;
    }, 20_000);
    expect((await json(`${g.url}/chaos/kill?pod=${a.id}&service=pods`, { method: 'POST' })).status).toBe(400);
  });
});

describe('dashboard: a pod that answers without end', () => {
  afterAll(cleanupAll);

  it("GET /pods/:id/chaos keeps 4 KiB of an endless answer and returns at once (the whole body was read into memory first)", async () => {
    const g = await startGrid();
    const endless = `require('http').createServer((q, s) => { s.writeHead(200); const w = () => { while (s.write('x'.repeat(65536))); s.once('drain', w); }; w(); }).listen(process.env.PORT, '127.0.0.1')`;
    const yaml = `apiVersion: v1\nkind: Service\nmetadata: { name: endless }\nspec:\n  replicas: 1\n  command: ["node", "-e", ${JSON.stringify(endless)}]\n`;
    expect((await applyYaml(g, yaml)).status).toBe(200);
    const [pod] = await expectEventually(() => readyPods(g, 'endless', 1), 15_000);
    const started = Date.now();
    const r = await json(`${g.url}/pods/${pod.id}/chaos`);
    expect(r.status).toBe(200);
    expect(r.body.chaos).toHaveLength(4096);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('dashboard: what a page of another origin, or a pod page, can do', () => {
  let g: GridHandle;
  beforeAll(async () => {
    g = await startGrid({ env: { GRID_GATEWAY_PORT: '0' } });
  });
  afterAll(cleanupAll);

  it("refuses a change of state from another site's page or a sandboxed page (403, nothing applied); same origin and curl pass", async () => {
    const yaml = versioned('csrf', 1);
    const post = (headers: Record<string, string>) => json(`${g.url}/apply`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body: yaml });
    const foreign: Record<string, string>[] = [{ origin: 'http://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }, { origin: `http://localhost:${g.port + 1}`, 'sec-fetch-site': 'same-site' }];
    for (const headers of foreign) {
      const r = await post(headers);
      expect([JSON.stringify(headers), r.status]).toEqual([JSON.stringify(headers), 403]);
      expect(r.body.message).toMatch(/^refused: a request with a body sent by/);
    }
    expect((await json(`${g.url}/services/csrf`)).status).toBe(404);
    expect((await post({ origin: g.url, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    // Reads are not changes: another page may still GET (CORS keeps it from reading the answer).
    expect((await json(`${g.url}/services`, { headers: { origin: 'http://evil.example' } })).status).toBe(200);
  });

  it("puts pod pages on the main port in a sandbox (an origin of their own), but not on the dedicated gateway port", async () => {
    expect((await applyYaml(g, versioned('page', 1))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'page', 1), 15_000);
    const main = await fetch(`${g.url}/gateway/page/version`);
    expect(main.headers.get('content-security-policy')).toMatch(/^sandbox allow-scripts/);
    expect(main.headers.get('content-security-policy')).not.toContain('allow-same-origin');
    // The node path (a chunked upload is outside the fast path's subset) says the same.
    const upload = await fetch(`${g.url}/gateway/page/echo`, { method: 'POST', body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('x')), c.close()) }), duplex: 'half' } as RequestInit);
    expect(upload.headers.get('content-security-policy')).toMatch(/^sandbox allow-scripts/);
    const dedicated = await fetch(`${g.gatewayUrl}/page/version`);
    expect(dedicated.status).toBe(200);
    expect(dedicated.headers.get('content-security-policy')).toBeNull();
  });

  it('refuses an /apply parameter it does not know, so a mistyped dry run applies nothing', async () => {
    for (const q of ['dryrun=All', 'dryRun[]=All', 'dryRun=All&dryRun=All']) {
      const r = await json(`${g.url}/apply?${q}`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: versioned('typo', 1) });
      expect([q, r.status]).toEqual([q, 400]);
    }
    expect((await json(`${g.url}/services/typo`)).status).toBe(404);
  });
});

describe('chaos traffic: steady requests through the gateway', () => {
  afterAll(cleanupAll);

  it('sends rps × seconds GETs to the service through the gateway, counts the answers, stops by itself, and can be stopped', async () => {
    const g = await startGrid();
    expect((await applyYaml(g, versioned('busy', 2))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'busy', 2), 15_000);

    const started = await json(`${g.url}/chaos/traffic?service=busy&rps=20&seconds=2&path=/version`, { method: 'POST' });
    expect(started.body).toMatchObject({ service: 'busy', rps: 20, path: '/version' });
    const done = await expectEventually(async () => {
      const events = (await json(`${g.url}/events?service=busy&type=chaos.traffic`)).body.events;
      return events.find((e: { reason: string }) => e.reason === 'TrafficStopped');
    }, 10_000);
    expect(done.message).toBe('traffic to busy stopped (its time was up): 40 requests sent, 40 2xx');
    expect((await json(`${g.url}/chaos/traffic`)).body.generators).toEqual([]);
    const seen = (await json(`${g.url}/traffic?service=busy&window=60`)).body.window.byVersion.reduce((n: number, v: { requests: number }) => n + v.requests, 0);
    expect(seen).toBe(40);

    expect((await json(`${g.url}/chaos/traffic?service=busy&rps=5&seconds=60`, { method: 'POST' })).status).toBe(200);
    const stopped = await json(`${g.url}/chaos/traffic?service=busy`, { method: 'DELETE' });
    expect(stopped.body.service).toBe('busy');
    expect((await json(`${g.url}/chaos/traffic?service=busy`, { method: 'DELETE' })).status).toBe(404);
    for (const q of ['service=busy&rps=101', 'service=busy&seconds=0', 'service=busy&path=/../x', 'service=nope']) {
      expect([q, (await json(`${g.url}/chaos/traffic?${q}`, { method: 'POST' })).status]).toEqual([q, q === 'service=nope' ? 404 : 400]);
    }
  });
});

describe('dashboard: whoami and sign-in behind credentials', () => {
  let g: GridHandle;
  const key = 'dashboard-test-key-0123456789';
  beforeAll(async () => {
    g = await startGrid({ env: { GRID_API_KEYS: `ci:${key}` } });
  });
  afterAll(cleanupAll);

  it('keys only: reads are open, whoami proves a key sent anyway, and a wrong one is 401 without a browser prompt for scripts', async () => {
    expect((await json(`${g.url}/auth/whoami`)).body).toMatchObject({ kind: 'anonymous', canAct: false, authRequired: { read: false, mutate: true } });
    expect((await json(`${g.url}/auth/whoami`, { headers: { 'x-api-key': key } })).body).toMatchObject({ name: 'ci', kind: 'api-key', role: 'operator', canAct: true });
    const wrong = await json(`${g.url}/auth/whoami`, { headers: { 'x-api-key': 'not-the-key-at-all-000', 'x-requested-with': 'XMLHttpRequest' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBeNull();
    const browser = await json(`${g.url}/scale?service=x&replicas=1`, { method: 'POST' });
    expect(browser.status).toBe(401);
    expect(browser.headers.get('www-authenticate')).toContain('Basic');
  });
});

describe('dashboard: open streams do not hold Grid up', () => {
  afterAll(cleanupAll);

  it('SIGTERM with an event stream and a followed log open: the streams end and Grid exits 0', async () => {
    const g = await startGrid();
    expect((await applyYaml(g, versioned('held', 1))).status).toBe(200);
    const [pod] = await expectEventually(() => readyPods(g, 'held', 1), 15_000);
    const events = sse(`${g.url}/events/stream`, () => false, 30_000);
    const logs = sse(`${g.url}/pods/${pod.id}/logs?follow=1`, () => false, 30_000);
    await Promise.all([events.opened, logs.opened]);

    const started = Date.now();
    expect(await g.stop()).toBe(0);
    // Both ended with Grid, long before their own 30 s deadline.
    await Promise.all([events.done, logs.done]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
