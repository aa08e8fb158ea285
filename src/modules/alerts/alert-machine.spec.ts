import { FakeClock } from '../../common/clock/fake-clock.js';
import type { ClockTimer } from '../../common/clock/clock.js';
import { AlertMachine, type AlertSettings, type Notification } from './alert-machine.js';

const SEED: AlertSettings = { downConfirmMs: 0, upConfirmMs: 0, cooldownMs: 0, startupGraceMs: 5000 };

/** A step of a script: at time t, subject api is observed down/up, or an event about it happens. */
type Step = [t: number, what: 'down' | 'up' | 'event' | 'scaled-from-0'];

function line(n: Notification): string {
  const parts = [String(n.at), n.subject];
  if (n.state) parts.push(n.state.health);
  if (n.state?.missedDown) parts.push(`missed DOWN ${n.state.missedDown.since}..${n.state.missedDown.until}`);
  if (n.state && n.state.changes > 1) parts.push(`${n.state.changes} changes`);
  if (n.events.length) parts.push(`+${n.events.length} events`);
  return parts.join(' ');
}

/**
 * Drives the machine as AlertsService does: due() after every observation and at
 * nextWakeAt() (a clock timer), never on a polling grid, so a wake-up time that is wrong
 * shows up as a notification that is late or missing.
 */
function run(settings: AlertSettings, script: Step[], until: number, first = 0): string[] {
  const clock = new FakeClock(0);
  const sut = new AlertMachine(settings);
  const sent: string[] = [];
  let timer: ClockTimer | undefined;
  const flush = () => {
    for (const n of sut.due(clock.now())) sent.push(line(n));
    clock.clearTimeout(timer);
    const at = sut.nextWakeAt();
    timer = at === undefined ? undefined : clock.setTimeout(flush, at - clock.now());
  };
  // The subject exists from `first` (a service applied then), UP until the script says otherwise.
  clock.setTimeout(() => {
    sut.observe('service', 'api', 'UP', '3 of 3 pods ready', clock.now());
    flush();
  }, first);
  for (const [t, what] of script) {
    clock.setTimeout(() => {
      const now = clock.now();
      if (what === 'event') sut.event('service', 'api', 'rollout.aborted', 'rollout aborted', now);
      else if (what === 'scaled-from-0') sut.restartGrace('api', now);
      else sut.observe('service', 'api', what === 'down' ? 'DOWN' : 'UP', what === 'down' ? '1 of 3 pods ready' : '3 of 3 pods ready', now);
      flush();
    }, t);
  }
  clock.advance(until);
  return sent;
}

