// The dashboard's panels in Chromium: a failover group switched by hand, the guided tour, and
// Play Demo run to its end on real demo-service processes.
import { applyYaml, example, expectEventually, json, startGrid, type GridHandle } from '../utils/grid.js';
import { actAndConfirm, describeBrowser, textMatches, useBrowser } from './harness.js';

/** examples/failover.yaml with short intervals, as the failover e2e test runs it. */
function fastFailover(): string {
  const yaml = example('failover.yaml')
    .replace(/intervalSeconds: 1\b/, 'intervalSeconds: 0.2')
    .replace(/cooldownSeconds: 10\b/, 'cooldownSeconds: 1')
    .replaceAll('value: "5000"', 'value: "1000"')
    // Only the hand switch under test moves traffic: on a loaded machine a 25 ms latency bound made Grid switch by itself first.
    .replace(/maxLatencyMs: 25\b/, 'maxLatencyMs: 1500')
    .replace(/failureThreshold: 3\b/, 'failureThreshold: 100');
  expect(yaml).toContain('intervalSeconds: 0.2');
  expect(yaml).toContain('failureThreshold: 100');
  return yaml;
}

describeBrowser('dashboard panels (Chromium)', () => {
  const h = useBrowser();
  let g: GridHandle;

  beforeAll(async () => {
    g = await startGrid();
  });

  it('switches a failover group to another target by hand', async () => {
    expect((await applyYaml(g, fastFailover())).status).toBe(200);
    await expectEventually(async () => {
      const v = (await json(`${g.url}/failover/web`)).body;
      return v.active === 'v1' && v.healthy === 3;
    }, 30_000);
    const s = await h.open(g, '/#/failover');
    const group = s.page.locator('[data-testid=failover-group][data-group=web]');
    await group.waitFor({ timeout: 15_000 });
    await textMatches(group, /^v1$/, 15_000, 'data-active');
    const v2 = group.locator('[data-testid=failover-target][data-target=v2]');
    await textMatches(v2, /^true$/, 15_000, 'data-healthy');

    await actAndConfirm(s, v2.getByTestId('failover-switch'));

    await textMatches(group, /^v2$/, 15_000, 'data-active');
    expect((await json(`${g.url}/failover/web`)).body.active).toBe('v2');
    await textMatches(group.getByTestId('failover-history'), /v1[\s\S]*v2/);
    await s.snap('failover-switched');
  });

  it('walks through the guided tour', async () => {
    const s = await h.open(g);
    await s.tid('view-services').waitFor();
    await s.tid('tour-start').click();
    const step = s.tid('tour-step');
    const first = await textMatches(step, /\S/, 10_000, 'data-step');
    expect(((await step.textContent()) ?? '').trim().length).toBeGreaterThan(20);
    await s.snap('tour-first');
    await s.tid('tour-next').click();
    await expectEventually(async () => (await step.getAttribute('data-step')) !== first);
    await s.snap('tour-second');
    await s.tid('tour-close').click();
    await step.waitFor({ state: 'detached' });
  });

  it('plays the demo to its end, narrating every step', async () => {
    // A Grid of its own: the demo applies its own services (and a failover group) by name.
    const dg = await startGrid();
    const s = await h.open(dg);
    // No allowance: the demo's traffic (and the bad canary's 5xx) is sent by Grid (POST /chaos/traffic), not by the page.
    await s.tid('view-services').waitFor();
    await s.tid('demo-play').click();
    await textMatches(s.tid('demo-narration'), /\S{3}/, 15_000);
    await s.tid('demo-step').first().waitFor();
    await s.snap('demo-running');

    await s.tid('demo-done').waitFor({ timeout: 150_000 });

    const steps = await s.tid('demo-step').evaluateAll((els) => els.map((e) => [e.getAttribute('data-step'), e.getAttribute('data-state')]));
    expect(steps.length).toBeGreaterThanOrEqual(5);
    expect(steps.filter(([, state]) => state !== 'done')).toEqual([]);
    await s.snap('demo-done');
  }, 180_000);

  it('stops the demo midway and removes what it created, and only that', async () => {
    const dg = await startGrid();
    expect((await applyYaml(dg, 'apiVersion: v1\nkind: Service\nmetadata: {name: mine}\nspec: {replicas: 1, image: "local://mine@v1"}\n')).status).toBe(200);
    const s = await h.open(dg);
    await s.tid('view-services').waitFor();
    await s.tid('demo-play').click();
    // Stopped during the canary, while Grid is sending the demo's traffic.
    await expectEventually(async () => (await json(`${dg.url}/chaos/traffic`)).body.generators.length === 1, 60_000);
    await s.tid('demo-stop').click();
    await expectEventually(async () => {
      const names = (await json(`${dg.url}/services`)).body.services.map((x: { name: string }) => x.name);
      const groups = (await json(`${dg.url}/failover`)).body.groups;
      const traffic = (await json(`${dg.url}/chaos/traffic`)).body.generators;
      return names.join(',') === 'mine' && groups.length === 0 && traffic.length === 0;
    }, 30_000);
  }, 120_000);
});
