// Fault delays on both proxy paths: a client that leaves during the hold cancels its request
// (the pod never sees it), a held request claims no pod while it waits, and a delayed request
// that reached the pod is in the numbers analysis reads, latency counted after the hold.
import http from 'node:http';
import net from 'node:net';
import type { GatewayRoute } from './gateway.types.js';
import { GatewayProxy } from './proxy.js';
import { WireProxy } from './wire-proxy.js';

const DELAY_MS = 150;
let upstream: http.Server;
let seen: string[];
let gateway: GatewayProxy;
let wire: WireProxy;
let nodeServer: http.Server;
let ports: { fast: number; node: number };

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${condition.toString()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

beforeEach(async () => {
  seen = [];
  upstream = http.createServer((req, res) => {
    seen.push(req.url!);
    if (req.url === '/fail') res.statusCode = 500;
    res.end('ok');
  });
  const upPort = await listen(upstream);
  const route: GatewayRoute = { service: 'api', versions: [{ version: 'v1', weight: 1, endpoints: [{ podId: 'api-1', version: 'v1', host: '127.0.0.1', port: upPort }] }] };
  gateway = new GatewayProxy({ routes: (s) => (s === 'api' ? route : undefined), now: () => Date.now() });
  gateway.core.faults.add({ id: 'faults-test', service: 'api', abortPercent: 0, abortStatus: 503, delayMs: DELAY_MS, delayPercent: 100 });
  wire = new WireProxy({ core: gateway.core, router: (target) => ({ service: 'api', path: target }), fallback: (s) => s.destroy() });
  nodeServer = http.createServer((req, res) => gateway.handle(req, res, 'api', req.url!));
  ports = { fast: (await wire.listen(0, '127.0.0.1')).port, node: await listen(nodeServer) };
});

afterEach(async () => {
  wire.close();
  nodeServer.closeAllConnections();
  upstream.closeAllConnections();
  await Promise.all([new Promise((r) => nodeServer.close(r)), new Promise((r) => upstream.close(r)), gateway.close()]);
});

describe.each(['fast', 'node'] as const)('a fault delay on the %s path', (path) => {
  it('is cancelled by a client that leaves during the hold, and claims no pod while it waits', async () => {
    const port = ports[path];
    const leaver = net.connect(port, '127.0.0.1');
    leaver.write('GET /left HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => gateway.core.faults.counts('faults-test')!.delayed === 1);
    expect(gateway.inflight('api-1')).toBe(0);
    leaver.destroy();

    // Held as long as the first, started after it: once the pod has seen it, the first one's hold would have ended too.
    const res = await fetch(`http://127.0.0.1:${port}/stayed`);
    expect(res.headers.get('x-grid-fault')).toBe('delay');
    expect(await res.text()).toBe('ok');
    expect(seen).toEqual(['/stayed']);
    expect(gateway.stats.totals('api')[0]).toMatchObject({ requests: 1, faults: { aborted: 0, delayed: 2 } });
  });

  it("counts a delayed request's real answer (a pod's 500 too) in requests and errors, its latency without the injected delay", async () => {
    const port = ports[path];
    const answers = [await fetch(`http://127.0.0.1:${port}/fail`), await fetch(`http://127.0.0.1:${port}/fine`)];
    expect(answers.map((r) => [r.status, r.headers.get('x-grid-fault')])).toEqual([[500, 'delay'], [200, 'delay']]);
    const t = gateway.stats.totals('api')[0];
    expect(t).toMatchObject({ requests: 2, errors5xx: 1, byCode: { '200': 1, '500': 1 }, faults: { aborted: 0, delayed: 2 } });
    expect(t.maxMs).toBeLessThan(DELAY_MS);
    expect(gateway.stats.window('api', 'v1', 0, Date.now())).toMatchObject({ requests: 2, errors5xx: 1 });
  });
});