describe(AlertMachine.name, () => {
  it.each([
    { why: 'seed defaults: DOWN and UP at once after the grace', settings: SEED, script: [[6000, 'down'], [7000, 'up']], want: ['6000 api DOWN', '7000 api UP'] },
    { why: 'a DOWN inside the startup grace is sent when the grace ends if it still holds', settings: SEED, script: [[1000, 'down']], want: ['5000 api DOWN'] },
    { why: 'pods that become ready within the grace send nothing', settings: SEED, script: [[0, 'down'], [3000, 'up']], want: [] },
    { why: 'a subject created later has its own grace', settings: SEED, first: 10_000, script: [[10_000, 'down']], want: ['15000 api DOWN'] },
    { why: 'scaling from 0 restarts the grace (the seed)', settings: SEED, script: [[8000, 'scaled-from-0'], [8000, 'down'], [9000, 'up']], want: [] },
    { why: 'scaling from 0, still down when the grace ends', settings: SEED, script: [[8000, 'scaled-from-0'], [8000, 'down']], want: ['13000 api DOWN'] },
    { why: 'DOWN only after the down window', settings: { ...SEED, downConfirmMs: 300 }, script: [[6000, 'down']], want: ['6300 api DOWN'] },
    { why: 'a dip shorter than the down window sends nothing', settings: { ...SEED, downConfirmMs: 300 }, script: [[6000, 'down'], [6299, 'up']], want: [] },
    { why: 'the down window restarts after a recovery', settings: { ...SEED, downConfirmMs: 300 }, script: [[6000, 'down'], [6200, 'up'], [6250, 'down']], want: ['6550 api DOWN'] },
    {
      why: 'UP only after the up window; a relapse inside it keeps DOWN',
      settings: { ...SEED, upConfirmMs: 500 },
      script: [[6000, 'down'], [7000, 'up'], [7200, 'down'], [8000, 'up']],
      want: ['6000 api DOWN', '8500 api UP'],
    },
    {
      why: 'flapping faster than both windows sends nothing',
      settings: { ...SEED, downConfirmMs: 300, upConfirmMs: 300 },
      script: [[6000, 'down'], [6100, 'up'], [6200, 'down'], [6300, 'up'], [6400, 'down'], [6500, 'up']],
      want: [],
    },
    { why: 'an UP held back by the cooldown is sent when it ends', settings: { ...SEED, cooldownMs: 1000 }, script: [[6000, 'down'], [6100, 'up']], want: ['6000 api DOWN', '7000 api UP'] },
    {
      why: 'a DOWN held back by the cooldown is sent when it ends',
      settings: { ...SEED, cooldownMs: 1000 },
      script: [[6000, 'down'], [6100, 'up'], [7050, 'down']],
      want: ['6000 api DOWN', '7000 api UP', '8000 api DOWN'],
    },
    {
      why: 'a flap back to the state last told sends nothing more',
      settings: { ...SEED, cooldownMs: 1000 },
      script: [[6000, 'down'], [6100, 'up'], [6200, 'down']],
      want: ['6000 api DOWN'],
    },
    {
      why: 'a whole outage inside the cooldown is told when it ends, not lost',
      settings: { ...SEED, cooldownMs: 1000 },
      script: [[6000, 'down'], [6100, 'up'], [7100, 'down'], [7300, 'up']],
      want: ['6000 api DOWN', '7000 api UP', '8000 api UP missed DOWN 7100..7300 2 changes'],
    },
    {
      why: 'flapping under a cooldown: at most one notification per cooldown',
      settings: { ...SEED, cooldownMs: 1000 },
      script: [[6000, 'down'], [6100, 'up'], [6300, 'down'], [6500, 'up'], [6700, 'down'], [6900, 'up'], [7100, 'down']],
      want: ['6000 api DOWN', '7000 api UP 5 changes', '8000 api DOWN'],
    },
    { why: 'an event is told at once', settings: SEED, script: [[6000, 'event']], want: ['6000 api +1 events'] },
    { why: 'events within the grace wait for its end', settings: SEED, script: [[1000, 'event'], [2000, 'event']], want: ['5000 api +2 events'] },
    {
      why: 'the cooldown is per subject and covers events; they ride with the next state change',
      settings: { ...SEED, cooldownMs: 1000 },
      script: [[6000, 'down'], [6500, 'event'], [6600, 'up']],
      want: ['6000 api DOWN', '7000 api UP +1 events'],
    },
  ] as Array<{ why: string; settings: AlertSettings; script: Step[]; want: string[]; first?: number }>)('$why', ({ settings, script, want, first }) => {
    expect(run(settings, script, 20_000, first)).toEqual(want);
  });

  it('carries the numbers an UP message needs: since when, and how long the DOWN lasted', () => {
    const sut = new AlertMachine({ ...SEED, startupGraceMs: 0, downConfirmMs: 100 });
    sut.observe('service', 'api', 'DOWN', '1 of 3 pods ready', 1000);
    expect(sut.due(1100)).toEqual([
      { subject: 'api', kind: 'service', at: 1100, events: [], state: { health: 'DOWN', since: 1000, detail: '1 of 3 pods ready', previous: { health: 'UP', since: 1000 }, missedDown: undefined, changes: 1 } },
    ]);
    sut.observe('service', 'api', 'UP', '3 of 3 pods ready', 5000);

    expect(sut.due(5000)[0].state).toEqual({ health: 'UP', since: 5000, detail: '3 of 3 pods ready', previous: { health: 'DOWN', since: 1000 }, missedDown: undefined, changes: 1 });
  });

  it('shows a pending confirmation with when it fires, and what holds a notification back', () => {
    const sut = new AlertMachine({ downConfirmMs: 300, upConfirmMs: 0, cooldownMs: 1000, startupGraceMs: 0 });
    sut.observe('group', 'web', 'DOWN', '0 of 3 targets healthy', 0);

    expect(sut.view(100)).toEqual([
      { subject: 'web', kind: 'group', state: 'UP', since: 0, detail: '0 of 3 targets healthy', pending: { to: 'DOWN', since: 0, firesAt: 300 }, notified: 'UP', lastSentAt: null, heldBack: null, events: 0 },
    ]);
    expect(sut.nextWakeAt()).toBe(300);
    sut.due(300);
    sut.observe('group', 'web', 'UP', '1 of 3 targets healthy', 400);
    expect(sut.view(400)[0]).toMatchObject({ state: 'UP', pending: null, notified: 'DOWN', lastSentAt: 300, heldBack: { until: 1300, reason: 'cooldown' } });
    expect(sut.nextWakeAt()).toBe(1300);
  });

  it('forgets a removed subject', () => {
    const sut = new AlertMachine({ ...SEED, startupGraceMs: 0 });
    sut.observe('service', 'api', 'DOWN', '0 of 1 pods ready', 0);
    sut.remove('api');

    expect(sut.due(10)).toEqual([]);
    expect(sut.view(10)).toEqual([]);
  });
});
