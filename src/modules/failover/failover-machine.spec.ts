import { FakeClock } from '../../common/clock/fake-clock.js';
import { applySwitch, decide, initialState, manualSwitch, observe, reconfigure, restoredState, standby, type MachineConfig, type MachineState, type Observation } from './failover-machine.js';

const BASE: MachineConfig = { targets: ['v1', 'v2', 'v3'], failureThreshold: 3, successThreshold: 2, cooldownMs: 10_000, failback: 'auto' };

/** One round of checks every `every` ms: each target passes unless listed as failing in that round. */
type Round = { fail?: string[]; slow?: string[] };

interface Run {
  clock: FakeClock;
  state: MachineState;
  switches: string[];
}

/** Checks every target once per round (1 s apart), deciding after each round as the checker does; switches read "at:from>to:reason". */
function run(config: MachineConfig, rounds: Round[], start?: Run): Run {
  const r: Run = start ?? { clock: new FakeClock(0), state: initialState(config, 0), switches: [] };
  for (const round of rounds) {
    r.clock.advance(1000);
    const now = r.clock.now();
    for (const id of config.targets) {
      const obs: Observation = round.fail?.includes(id) ? { ok: false, status: 503, latencyMs: 2, problem: 'HTTP 503' } : { ok: true, status: 200, latencyMs: 2 };
      r.state = observe(r.state, config, id, obs, now);
    }
    const d = decide(r.state, config, now);
    if (d) {
      r.state = applySwitch(r.state, d, now);
      r.switches.push(`${now / 1000}:${d.from}>${d.to}:${d.reason}`);
    }
  }
  return r;
}

const rounds = (n: number, round: Round = {}): Round[] => Array.from({ length: n }, () => round);

/** As run(), but the checks of a round arrive in `order` and the checker decides after each one (checks finish at different times). */
function runEach(config: MachineConfig, rounds: Round[], order: readonly string[], start?: Run): Run {
  const r: Run = start ?? { clock: new FakeClock(0), state: initialState(config, 0), switches: [] };
  for (const round of rounds) {
    r.clock.advance(1000);
    const now = r.clock.now();
    for (const id of order) {
      const obs: Observation = round.fail?.includes(id) ? { ok: false, status: 503, latencyMs: 2, problem: 'HTTP 503' } : { ok: true, status: 200, latencyMs: 2 };
      r.state = observe(r.state, config, id, obs, now);
      const d = decide(r.state, config, now);
      if (d) {
        r.state = applySwitch(r.state, d, now);
        r.switches.push(`${now / 1000}:${d.from}>${d.to}:${d.reason}:${d.numbers.failuresInRow ?? ''}`);
      }
    }
  }
  return r;
}

