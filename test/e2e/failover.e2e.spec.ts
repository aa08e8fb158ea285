// Failover groups end to end: three real versions of the demo service behind one group,
// each chaos toggle on the active version making Grid fail over, reset making it fail back,
// and clients under load losing no GET while the active version crashes.
import { applyYaml, cleanupAll, example, expectEventually, json, startGrid, type GridHandle } from '../utils/grid.js';

/**
 * examples/failover.yaml with the test's short intervals: checks every 0.2 s, a 1 s cooldown, and
 * starts that take 3 s (longer than the 0.6 s three failed checks take plus the cooldown).
 */
function fastYaml(): string {
  const yaml = example('failover.yaml')
    .replace(/intervalSeconds: 1\b/, 'intervalSeconds: 0.2')
    .replace(/cooldownSeconds: 10\b/, 'cooldownSeconds: 1')
    .replaceAll('value: "5000"', 'value: "3000"');
  expect(yaml).toContain('intervalSeconds: 0.2');
  return yaml;
}

interface Switch {
  from: string;
  to: string;
  automatic: boolean;
  reason: string;
  message: string;
  numbers: Record<string, unknown>;
}
interface GroupView {
  active: string;
  healthy: number;
  targets: Array<{ name: string; health: string; consecutiveFailures: number; latency: { p50Ms: number | null; p99Ms: number | null; samples: number }; recent: unknown[] }>;
  history: Switch[];
}

