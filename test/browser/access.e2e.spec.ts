// The dashboard behind access control, in Chromium: the sign-in form on a 401, an operator
// signing in and out, and a viewer who sees everything but cannot change it.
import { applyYaml, expectEventually, json, startGrid, type GridHandle } from '../utils/grid.js';
import { describeBrowser, textMatches, useBrowser, type Session } from './harness.js';

const ADMIN = { user: 'admin', password: 'a long admin passphrase' };
const VIEWER = { user: 'vera', password: 'a viewer passphrase' };
const basic = (u: { user: string; password: string }) => ({ authorization: 'Basic ' + Buffer.from(`${u.user}:${u.password}`).toString('base64') });
// A wrong password or a viewer's refused change is a real 4xx answer, which Chromium logs as a failed resource.
const REFUSED = /Failed to load resource: the server responded with a status of 40[13]/;

describeBrowser('dashboard access control (Chromium)', () => {
  const h = useBrowser();
  let g: GridHandle;

  beforeAll(async () => {
    g = await startGrid({ env: { GRID_ADMIN_PASSWORD: ADMIN.password } });
    const viewer = await json(`${g.url}/users`, { method: 'POST', headers: { ...basic(ADMIN), 'content-type': 'application/json' }, body: JSON.stringify({ name: VIEWER.user, password: VIEWER.password, role: 'viewer' }) });
    expect(viewer.status).toBe(201);
    const applied = await applyYaml(g, 'apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec: {replicas: 2, image: "local://api@v1"}\n', basic(ADMIN));
    expect(applied.status).toBe(200);
  });

  it('answers 401 without credentials and shows the sign-in form, not a browser prompt', async () => {
    const raw = await fetch(`${g.url}/services`);
    expect(raw.status).toBe(401);

    const s = await h.open(g);
    s.allow(REFUSED);

    await s.tid('login-form').waitFor();
    expect(await s.tid('whoami').count()).toBe(0);
    expect(await s.tid('view-services').count()).toBe(0);
    await s.snap('access-login');
  });

  it('refuses a wrong password with a visible message, then signs an operator in and out', async () => {
    const s = await h.open(g);
    s.allow(REFUSED);
    await s.tid('login-user').fill(ADMIN.user);
    await s.tid('login-password').fill('not the password');
    await s.tid('login-submit').click();
    await textMatches(s.tid('login-error'), /./);
    expect(await s.tid('login-form').isVisible()).toBe(true);

    await s.signIn(ADMIN.user, ADMIN.password);

    await textMatches(s.tid('whoami'), /admin.*operator/);
    await s.tid('view-services').waitFor();
    await textMatches(s.tid('sse-status'), /^live$/, 15_000, 'data-state');
    await s.snap('access-signed-in');
    await s.tid('logout').click();
    await s.tid('login-form').waitFor();
  });

  it('lets a viewer see the services but not change them', async () => {
    const s = await h.open(g);
    s.allow(REFUSED);
    await s.signIn(VIEWER.user, VIEWER.password);
    await textMatches(s.tid('whoami'), /vera.*viewer/);
    const card = s.page.locator('[data-testid=service-card][data-service=api]');
    await card.waitFor({ timeout: 15_000 });
    await textMatches(card.getByTestId('ready'), /2\s*\/\s*2/);

    await refusedOrDisabled(s, card.getByTestId('scale-up'));
    await refusedOrDisabled(s, card.getByTestId('kill-pod'));

    await s.snap('access-viewer');
    const api = await json(`${g.url}/services/api`, { headers: basic(ADMIN) });
    expect(api.body.spec.replicas).toBe(2);
    expect((await json(`${g.url}/state`, { headers: basic(ADMIN) })).body.pods.filter((p: { service: string }) => p.service === 'api')).toHaveLength(2);
  });
});

/** A viewer's action button is either disabled, or clicking it shows the refusal (and never a confirmation that would act). */
async function refusedOrDisabled(s: Session, button: ReturnType<Session['tid']>): Promise<void> {
  await button.waitFor();
  if (await button.isDisabled()) return;
  const before = new Set(await s.tid('toast-error').allTextContents());
  await button.click();
  if (await s.tid('confirm-dialog').isVisible()) await s.tid('confirm-yes').click();
  await expectEventually(async () => (await s.tid('toast-error').allTextContents()).find((t) => !before.has(t) && /viewer|operator|403/i.test(t)), 10_000);
}