describe('failover machine', () => {
  it.each<[string, Partial<MachineConfig>, Round[], string[]]>([
    ['all healthy: stays on the first target', {}, rounds(20), []],
    ['two failures below the threshold of 3: no switch', {}, [...rounds(3), ...rounds(2, { fail: ['v1'] }), ...rounds(5)], []],
    ['three failures in a row: switches to v2', {}, [...rounds(3), ...rounds(3, { fail: ['v1'] })], ['6:v1>v2:ActiveFailed']],
    ['failures not in a row never add up', {}, [...rounds(3), ...[0, 1, 2, 3, 4, 5].flatMap(() => [{ fail: ['v1'] }, { fail: ['v1'] }, {}])], []],
    ['v2 unhealthy too: skips to v3', {}, [...rounds(3), ...rounds(3, { fail: ['v1', 'v2'] })], ['6:v1>v3:ActiveFailed']],
    ['no target healthy: holds the active one', {}, [...rounds(3, { fail: ['v1', 'v2', 'v3'] }), ...rounds(3, { fail: ['v1', 'v2', 'v3'] })], []],
    ['a target is not a candidate before successThreshold passes: waits for v2 to prove itself', {}, [...rounds(2, { fail: ['v1', 'v2', 'v3'] }), ...rounds(2, { fail: ['v1', 'v3'] })], ['4:v1>v2:ActiveFailed']],
    [
      'cooldown: the second failure is acted on only 10 s after the first switch',
      { failback: 'manual' },
      [...rounds(2), ...rounds(3, { fail: ['v1'] }), ...rounds(10, { fail: ['v1', 'v2'] })],
      ['5:v1>v2:ActiveFailed', '15:v2>v3:ActiveFailed'],
    ],
    [
      'failback auto: returns to v1 once it has been healthy for the cooldown',
      {},
      [...rounds(2), ...rounds(3, { fail: ['v1'] }), ...rounds(14)],
      ['5:v1>v2:ActiveFailed', '17:v2>v1:Failback'],
    ],
    ['failback manual: stays on v2 after v1 recovers', { failback: 'manual' }, [...rounds(2), ...rounds(3, { fail: ['v1'] }), ...rounds(30)], ['5:v1>v2:ActiveFailed']],
    [
      'a flapping v1 never pulls traffic back: each failure restarts its healthy time',
      {},
      [...rounds(2), ...rounds(3, { fail: ['v1'] }), ...[0, 1, 2, 3].flatMap(() => [...rounds(6), ...rounds(3, { fail: ['v1'] })])],
      ['5:v1>v2:ActiveFailed'],
    ],
    [
      'hysteresis on recovery: one pass after failing is not healthy (successThreshold 3)',
      { successThreshold: 3, failback: 'manual' },
      [...rounds(3), ...rounds(3, { fail: ['v1', 'v3'] }), { fail: ['v1'] }, { fail: ['v1'] }, ...rounds(9, { fail: ['v1', 'v2'] })],
      ['6:v1>v2:ActiveFailed', '16:v2>v3:ActiveFailed'],
    ],
    ['failureThreshold 1 with cooldown 0: switches at once', { failureThreshold: 1, cooldownMs: 0, failback: 'manual' }, [...rounds(2), { fail: ['v1'] }, { fail: ['v1', 'v2'] }], ['3:v1>v2:ActiveFailed', '4:v2>v3:ActiveFailed']],
  ])('%s', (_name, patch, script, want) => {
    const sut = run({ ...BASE, ...patch }, script);

    expect(sut.switches).toEqual(want);
  });

  // Found in review: every pod of the example starting slowly made all targets fail, then v3's checks came back
  // first while v1 was still marked unhealthy (but passing): "v1 -> v3: v1 failed 0 health checks in a row".
  it.each<[string, Round[], string[]]>([
    ['all fail at boot and recover together, the lowest priority first: stays on v1', [...rounds(4, { fail: ['v1', 'v2', 'v3'] }), ...rounds(5)], []],
    ['v1 still failing when v3 recovers: switches, with the failures in the numbers', [...rounds(4, { fail: ['v1', 'v2', 'v3'] }), ...rounds(3, { fail: ['v1'] })], ['6:v1>v3:ActiveFailed:5']],
  ])('decides after each check: %s', (_name, rs, want) => {
    expect(runEach(BASE, rs, ['v3', 'v2', 'v1']).switches).toEqual(want);
  });

  it('drops a switch the cooldown held back once the active target passes again', () => {
    const config: MachineConfig = { ...BASE, failback: 'manual' };
    const r = run(config, [...rounds(2), ...rounds(3, { fail: ['v1'] })]);
    expect(r.switches).toEqual(['5:v1>v2:ActiveFailed']);

    // v2 fails through the cooldown (until 15 s) and passes its first check again as it ends, still marked unhealthy: no switch.
    run(config, [...rounds(9, { fail: ['v2'] }), ...rounds(15)], r);

    expect(r.switches).toEqual(['5:v1>v2:ActiveFailed']);
    expect(r.state.active).toBe('v2');
  });

  it('keeps a manual choice under failback auto, but fails over when the chosen target fails', () => {
    const r = run(BASE, rounds(3));
    const m = manualSwitch(r.state, BASE, 'v3', r.clock.now());
    if (!m.ok) throw new Error(m.problem);
    r.state = applySwitch(r.state, m.decision, r.clock.now());

    run(BASE, rounds(30), r);
    expect([r.state.active, r.switches]).toEqual(['v3', []]);

    run(BASE, [...rounds(3, { fail: ['v3'] }), ...rounds(15)], r);
    // The failure unpins: v1 takes over at once (the first healthy target), and failback applies again from there.
    expect(r.switches).toEqual(['36:v3>v1:ActiveFailed']);
  });

  it('carries the numbers behind an automatic switch', () => {
    const config = BASE;
    let state = run(config, rounds(2)).state;
    for (let i = 0; i < 3; i++) state = observe(state, config, 'v1', { ok: false, latencyMs: 75, problem: 'latency 75 ms above maxLatencyMs 50' }, 3000 + i);

    const sut = decide(state, config, 3003);

    expect(sut).toEqual({
      from: 'v1',
      to: 'v2',
      automatic: true,
      reason: 'ActiveFailed',
      message: 'v1 failed 3 health checks in a row (threshold 3; last: latency 75 ms above maxLatencyMs 50): switched to v2, the first healthy target in priority order',
      numbers: { failuresInRow: 3, failureThreshold: 3, lastStatus: null, lastLatencyMs: 75, lastProblem: 'latency 75 ms above maxLatencyMs 50', toPriority: 2 },
    });
  });

  it('carries the numbers behind a failback', () => {
    const r = run(BASE, [...rounds(2), ...rounds(3, { fail: ['v1'] }), ...rounds(14)]);

    expect(r.switches.at(-1)).toBe('17:v2>v1:Failback');
    // v1 turned healthy at 7 s (2 passes after failing at 5 s) and had been so for 10 s.
    expect(r.state).toMatchObject({ active: 'v1', lastSwitchAt: 17_000 });
  });

  describe(manualSwitch.name, () => {
    const healthy = run(BASE, rounds(2)).state;
    const v2Down = run(BASE, [...rounds(2), ...rounds(3, { fail: ['v2'] })]).state;

    it.each<[string, MachineState, string | undefined, { ok: boolean; to?: string; problem?: string; message?: string }]>([
      ['to a named healthy target', healthy, 'v3', { ok: true, to: 'v3', message: 'switched by request from v1 to v3' }],
      ['without a name: the next healthy one after the active', healthy, undefined, { ok: true, to: 'v2' }],
      ['without a name: skips an unhealthy one', v2Down, undefined, { ok: true, to: 'v3' }],
      ['to a named unhealthy target: done, and said', v2Down, 'v2', { ok: true, to: 'v2', message: 'switched by request from v1 to v2 (v2 is unhealthy: 3 failed checks in a row; last: HTTP 503 in 2 ms)' }],
      ['to an unknown target', healthy, 'v9', { ok: false, problem: "'v9' is not a target of this group (targets: v1, v2, v3)" }],
      ['to the active target', healthy, 'v1', { ok: false, problem: "'v1' is already the active target" }],
    ])('%s', (_name, state, to, want) => {
      const sut = manualSwitch(state, BASE, to, 10_000);

      if (want.ok) expect(sut).toMatchObject({ ok: true, decision: { from: 'v1', to: want.to, automatic: false, reason: 'Manual', ...(want.message ? { message: want.message } : {}) } });
      else expect(sut).toEqual({ ok: false, problem: want.problem });
    });

    it('refuses when no other target is healthy and none is named', () => {
      const down = run(BASE, rounds(3, { fail: ['v2', 'v3'] })).state;

      expect(manualSwitch(down, BASE, undefined, 5000)).toEqual({ ok: false, problem: 'no other target is healthy (v2: unhealthy, v3: unhealthy); name one with ?to=' });
    });

    it('starts the cooldown: no automatic switch right after it', () => {
      const r = run(BASE, rounds(2));
      const m = manualSwitch(r.state, BASE, 'v3', r.clock.now());
      r.state = applySwitch(r.state, m.ok ? m.decision : (undefined as never), r.clock.now());

      const after = run(BASE, rounds(10, { fail: ['v3'] }), r);

      // v3 is unhealthy from 5 s: failing over is held by the cooldown started by the manual switch at 2 s, then happens.
      expect(after.switches).toEqual(['12:v3>v1:ActiveFailed']);
    });
  });

  describe(standby.name, () => {
    it.each<[string, Round[], string | undefined]>([
      ['the next healthy after the active', rounds(2), 'v2'],
      ['skips an unhealthy one', [...rounds(2), ...rounds(3, { fail: ['v2'] })], 'v3'],
      ['none when nobody else is healthy', rounds(3, { fail: ['v2', 'v3'] }), undefined],
    ])('%s', (_name, script, want) => {
      expect(standby(run(BASE, script).state, BASE)).toBe(want);
    });
  });

  describe(reconfigure.name, () => {
    it('keeps the health of targets that stay and the active one if it stays', () => {
      const r = run({ ...BASE, failback: 'manual' }, [...rounds(2), ...rounds(3, { fail: ['v1'] })]);
      const config = { ...BASE, targets: ['v3', 'v2', 'v4'] };

      const sut = reconfigure(r.state, config, 6000);

      expect(sut.active).toBe('v2');
      expect(sut.targets.map((t) => `${t.id}:${t.health}`)).toEqual(['v3:healthy', 'v2:healthy', 'v4:unknown']);
    });

    it('makes the first target active when the active one left', () => {
      const sut = reconfigure(initialState(BASE, 0), { ...BASE, targets: ['v2', 'v3'] }, 1000);

      expect(sut.active).toBe('v2');
    });
  });

  describe(restoredState.name, () => {
    it.each([
      { name: 'nothing saved: the first target', saved: undefined, want: { active: 'v1', lastSwitchAt: null } },
      { name: 'a manual switch: kept and still pinned', saved: { active: 'v3', lastSwitchAt: 500, pinned: true }, want: { active: 'v3', lastSwitchAt: 500, pinned: true } },
      { name: 'an automatic switch: kept, its cooldown counted from it', saved: { active: 'v2', lastSwitchAt: 700, pinned: false }, want: { active: 'v2', lastSwitchAt: 700 } },
      { name: 'a target the spec no longer lists: the first target', saved: { active: 'v9', lastSwitchAt: 700, pinned: true }, want: { active: 'v1', lastSwitchAt: null } },
    ])('$name', ({ saved, want }) => {
      const sut = restoredState(BASE, saved, 1000);

      expect({ active: sut.active, lastSwitchAt: sut.lastSwitchAt, ...(sut.pinned ? { pinned: true } : {}) }).toEqual(want);
      expect(sut.targets.map((t) => t.health)).toEqual(['unknown', 'unknown', 'unknown']);
    });

    it('does not fail back from a restored manual choice', () => {
      const restored = restoredState(BASE, { active: 'v2', lastSwitchAt: 0, pinned: true }, 0);
      const r = run(BASE, rounds(60), { clock: new FakeClock(0), state: restored, switches: [] });

      expect(r.switches).toEqual([]);
      expect(r.state.active).toBe('v2');
    });
  });
});
