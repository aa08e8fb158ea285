import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FailoverHealthCheck } from '../specs/spec.types.js';
import { containsJson, HealthChecker } from './health-check.js';

const HC: FailoverHealthCheck = { path: '/health', intervalSeconds: 1, timeoutSeconds: 1, expectStatus: [{ min: 200, max: 399 }], failureThreshold: 3, successThreshold: 2 };

describe(HealthChecker.name, () => {
  let server: http.Server;
  let base: string;
  let closedPort: number;
  const sut = new HealthChecker();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const send = (status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      switch (req.url) {
        case '/healthy':
          return send(200, '{"status":"healthy","version":"v1"}');
        case '/unhealthy':
          return send(503, '{"status":"unhealthy","reason":"data corruption detected"}');
        case '/corrupt':
          return send(200, '{"status":"degraded"}');
        case '/text':
          return send(200, 'OK');
        case '/slow':
          return void setTimeout(() => send(200, '{"status":"healthy"}'), 150);
        case '/hang':
          return void setTimeout(() => send(200, '{"status":"healthy"}'), 3000);
        case '/redirect':
          return res.writeHead(302, { location: '/healthy' }).end();
        default:
          return send(404, '{}');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const spare = http.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    closedPort = (spare.address() as AddressInfo).port;
    await new Promise<void>((r) => spare.close(() => r()));
  });

  afterAll(async () => {
    await sut.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it.each<[string, string, Partial<FailoverHealthCheck>, { ok: boolean; status?: number; problem?: string }]>([
    ['a 200 passes', '/healthy', {}, { ok: true, status: 200 }],
    ['a 302 passes the default 200-399', '/redirect', {}, { ok: true, status: 302 }],
    ['a 503 fails', '/unhealthy', {}, { ok: false, status: 503, problem: 'HTTP 503 (expected 200-399)' }],
    ['a status outside a list fails', '/redirect', { expectStatus: [{ min: 200, max: 200 }, { min: 204, max: 204 }] }, { ok: false, status: 302, problem: 'HTTP 302 (expected 200, 204)' }],
    ['a 404 fails', '/missing', {}, { ok: false, status: 404, problem: 'HTTP 404 (expected 200-399)' }],
    ['expectJson found', '/healthy', { expectJson: { status: 'healthy' } }, { ok: true, status: 200 }],
    ['expectJson missing: corrupted data fails', '/corrupt', { expectJson: { status: 'healthy' } }, { ok: false, status: 200, problem: 'HTTP 200 with a body that does not contain {"status":"healthy"}' }],
    ['expectJson against a text body fails', '/text', { expectJson: { status: 'healthy' } }, { ok: false, status: 200, problem: 'HTTP 200 with a body that is not JSON (expected it to contain {"status":"healthy"})' }],
    ['slower than maxLatencyMs fails', '/slow', { maxLatencyMs: 50 }, { ok: false, status: 200, problem: 'above maxLatencyMs 50' }],
    ['no answer within the timeout fails', '/hang', { timeoutSeconds: 0.2 }, { ok: false, problem: 'no answer within timeoutSeconds (200 ms)' }],
  ])('%s', async (_name, path, patch, want) => {
    const obs = await sut.check(base + path, { ...HC, ...patch });

    expect(obs).toMatchObject({ ok: want.ok, ...(want.status ? { status: want.status } : {}), ...(want.problem ? { problem: expect.stringContaining(want.problem) } : {}) });
    expect(obs.latencyMs).toBeGreaterThanOrEqual(0);
  });

  // Found by the attack review: every service target is checked through Grid's own origin, and with 4 connections per
  // origin six slow health endpoints made a fast one's checks wait in the queue until they timed out.
  it('checks one target while six others on the same origin hang', async () => {
    const hanging = Array.from({ length: 6 }, () => sut.check(`${base}/hang`, { ...HC, timeoutSeconds: 5 }));

    const fast = await sut.check(`${base}/healthy`, { ...HC, timeoutSeconds: 0.5 });

    expect(fast).toMatchObject({ ok: true, status: 200 });
    await Promise.all(hanging);
  });

  it('fails on a refused connection', async () => {
    const obs = await sut.check(`http://127.0.0.1:${closedPort}/health`, HC);

    expect(obs).toMatchObject({ ok: false, problem: 'connection failed: ECONNREFUSED' });
  });

  it('measures latency', async () => {
    const obs = await sut.check(`${base}/slow`, HC);

    expect(obs.ok).toBe(true);
    expect(obs.latencyMs).toBeGreaterThanOrEqual(140);
  });
});

describe(containsJson.name, () => {
  it.each<[unknown, unknown, boolean]>([
    [{ status: 'healthy', version: 'v1' }, { status: 'healthy' }, true],
    [{ status: 'unhealthy' }, { status: 'healthy' }, false],
    [{ db: { ok: true, ms: 3 } }, { db: { ok: true } }, true],
    [{ db: { ok: false } }, { db: { ok: true } }, false],
    [{ tags: ['a', 'b'] }, { tags: ['a', 'b'] }, true],
    [{ tags: ['a'] }, { tags: ['a', 'b'] }, false],
    [['status', 'healthy'], { status: 'healthy' }, false],
    [null, { status: 'healthy' }, false],
    [{ n: 1 }, { n: '1' }, false],
  ])('%j contains %j: %p', (body, expected, want) => {
    expect(containsJson(body, expected)).toBe(want);
  });
});
