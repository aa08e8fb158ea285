import { FakeClock } from '../../common/clock/fake-clock.js';
import { closedPort, silentReceiver, smtpReceiver, webhookReceiver } from '../../../test/utils/alert-receivers.js';
import { expectEventually } from '../../../test/utils/grid.js';
import { EmailChannel, WebhookChannel, type AlertChannel } from './alert-channels.js';
import type { AlertMessage } from './alert-format.js';
import { DeliveryQueue, type DeliveryOptions } from './delivery-queue.js';

const MESSAGE: AlertMessage = { subject: 'api', kind: 'service', title: 'api is DOWN', text: 'api is DOWN: 1 of 3 pods ready for 30 s.\n', payload: { subject: 'api', state: { health: 'DOWN' } } };
const OPTS: DeliveryOptions = { maxAttempts: 3, attemptTimeoutMs: 5000, backoffMs: 1000, maxBackoffMs: 60_000, maxPending: 100, maxInFlight: 4, keepFinished: 50 };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function smtpServer() {
  const r = await smtpReceiver();
  cleanups.push(r.close);
  return r;
}

async function webhookServer(statuses: number[]) {
  const r = await webhookReceiver(statuses);
  cleanups.push(r.close);
  return r;
}

async function silentServer(): Promise<number> {
  const r = await silentReceiver();
  cleanups.push(r.close);
  return r.port;
}

function email(port: number, timeoutMs = 5000): EmailChannel {
  return new EmailChannel({ host: '127.0.0.1', port, secure: false, from: 'grid@test.local', to: ['ops@test.local', 'lead@test.local'], subjectPrefix: '[grid-test] ' }, timeoutMs);
}

function queue(channels: AlertChannel[], opts: Partial<DeliveryOptions> = {}) {
  const clock = new FakeClock(Date.parse('2030-01-01T12:00:00Z'));
  const outcomes: string[] = [];
  const attempts: string[] = [];
  const sut = new DeliveryQueue(channels, clock, { ...OPTS, ...opts }, { finished: (c, o) => outcomes.push(`${c}:${o}`), attempted: (c, ok) => attempts.push(`${c}:${ok ? 'ok' : 'error'}`) });
  cleanups.push(() => sut.close());
  return { sut, clock, outcomes, attempts };
}

describe(DeliveryQueue.name, () => {
  it('mails through a real SMTP server: subject with the prefix, every recipient, the body', async () => {
    const smtp = await smtpServer();
    const { sut, outcomes } = queue([email(smtp.port)]);

    const queued = sut.enqueue(MESSAGE);

    expect(queued).toEqual([expect.objectContaining({ channel: 'email', state: 'sending', attempts: 1 })]);
    await expectEventually(() => sut.list()[0].state === 'ok');
    expect(outcomes).toEqual(['email:ok']);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0].from).toBe('grid@test.local');
    expect(smtp.mails[0].to).toEqual(['ops@test.local', 'lead@test.local']);
    expect(smtp.mails[0].data).toContain('Subject: [grid-test] api is DOWN');
    expect(smtp.mails[0].data).toContain('api is DOWN: 1 of 3 pods ready for 30 s.');
    expect(sut.list()[0].response).toMatch(/^250 /);
  });

  it('retries a failing webhook with exponential backoff on the clock, then succeeds', async () => {
    const hook = await webhookServer([500, 503, 200]);
    const { sut, clock, outcomes, attempts } = queue([new WebhookChannel(hook.url)]);
    sut.enqueue(MESSAGE);

    await expectEventually(() => sut.list()[0].state === 'retrying');
    expect(sut.list()[0]).toMatchObject({ attempts: 1, lastError: 'HTTP 500 from the webhook', nextAttemptAt: new Date(clock.now() + 1000).toISOString() });
    clock.advance(999);
    expect(sut.list()[0]).toMatchObject({ state: 'retrying', attempts: 1 });
    clock.advance(1);
    await expectEventually(() => sut.list()[0].state === 'retrying' && sut.list()[0].attempts === 2);
    expect(sut.list()[0].nextAttemptAt).toBe(new Date(clock.now() + 2000).toISOString());
    clock.advance(2000);
    await expectEventually(() => sut.list()[0].state === 'ok');

    expect(sut.list()[0]).toMatchObject({ attempts: 3, response: 'HTTP 200' });
    expect(hook.bodies).toEqual([MESSAGE.payload, MESSAGE.payload, MESSAGE.payload]);
    expect(attempts).toEqual(['webhook:error', 'webhook:error', 'webhook:ok']);
    expect(outcomes).toEqual(['webhook:ok']);
  });

  it('gives up after maxAttempts on a closed SMTP port, with the error, and says so once', async () => {
    const { sut, clock, outcomes } = queue([email(await closedPort())], { maxAttempts: 2 });
    sut.enqueue(MESSAGE);

    await expectEventually(() => sut.list()[0].state === 'retrying');
    clock.advance(1000);
    await expectEventually(() => sut.list()[0].state === 'failed');

    expect(sut.list()[0]).toMatchObject({ attempts: 2, lastError: expect.stringContaining('ECONNREFUSED') });
    expect(outcomes).toEqual(['email:failed']);
  });

  it('ends an attempt at its timeout when the SMTP server never answers, and retries', async () => {
    const port = await silentServer();
    // nodemailer's own timeouts (real time) are long; the queue's deadline on the clock ends the attempt.
    const { sut, clock } = queue([email(port, 60_000)], { attemptTimeoutMs: 5000 });
    sut.enqueue(MESSAGE);
    expect(sut.list()[0].state).toBe('sending');

    clock.advance(5000);
    await expectEventually(() => sut.list()[0].state === 'retrying');

    expect(sut.list()[0]).toMatchObject({ attempts: 1, lastError: 'no answer within 5000 ms (ALERT_SEND_TIMEOUT_MS)' });
  });

  it('keeps at most maxPending deliveries, dropping the oldest waiting one, and never more than maxInFlight attempts', async () => {
    const port = await silentServer();
    const { sut, outcomes } = queue([email(port, 60_000)], { maxPending: 2, maxInFlight: 1 });

    sut.enqueue({ ...MESSAGE, subject: 'a' });
    sut.enqueue({ ...MESSAGE, subject: 'b' });
    sut.enqueue({ ...MESSAGE, subject: 'c' });

    expect(sut.list().map((d) => [d.subject, d.state])).toEqual([
      ['c', 'queued'],
      ['b', 'dropped'],
      ['a', 'sending'],
    ]);
    expect(outcomes).toEqual(['email:dropped']);
  });

  it('never shows the webhook path (it often is the secret) in an error', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/hooks/secret-token`;
    const { sut } = queue([new WebhookChannel(url)], { maxAttempts: 1 });
    sut.enqueue(MESSAGE);

    await expectEventually(() => sut.list()[0].state === 'failed');

    expect(sut.list()[0].lastError).toContain('ECONNREFUSED');
    expect(JSON.stringify(sut.list())).not.toContain('secret-token');
    expect(new WebhookChannel(url).describe()).toEqual({ origin: new URL(url).origin });
  });
});