async function group(g: GridHandle): Promise<GroupView> {
  const r = await json<GroupView>(`${g.url}/failover/web`);
  if (r.status !== 200) throw new Error(`GET /failover/web: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function post(g: GridHandle, path: string): Promise<number> {
  return (await json(`${g.url}${path}`, { method: 'POST' })).status;
}

/** Waits until the group has switched away from `from` (after the first `known` switches) for a reason whose problem matches, and returns that switch. */
async function switchedAway(g: GridHandle, from: string, problem: RegExp, known: number, timeoutMs = 30_000): Promise<Switch> {
  return expectEventually(async () => {
    const v = await group(g);
    // history is newest first: the switches since `known` lead it.
    const s = v.history.slice(0, v.history.length - known).find((h) => h.from === from && h.reason === 'ActiveFailed' && problem.test(String(h.numbers.lastProblem)));
    if (!s || v.active === from) throw new Error(`no switch away from ${from} for ${problem}; active ${v.active}, history ${JSON.stringify(v.history.map((h) => `${h.from}>${h.to} ${h.numbers.lastProblem ?? h.reason}`))}`);
    return s;
  }, timeoutMs);
}

async function activeIs(g: GridHandle, want: string, timeoutMs = 30_000): Promise<void> {
  await expectEventually(async () => {
    const v = await group(g);
    if (v.active !== want || v.healthy === 0) throw new Error(`active ${v.active}, healthy ${v.healthy}`);
    return true;
  }, timeoutMs);
}

/** GETs /gateway/web/ from a few clients, bounded in time and count, until stopped. */
async function load(url: string, stop: { done: boolean }, opts = { concurrency: 4, maxRequests: 20_000, maxMs: 20_000 }) {
  const codes = new Map<string, number>();
  const versions = new Map<string, number>();
  let sent = 0;
  const deadline = Date.now() + opts.maxMs;
  const worker = async () => {
    while (!stop.done && sent < opts.maxRequests && Date.now() < deadline) {
      sent++;
      let key: string;
      try {
        const r = await fetch(url);
        const body = (await r.json().catch(() => ({}))) as { version?: string };
        key = String(r.status);
        if (r.status === 200 && body.version) versions.set(body.version, (versions.get(body.version) ?? 0) + 1);
      } catch (e) {
        key = `error: ${(e as Error).message}`;
      }
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const total = [...codes.values()].reduce((a, b) => a + b, 0);
  return { total, failed: total - (codes.get('200') ?? 0), codes: Object.fromEntries(codes), versions: Object.fromEntries(versions) };
}

describe('failover groups', () => {
  let g: GridHandle;
  afterAll(cleanupAll);

  beforeAll(async () => {
    g = await startGrid({ env: { GRID_GATEWAY_PORT: '0' } });
    const r = await applyYaml(g, fastYaml());
    expect(r.status).toBe(200);
    expect(r.body.applied).toEqual(expect.arrayContaining([{ failoverGroup: 'web', result: 'created', generation: 1 }]));
    await activeIs(g, 'v1');
    await expectEventually(async () => (await group(g)).healthy === 3, 30_000);
  }, 60_000);

  it('routes /gateway/<group>/ on both listeners to the active target', async () => {
    const main = await json(`${g.url}/gateway/web/`);
    const dedicated = await json(`${g.gatewayUrl}/web/`);

    expect([main.status, main.body.version, dedicated.status, dedicated.body.version]).toEqual([200, 'v1', 200, 'v1']);
  });

  it('refuses a service named like the group, and stores nothing of that body', async () => {
    const body = `apiVersion: v1\nkind: Service\nmetadata: { name: other }\nspec: { image: local://demo@v1 }\n---\napiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec: { image: local://demo@v1 }\n`;

    const r = await applyYaml(g, body);

    expect(r.status).toBe(400);
    expect(r.body.errors).toContainEqual({ path: '[1].metadata.name', message: expect.stringContaining("'web' is already a failover group") });
    expect((await json(`${g.url}/services/other`)).status).toBe(404);
  });

  it('fails over v1 -> v2 -> v3 on chaos/corrupt and chaos/cpu, fails back after reset, and over again on chaos/crash', async () => {
    // Corrupt first: a corrupted v1 stays unhealthy, so the CPU burn on v2 (whose checks are only mostly slow) can only go to v3.
    expect(await post(g, '/gateway/v1/chaos/corrupt')).toBe(200);
    const corrupt = await switchedAway(g, 'v1', /HTTP 503|does not contain/, (await group(g)).history.length);
    expect(corrupt).toMatchObject({ to: 'v2', automatic: true, numbers: { failureThreshold: 3 } });
    expect(corrupt.numbers.failuresInRow).toBeGreaterThanOrEqual(3);
    await activeIs(g, 'v2');
    expect((await json(`${g.url}/gateway/web/`)).body.version).toBe('v2');

    const beforeCpu = (await group(g)).history.length;
    expect(await post(g, '/gateway/v2/chaos/cpu?seconds=120')).toBe(202);
    const cpu = await switchedAway(g, 'v2', /latency \d+ ms above maxLatencyMs/, beforeCpu);
    expect(cpu.to).toBe('v3');
    await activeIs(g, 'v3');
    expect((await json(`${g.url}/gateway/web/`)).body.version).toBe('v3');

    expect(await post(g, '/gateway/v1/reset')).toBe(200);
    expect(await post(g, '/gateway/v2/reset')).toBe(200);
    await activeIs(g, 'v1');
    const back = (await group(g)).history[0];
    expect(back).toMatchObject({ to: 'v1', reason: 'Failback', automatic: true });
    expect(back.numbers.healthyForMs).toBeGreaterThanOrEqual(1000);

    const beforeCrash = (await group(g)).history.length;
    expect(await post(g, '/gateway/v1/chaos/crash')).toBe(202);
    await switchedAway(g, 'v1', /connection failed|HTTP 50[23]/, beforeCrash);
    // Grid restarts the crashed process; once it has been healthy for the cooldown, traffic returns.
    await activeIs(g, 'v1');

    const events = await json<{ events: Array<{ type: string; reason: string; message: string; explain: string }> }>(`${g.url}/events?service=web&type=failover.switched&limit=50`);
    const messages = events.body.events.map((e) => `${e.reason}: ${e.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ActiveFailed: failover group web: v1 -> v2: v1 failed \d+ health checks in a row \(threshold 3; last: HTTP 503/),
        expect.stringMatching(/^ActiveFailed: failover group web: v2 -> v3: v2 failed \d+ health checks in a row \(threshold 3; last: latency \d+ ms above maxLatencyMs 25\)/),
        expect.stringMatching(/^Failback: failover group web: v3 -> v1: v1 \(priority 1\) has been healthy for/),
      ]),
    );
    // Each target's verdicts are events too (found by the new-user review: /events said why a switch came, never why one did not).
    const health = await json<{ events: Array<{ reason: string; message: string }> }>(`${g.url}/events?service=web&type=failover.health&limit=200`);
    expect(health.body.events.map((e) => `${e.reason}: ${e.message}`)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^TargetUnhealthy: failover group web: v1 is unhealthy after 3 failed checks in a row \(failureThreshold 3; last: /),
        expect.stringMatching(/^TargetHealthy: failover group web: v1 is healthy after \d+ passed checks in a row/),
      ]),
    );
    const view = await group(g);
    expect(view.targets[0]).toMatchObject({ name: 'v1', health: 'healthy', latency: { samples: expect.any(Number) } });
    expect(view.targets[0].latency.p50Ms).not.toBeNull();
  }, 180_000);

  it('loses no GET of clients under load while the active target crashes', async () => {
    await activeIs(g, 'v1');
    await expectEventually(async () => (await group(g)).healthy === 3, 30_000);
    const known = (await group(g)).history.length;
    const stop = { done: false };
    const running = load(`${g.url}/gateway/web/`, stop);
    await new Promise((r) => setTimeout(r, 500));

    expect(await post(g, '/gateway/v1/chaos/crash')).toBe(202);
    await switchedAway(g, 'v1', /connection failed|HTTP 50[23]/, known);
    await new Promise((r) => setTimeout(r, 500));
    stop.done = true;
    const result = await running;

    expect(result.failed).toBe(0);
    expect(result.total).toBeGreaterThan(50);
    expect(result.versions.v2).toBeGreaterThan(0);
  }, 90_000);

  it('switches by hand, refusing an unknown target', async () => {
    const bad = await json(`${g.url}/failover/web/switch?to=v9`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: 'to', message: "'v9' is not a target of this group (targets: v1, v2, v3)" }]);
    expect((await json(`${g.url}/failover/nope/switch`, { method: 'POST' })).status).toBe(404);

    const current = (await group(g)).active;
    const to = current === 'v3' ? 'v2' : 'v3';
    const r = await json(`${g.url}/failover/web/switch?to=${to}`, { method: 'POST' });

    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ group: 'web', from: current, to });
    expect((await group(g)).history[0]).toMatchObject({ to, reason: 'Manual', automatic: false });
  });

  it('DELETE /failovergroups/:name removes the group and its route', async () => {
    expect((await json(`${g.url}/failovergroups/web`, { method: 'DELETE' })).status).toBe(200);

    expect((await json(`${g.url}/failover/web`)).status).toBe(404);
    expect((await json(`${g.url}/gateway/web/`)).status).toBe(404);
    expect((await json(`${g.url}/failovergroups/web`, { method: 'DELETE' })).status).toBe(404);
  });
});
