// Alerts end to end: the real Grid (sim runtime) mails a real SMTP server inside the test
// and posts to a real HTTP receiver; a dead or silent SMTP server does not slow /apply.
import { closedPort, silentReceiver, smtpReceiver, webhookReceiver, type ReceivedMail } from '../utils/alert-receivers.js';
import { applyYaml, cleanupAll, expectEventually, json, readyPods, startGrid, type GridHandle } from '../utils/grid.js';

const crashy = `apiVersion: v1
kind: Service
metadata: { name: crashy }
spec:
  replicas: 2
  image: local://crashy@v1
  env: [{ name: SIM_CRASH_AFTER_MS, value: "50" }]
  restartBackoff: { initialSeconds: 1, maxSeconds: 2 }
`;
const fixed = crashy.replace(/ {2}env: .*\n/, '');
const simService = (name: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec: {replicas: 1, image: "local://${name}@v1"}\n`;

/** Small windows, so the test runs in seconds; the confirm windows are still longer than a crash-looping pod stays ready (50 ms). */
const FAST_ALERTS = { ALERT_DOWN_CONFIRM_MS: '300', ALERT_UP_CONFIRM_MS: '300', ALERT_STARTUP_GRACE_MS: '200', ALERT_COOLDOWN_MS: '0', GRID_SIM_START_DELAY_MS: '100' };

function bodyOf(m: ReceivedMail): string {
  // Quoted-printable soft line breaks ("=\r\n") and the "=3D" of "=".
  return m.data.slice(m.data.indexOf('\r\n\r\n') + 4).replace(/=\r\n/g, '').replace(/=3D/g, '=');
}

describe('Alerts (email, webhook)', () => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await cleanupAll();
    for (const c of closers) await c();
  });

  describe('with a working SMTP server and webhook', () => {
    let g: GridHandle;
    let smtp: Awaited<ReturnType<typeof smtpReceiver>>;
    let hook: Awaited<ReturnType<typeof webhookReceiver>>;

    beforeAll(async () => {
      smtp = await smtpReceiver();
      hook = await webhookReceiver();
      closers.push(smtp.close, hook.close);
      g = await startGrid({
        env: {
          ...FAST_ALERTS,
          SMTP_HOST: '127.0.0.1',
          SMTP_PORT: String(smtp.port),
          EMAIL_FROM: 'grid@example.com',
          EMAIL_TO: 'ops@example.com, lead@example.com',
          EMAIL_SUBJECT_PREFIX: '[grid-e2e] ',
          PUBLIC_UI_URL: 'http://grid.example.com/',
          ALERT_WEBHOOK_URL: hook.url,
        },
      });
    });

    it('mails DOWN once while the pods crash-loop, then UP when a fixed spec is ready; the webhook gets the same as JSON', async () => {
      expect((await applyYaml(g, crashy)).status).toBe(200);

      const down = (await expectEventually(() => smtp.mails.find((m) => m.subject.includes('crashy is DOWN')), 15000))!;
      expect(down.subject).toBe('[grid-e2e] crashy is DOWN');
      expect(down.from).toBe('grid@example.com');
      expect(down.to).toEqual(['ops@example.com', 'lead@example.com']);
      expect(bodyOf(down)).toMatch(/^crashy is DOWN: [01] of 2 pods ready for \d+ (ms|s) \(since \d\d:\d\d:\d\d UTC\)\./);
      expect(bodyOf(down)).toContain('Grid: http://grid.example.com/');
      const downHook = await expectEventually(() => hook.bodies.find((b) => b.subject === 'crashy' && b.state?.health === 'DOWN'));
      expect(downHook).toMatchObject({ kind: 'service', state: { detail: expect.stringMatching(/^[01] of 2 pods ready$/), previous: { health: 'UP' } }, url: 'http://grid.example.com/' });

      const view = (await json(`${g.url}/alerts`)).body;
      expect(view.subjects.find((s: any) => s.subject === 'crashy')).toMatchObject({ kind: 'service', state: 'DOWN', notified: 'DOWN' });
      expect(view.channels).toEqual({
        email: { host: '127.0.0.1', port: smtp.port, secure: false, auth: false, from: 'grid@example.com', to: ['ops@example.com', 'lead@example.com'], subjectPrefix: '[grid-e2e] ' },
        webhook: { origin: new URL(hook.url).origin },
      });
      await expectEventually(async () => {
        const ds = (await json(`${g.url}/alerts`)).body.deliveries.filter((d: any) => d.subject === 'crashy');
        return ds.length === 2 && ds.every((d: any) => d.state === 'ok' && d.attempts === 1);
      });
      const metrics = await (await fetch(`${g.url}/metrics`)).text();
      expect(metrics).toMatch(/^grid_alert_deliveries_total\{channel="email",outcome="ok"\} [1-9]/m);
      expect(metrics).toMatch(/^grid_alert_deliveries_total\{channel="webhook",outcome="ok"\} [1-9]/m);
      expect(metrics).toMatch(/^grid_alert_deliveries_total\{channel="email",outcome="failed"\} 0$/m);

      expect((await applyYaml(g, fixed)).status).toBe(200);
      await expectEventually(() => readyPods(g, 'crashy', 2), 20000);
      const up = (await expectEventually(() => smtp.mails.find((m) => m.subject.includes('crashy is UP')), 15000))!;
      expect(up.subject).toBe('[grid-e2e] crashy is UP');
      expect(bodyOf(up)).toMatch(/^crashy is UP: 2 of 2 pods ready since \d\d:\d\d:\d\d UTC\.\r?\nIt was DOWN for \d+ (ms|s|min)/);
      await expectEventually(() => hook.bodies.find((b) => b.subject === 'crashy' && b.state?.health === 'UP'));
      // The crash loop made ready go up and down many times; the confirm windows turned it into one DOWN and one UP.
      expect(smtp.mails.filter((m) => m.subject.includes('crashy')).map((m) => m.subject)).toEqual(['[grid-e2e] crashy is DOWN', '[grid-e2e] crashy is UP']);
    });

    it('POST /alerts/test sends a test message through email and webhook and answers what it queued', async () => {
      const r = await json(`${g.url}/alerts/test`, { method: 'POST' });

      expect(r.status).toBe(202);
      expect(r.body.queued.map((d: any) => d.channel).sort()).toEqual(['email', 'webhook']);
      const mail = (await expectEventually(() => smtp.mails.find((m) => m.subject === '[grid-e2e] test alert')))!;
      expect(mail.to).toEqual(['ops@example.com', 'lead@example.com']);
      expect(bodyOf(mail)).toContain('This is a test alert sent by POST /alerts/test');
      await expectEventually(() => hook.bodies.find((b) => b.test === true));
    });
  });

  // Found by the new-user review: SIGTERM stopped the pods, and every service was mailed DOWN on each restart.
  it('stopping Grid is not an outage: no DOWN for the pods Grid stops itself', async () => {
    const hook = await webhookReceiver();
    closers.push(() => hook.close());
    const g = await startGrid({ env: { ...FAST_ALERTS, ALERT_DOWN_CONFIRM_MS: '0', ALERT_STARTUP_GRACE_MS: '0', ALERT_WEBHOOK_URL: hook.url } });
    // A process pod: its stop at shutdown is what the runtime reports (a simulated one just vanishes).
    const steady = `apiVersion: v1\nkind: Service\nmetadata: {name: steady}\nspec:\n  replicas: 1\n  command: ["node", "demo-services/versioned/server.js"]\n  readinessProbe: { httpGet: { path: /health/ready }, periodSeconds: 1 }\n`;
    expect((await applyYaml(g, steady)).status).toBe(200);
    await expectEventually(() => readyPods(g, 'steady', 1));
    await expectEventually(async () => (await json(`${g.url}/alerts`)).body.subjects.find((s: any) => s.subject === 'steady' && s.state === 'UP'));
    const before = hook.bodies.length;

    expect(await g.stop()).toBe(0);

    expect(hook.bodies.slice(before).filter((b) => b.state?.health === 'DOWN')).toEqual([]);
    expect(g.output()).not.toMatch(/steady is DOWN/);
  });

  it('POST /alerts/test with no channel configured is a 409 that says what to set', async () => {
    const g = await startGrid({ env: FAST_ALERTS });

    const r = await json(`${g.url}/alerts/test`, { method: 'POST' });

    expect(r.status).toBe(409);
    expect(r.body.message).toBe('no alert channel is configured: set SMTP_HOST and EMAIL_TO for email, or ALERT_WEBHOOK_URL for a webhook');
    expect((await json(`${g.url}/alerts`)).body.channels).toEqual({ email: null, webhook: null });
    await g.stop();
  });

  /**
   * Ten applies, each creating a service whose starting pods make it DOWN at once (no grace, no
   * confirm window), so every apply queues a delivery to the broken server. The bound is absolute
   * and generous (2 s per apply on a busy 2-core machine): a send on the request's path would
   * cost the whole ALERT_SEND_TIMEOUT_MS (30 s) against the silent server, and retries would pile
   * up against the dead port. The no-SMTP run's numbers are in the failure message for comparison.
   */
  it('a dead SMTP port or a server that never answers does not slow /apply or reconciling', async () => {
    const silent = await silentReceiver();
    closers.push(silent.close);
    const env = { ...FAST_ALERTS, ALERT_STARTUP_GRACE_MS: '0', ALERT_DOWN_CONFIRM_MS: '0', ALERT_UP_CONFIRM_MS: '0', ALERT_SEND_TIMEOUT_MS: '30000', EMAIL_TO: 'ops@example.com', SMTP_HOST: '127.0.0.1' };
    const setups: Array<[string, Record<string, string>]> = [
      ['no SMTP', { ...FAST_ALERTS, ALERT_STARTUP_GRACE_MS: '0' }],
      ['dead port', { ...env, SMTP_PORT: String(await closedPort()) }],
      ['silent server', { ...env, SMTP_PORT: String(silent.port) }],
    ];
    const timings: Record<string, number[]> = {};
    const grids: Record<string, GridHandle> = {};
    for (const [name, e] of setups) {
      const g = await startGrid({ env: e });
      grids[name] = g;
      timings[name] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        const r = await applyYaml(g, simService(`svc${i}`));
        timings[name].push(Math.round(performance.now() - t0));
        expect(r.status).toBe(200);
      }
      for (let i = 0; i < 10; i++) await expectEventually(() => readyPods(g, `svc${i}`, 1), 15000);
    }
    const tooSlow = ['dead port', 'silent server']
      .filter((name) => Math.max(...timings[name]) > 2000)
      .map((name) => `${name}: ${timings[name].join(', ')} ms (no SMTP: ${timings['no SMTP'].join(', ')} ms)`);
    expect(tooSlow).toEqual([]);

    // The deliveries were really tried: refused and retried on the dead port, hanging on the silent one.
    await expectEventually(async () => (await json(`${grids['dead port'].url}/alerts`)).body.deliveries.some((d: any) => /ECONNREFUSED/.test(d.lastError ?? '')));
    await expectEventually(() => silent.connections() > 0);
    const t0 = performance.now();
    const hanging = (await json(`${grids['silent server'].url}/alerts`)).body.deliveries;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(hanging.some((d: any) => d.state === 'sending' && d.attempts === 1)).toBe(true);
    expect(hanging.every((d: any) => d.state !== 'ok')).toBe(true);
  });
});
