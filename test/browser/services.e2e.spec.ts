// The dashboard driving real demo-service processes in Chromium: apply from the editor (and a
// field error shown inline), pods turning Ready live, a pod killed and replaced, a canary
// promoted, and a bad canary rolled back with its reason.
import { applyYaml, example, expectEventually, json, readyPods, startGrid, type GridHandle } from '../utils/grid.js';
import { actAndConfirm, describeBrowser, textMatches, useBrowser, type Session } from './harness.js';

function service(name: string, version: string, opts: { replicas?: number; env?: Record<string, string>; rollout?: string } = {}): string {
  const env = Object.entries({ VERSION: version, ...opts.env })
    .map(([k, v]) => `    - { name: ${k}, value: "${v}" }`)
    .join('\n');
  const rollout = opts.rollout ? `  rollout:\n${opts.rollout.trim().split('\n').map((l) => `    ${l}`).join('\n')}\n` : '';
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  replicas: ${opts.replicas ?? 2}
  command: ["node", "demo-services/versioned/server.js"]
  env:
${env}
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
  terminationGracePeriodSeconds: 5
${rollout}`;
}

const card = (s: Session, name: string) => s.page.locator(`[data-testid=service-card][data-service="${name}"]`);

/** The pod tiles of a card as [id, phase, version]. */
async function tiles(s: Session, name: string): Promise<Array<{ id: string; phase: string; version: string }>> {
  return card(s, name)
    .getByTestId('pod')
    .evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-pod') ?? '', phase: e.getAttribute('data-phase') ?? '', version: e.getAttribute('data-version') ?? '' })));
}

async function allReady(s: Session, name: string, n: number, version?: string) {
  return expectEventually(async () => {
    const t = await tiles(s, name);
    const live = t.filter((p) => p.phase !== 'Terminating');
    if (live.length !== n || !live.every((p) => p.phase === 'Ready' && (!version || p.version === version))) throw new Error(`${name} tiles: ${JSON.stringify(t)}`);
    return live;
  }, 30_000);
}

/** Bounded (time and count) background GETs through the gateway, so a canary's analysis has requests. */
function startLoad(url: string, maxMs = 60_000, maxRequests = 100_000) {
  const state = { stop: false, total: 0 };
  const deadline = Date.now() + maxMs;
  const worker = async () => {
    while (!state.stop && Date.now() < deadline && state.total < maxRequests) {
      state.total++;
      await fetch(url)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    }
  };
  const done = Promise.all([worker(), worker(), worker()]);
  return {
    state,
    async stop() {
      state.stop = true;
      await done;
    },
  };
}

describeBrowser('dashboard services (Chromium, process runtime)', () => {
  const h = useBrowser();
  let g: GridHandle;

  beforeAll(async () => {
    g = await startGrid();
  });

  it('applies the demo YAML from the editor after a preview, and shows a bad field inline at its line', async () => {
    const s = await h.open(g, '/#/apply');
    // The bad document's preview is answered 400 with the field errors, which Chromium logs as a failed resource.
    s.allow(/status of 400 \(Bad Request\) \(http:[^)]*\/apply\b/);
    await s.tid('view-apply').waitFor();
    const select = s.tid('apply-example');
    const demo = await select.evaluate((el) => Array.from((el as unknown as { options: ArrayLike<{ value: string; text: string }> }).options).find((o) => /(^|\/)demo(\.ya?ml)?$/i.test(o.value) || /^demo(\.ya?ml)?$/i.test(o.text.trim()))?.value);
    expect(demo).toBeDefined();
    await select.selectOption(demo!);
    await expectEventually(async () => (await s.tid('apply-editor').inputValue()) === example('demo.yaml') || /name: web[\s\S]*VERSION/.test(await s.tid('apply-editor').inputValue()));

    await s.tid('apply-preview').click();
    await textMatches(s.tid('apply-diff'), /web[\s\S]*created/);
    expect((await json(`${g.url}/services/web`)).status).toBe(404);
    await actAndConfirm(s, s.tid('apply-submit'));
    await textMatches(s.tid('apply-result'), /web[\s\S]*created/);
    expect((await json(`${g.url}/services/web`)).status).toBe(200);
    await s.snap('apply-demo');

    const bad = ['apiVersion: v1', 'kind: Service', 'metadata: { name: broken }', 'spec:', '  image: "local://broken@v1"', '  replicas: 1001', ''].join('\n');
    await s.tid('apply-editor').fill(bad);
    await s.tid('apply-preview').click();
    const err = s.page.locator('[data-testid=field-error][data-path="spec.replicas"]');
    await err.waitFor();
    expect(await err.getAttribute('data-line')).toBe('6');
    await s.snap('apply-field-error');
    expect((await json(`${g.url}/services/broken`)).status).toBe(404);
  });

  it('shows pods turning Ready without a reload', async () => {
    const s = await h.open(g);
    await s.tid('view-services').waitFor();
    // Set on this document; a reload would lose it.
    await s.page.evaluate(() => ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));

    expect((await applyYaml(g, service('slow', 'v1', { env: { READY_DELAY_MS: '3000' } }))).status).toBe(200);

    await card(s, 'slow').waitFor({ timeout: 15_000 });
    const early = await expectEventually(async () => (await tiles(s, 'slow')).find((p) => p.phase !== 'Ready'), 15_000);
    // Running: the process is up, its readiness check not yet passed.
    expect(early!.phase).toMatch(/^(Pending|Starting|Running|Unready)$/);
    await allReady(s, 'slow', 2, 'v1');
    await textMatches(card(s, 'slow').getByTestId('ready'), /2\s*\/\s*2/);
    expect(await s.page.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    await s.snap('services-ready');
  });

  it('kills a pod on request and shows its replacement turning Ready', async () => {
    expect((await applyYaml(g, service('victim', 'v1', { replicas: 3 }))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'victim', 3), 20_000);
    const s = await h.open(g);
    const before = (await allReady(s, 'victim', 3)).map((p) => p.id);

    await actAndConfirm(s, card(s, 'victim').getByTestId('kill-pod'));

    const after = await expectEventually(async () => {
      const now = await allReady(s, 'victim', 3);
      if (!now.some((p) => !before.includes(p.id))) throw new Error(`no replacement yet: ${JSON.stringify(now)}`);
      return now;
    }, 30_000);
    expect(after.filter((p) => before.includes(p.id))).toHaveLength(2);
    await s.snap('services-kill');
  });

  it('runs a canary to its pause and promotes it from the card', async () => {
    const steps = 'strategy: Canary\nsteps:\n  - setWeight: 50\n  - pause: {}\n  - setWeight: 100';
    expect((await applyYaml(g, service('can', 'v1', { rollout: steps }))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'can', 2), 20_000);
    const s = await h.open(g);
    await allReady(s, 'can', 2, 'v1');

    expect((await applyYaml(g, service('can', 'v2', { rollout: steps }))).status).toBe(200);

    const rollout = card(s, 'can').getByTestId('rollout');
    await textMatches(rollout, /Paused/, 30_000);
    await textMatches(card(s, 'can').getByTestId('weights'), /v1 50%.*v2 50%/, 15_000, 'aria-label');
    await s.snap('services-canary-paused');
    await actAndConfirm(s, card(s, 'can').getByTestId('rollout-promote'));
    await expectEventually(async () => (await json(`${g.url}/services/can/rollout`)).body.phase === 'Completed', 30_000);
    await allReady(s, 'can', 2, 'v2');
    await s.snap('services-canary-promoted');
  });

  it('shows a bad canary rolled back with the analysis reason', async () => {
    const steps = 'strategy: Canary\nsteps:\n  - setWeight: 50\n  - pause: { duration: 60s }\n  - setWeight: 100\nanalysis: { interval: 1s, minRequests: 10, maxErrorRate: 0.05, failureLimit: 1 }';
    expect((await applyYaml(g, service('bad', 'v1', { rollout: steps }))).status).toBe(200);
    await expectEventually(() => readyPods(g, 'bad', 2), 20_000);
    const s = await h.open(g);
    await allReady(s, 'bad', 2, 'v1');
    const load = startLoad(`${g.url}/gateway/bad/version`);
    try {
      expect((await applyYaml(g, service('bad', 'v2', { rollout: steps, env: { FAIL_RATE: '0.5' } }))).status).toBe(200);
      const rollout = card(s, 'bad').getByTestId('rollout');
      await textMatches(rollout, /Aborted/, 40_000);
      await textMatches(rollout, /AnalysisFailed|5xx [\d.]+% > 5%/);
    } finally {
      await load.stop();
    }
    expect(load.state.total).toBeGreaterThan(10);
    await allReady(s, 'bad', 2, 'v1');
    await s.snap('services-canary-aborted');
  });
});
