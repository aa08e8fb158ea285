// Chaos on the dashboard, in Chromium against a real Grid with real demo-service processes:
// faults started from a card's form (a bad field shown inline first), the experiment listed with a
// countdown that runs, Stop ending it; a paused pod shown paused on its tile; a viewer's Stop disabled.
import { applyYaml, expectEventually, json, startGrid, type GridHandle } from '../utils/grid.js';
import { actAndConfirm, describeBrowser, textMatches, useBrowser, type Session } from './harness.js';

const ADMIN = { user: 'admin', password: 'a long admin passphrase' };
const VIEWER = { user: 'vera', password: 'a viewer passphrase' };
const basic = (u: { user: string; password: string }) => ({ authorization: 'Basic ' + Buffer.from(`${u.user}:${u.password}`).toString('base64') });
// Signing in starts with GET /auth/whoami answered 401, which Chromium logs as a failed resource.
const SIGN_IN_401 = /status of 401 \(Unauthorized\) \(http:[^)]*\/auth\/whoami\)/;
const SHOP = `apiVersion: v1
kind: Service
metadata: { name: shop }
spec:
  replicas: 2
  command: ["node", "demo-services/versioned/server.js"]
  env:
    - { name: VERSION, value: "v1" }
  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1, failureThreshold: 1 }
  terminationGracePeriodSeconds: 5
`;

interface Experiment {
  id: string;
  kind: string;
  service: string;
  pods?: string[];
}

describeBrowser('dashboard chaos (Chromium, process runtime)', () => {
  const h = useBrowser();
  let g: GridHandle;
  const experiments = async (): Promise<Experiment[]> => (await json(`${g.url}/chaos/experiments`, { headers: basic(ADMIN) })).body.experiments;

  beforeAll(async () => {
    g = await startGrid({ env: { GRID_ADMIN_PASSWORD: ADMIN.password } });
    const viewer = await json(`${g.url}/users`, { method: 'POST', headers: { ...basic(ADMIN), 'content-type': 'application/json' }, body: JSON.stringify({ name: VIEWER.user, password: VIEWER.password, role: 'viewer' }) });
    expect(viewer.status).toBe(201);
    expect((await applyYaml(g, SHOP, basic(ADMIN))).status).toBe(200);
    await expectEventually(async () => {
      const pods: { service: string; ready: boolean }[] = (await json(`${g.url}/state`, { headers: basic(ADMIN) })).body.pods;
      const n = pods.filter((p) => p.service === 'shop' && p.ready).length;
      if (n !== 2) throw new Error(`shop: ${n}/2 Ready`);
      return n;
    }, 30_000);
  });

  afterEach(async () => {
    for (const e of await experiments()) await json(`${g.url}/chaos/experiments/${e.id}`, { method: 'DELETE', headers: basic(ADMIN) });
  });

  const shopCard = (s: Session) => s.page.locator('[data-testid=service-card][data-service=shop]');

  it('starts faults from the card, shows them with a running countdown, and Stop ends them', async () => {
    const s = await h.open(g);
    // The out-of-range field is answered 400 with its name, which Chromium logs as a failed resource.
    s.allow(/status of 400 \(Bad Request\) \(http:[^)]*\/chaos\/faults\b/);
    s.allow(SIGN_IN_401);
    await s.signIn(ADMIN.user, ADMIN.password);
    const card = shopCard(s);
    await card.waitFor();

    await card.getByTestId('inject-faults').click();
    const form = s.tid('chaos-form-faults');
    await form.waitFor();
    await form.getByTestId('chaos-field-abortPercent').fill('150');
    await form.getByTestId('chaos-form-submit').click();
    await textMatches(form.getByTestId('chaos-error-abortPercent'), /100/);
    expect(await experiments()).toEqual([]);

    await form.getByTestId('chaos-field-abortPercent').fill('25');
    await form.getByTestId('chaos-field-durationSeconds').fill('40');
    const toast = await actAndConfirm(s, form.getByTestId('chaos-form-submit'));
    expect(toast).toMatch(/inject faults into shop: done · audit #\d+/);
    await form.waitFor({ state: 'detached' });
    const [started] = await experiments();
    expect(started).toMatchObject({ kind: 'faults', service: 'shop' });

    await textMatches(card.getByTestId('chaos-badge'), /faults · \d+ s/);
    await s.nav('chaos');
    const row = s.page.locator(`[data-testid=experiment][data-experiment="${started.id}"]`);
    await textMatches(row.getByTestId('experiment-settings'), /^abort 25% with 503$/);
    await textMatches(row, /api/);
    const first = Number((await textMatches(row.getByTestId('time-left'), /^\d+ s$/)).split(' ')[0]);
    expect(first).toBeGreaterThan(30);
    expect(first).toBeLessThanOrEqual(40);
    // It counts down on the page, second by second, between reads of the server.
    await expectEventually(async () => {
      const now = Number(((await row.getByTestId('time-left').textContent()) ?? '').split(' ')[0]);
      if (!(now < first)) throw new Error(`still ${now} s (was ${first} s)`);
      return now;
    }, 5000);
    await s.snap('chaos-experiments');

    const stopped = await actAndConfirm(s, row.getByTestId('experiment-stop'));
    expect(stopped).toMatch(new RegExp(`stop faults experiment ${started.id} on shop: done · audit #\\d+`));
    await row.waitFor({ state: 'detached' });
    await s.tid('chaos-empty').waitFor();
    expect(await experiments()).toEqual([]);
    // The toast names the audit entry of this very stop.
    const auditId = Number(/audit #(\d+)/.exec(stopped)![1]);
    const entries: { id: number; action: string; target: string | null; status: number }[] = (await json(`${g.url}/audit?limit=5`, { headers: basic(ADMIN) })).body.entries;
    expect(entries.find((e) => e.id === auditId)).toMatchObject({ action: 'chaos.experiments.delete', target: started.id, status: 200 });
  });

  it('pauses a pod from the card and shows it paused on its tile', async () => {
    const s = await h.open(g);
    s.allow(SIGN_IN_401);
    await s.signIn(ADMIN.user, ADMIN.password);
    const card = shopCard(s);
    await card.waitFor();
    await card.getByTestId('pause-pod').click();
    const form = s.tid('chaos-form-pause');
    await form.getByTestId('chaos-field-count').fill('1');
    await form.getByTestId('chaos-field-seconds').fill('60');
    expect(await actAndConfirm(s, form.getByTestId('chaos-form-submit'))).toMatch(/pause pods of shop: done · audit #\d+/);
    const [paused] = await experiments();
    expect(paused.kind).toBe('pause');
    expect(paused.pods).toHaveLength(1);

    const tile = card.locator(`[data-testid=pod][data-pod="${paused.pods![0]}"]`);
    await textMatches(tile, /^true$/, 15_000, 'data-paused');
    await textMatches(tile, /paused/);
    expect(await card.locator('[data-testid=pod][data-paused]').count()).toBe(1);
    await textMatches(card.getByTestId('chaos-badge'), /pause · \d+ s/);
    await s.snap('chaos-paused-pod');

    // Stopping it resumes the process: the tile is no longer paused.
    const res = await json(`${g.url}/chaos/experiments/${paused.id}`, { method: 'DELETE', headers: basic(ADMIN) });
    expect(res.status).toBe(200);
    await expectEventually(async () => {
      if ((await card.locator('[data-testid=pod][data-paused]').count()) !== 0) throw new Error('a tile still shows paused');
      return true;
    }, 15_000);
  });

  it("shows a viewer the experiments but disables Stop and the chaos forms, saying why", async () => {
    const started = await json(`${g.url}/chaos/faults`, { method: 'POST', headers: { ...basic(ADMIN), 'content-type': 'application/json' }, body: JSON.stringify({ service: 'shop', delayMs: 100, delayPercent: 10, durationSeconds: 60 }) });
    expect(started.status).toBe(201);
    const s = await h.open(g, '/#/chaos');
    s.allow(SIGN_IN_401);
    await s.signIn(VIEWER.user, VIEWER.password);
    await s.tid('view-chaos').waitFor();
    const row = s.page.locator(`[data-testid=experiment][data-experiment="${started.body.id}"]`);
    await textMatches(row.getByTestId('experiment-settings'), /^delay 100 ms on 10%$/);
    const stop = row.getByTestId('experiment-stop');
    expect(await stop.isDisabled()).toBe(true);
    expect(await stop.getAttribute('title')).toMatch(/viewer/);

    await s.nav('services');
    const card = shopCard(s);
    await card.waitFor();
    for (const id of ['inject-faults', 'pause-pod']) {
      expect(await card.getByTestId(id).isDisabled()).toBe(true);
      expect(await card.getByTestId(id).getAttribute('title')).toMatch(/viewer/);
    }
    expect((await experiments()).map((e) => e.id)).toEqual([started.body.id]);
  });
});
