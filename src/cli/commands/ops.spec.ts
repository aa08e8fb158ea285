import { seedArgv } from './ops.cmd.js';
import { alertsUnknown, auditRows, chaosKillCommand, experimentDetails, originLabel, pauseExplanation, faultsBody, podRefusal, sinceParam, switchLine, toggleLine, toggleQuery, faultFlagMessage } from './ops.js';
import { actionLine, historyRows, parseDuration, unknownSubcommand } from './rollout.js';
import type { Ctx } from '../run.js';

describe(seedArgv.name, () => {
  const sut = seedArgv;
  const n = ['node', 'gridctl'];

  it.each<[string[], string[]]>([
    [['register', '--service', 'x', '--version', 'v1'], ['register', '--service', 'x', '--service-version', 'v1']],
    [['--server', 'http://h', 'register', '--version=v2'], ['--server', 'http://h', 'register', '--service-version=v2']],
    [['--version'], ['--version']],
    [['get', 'register', '--version'], ['get', 'register', '--version']],
    [['rollout', '--service', 'x', '--to-version', 'v2'], ['rollout', '--service', 'x', '--to-version', 'v2']],
    [['chaos', 'faults', 'api', '--version', 'v2'], ['chaos', 'faults', 'api', '--service-version', 'v2']],
    [['chaos', 'pause', 'api', '--version', 'v2'], ['chaos', 'pause', 'api', '--service-version', 'v2']],
    [['chaos', 'kill', 'api', '--version=v2'], ['chaos', 'kill', 'api', '--service-version=v2']],
    [['chaos', 'crash', '--version'], ['chaos', 'crash', '--version']],
  ])('%j', (args, want) => {
    expect(sut([...n, ...args])).toEqual([...n, ...want]);
  });
});

describe(sinceParam.name, () => {
  const sut = sinceParam;
  const now = Date.parse('2024-05-01T12:00:00.000Z');

  it.each<[string, string]>([
    ['1h', '2024-05-01T11:00:00.000Z'],
    ['30m', '2024-05-01T11:30:00.000Z'],
    ['2d', '2024-04-29T12:00:00.000Z'],
    ['2024-04-01T00:00:00Z', '2024-04-01T00:00:00Z'],
    ['1714564800000', '1714564800000'],
  ])('%s', (raw, want) => expect(sut(raw, now)).toBe(want));

  it.each(['yesterday', '1w', ''])('refuses %j', (raw) => expect(() => sut(raw, now)).toThrow('--since'));
});

describe(parseDuration.name, () => {
  const sut = parseDuration;

  it.each<[string, number]>([
    ['0', 0],
    ['45', 45_000],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
  ])('%s', (raw, ms) => expect(sut(raw, '--timeout')).toBe(ms));

  it.each(['', 'soon', '10x', '5m banana'])('refuses %j', (raw) => expect(() => sut(raw, '--timeout')).toThrow('--timeout'));
});

describe(auditRows.name, () => {
  it('shows decisions Grid made itself as such, and the request status otherwise', () => {
    const e = { id: 1, time: Date.parse('2024-05-01T12:00:00.000Z'), actor: 'system', actorKind: 'system', sourceIp: null, action: 'rollout.aborted', target: 'api', summary: 's', status: null };
    expect(auditRows([e, { ...e, actor: 'admin', action: 'apply', status: 200, sourceIp: '127.0.0.1' }])).toEqual([
      ['2024-05-01T12:00:00.000Z', 'system', 'rollout.aborted', 'api', 'decision', '', 's'],
      ['2024-05-01T12:00:00.000Z', 'admin', 'apply', 'api', '200', '127.0.0.1', 's'],
    ]);
  });
});

describe(actionLine.name, () => {
  const sut = actionLine;

  it.each<[Parameters<typeof actionLine>[1], boolean, string, string]>([
    ['pause', false, 'paused', 'rollout "api" paused'],
    ['resume', false, 'resumed', 'rollout "api" resumed'],
    ['abort', false, 'aborted: all traffic back to v2', 'rollout "api" aborted: all traffic back to v2'],
    ['promote', false, 'moving to step 3', 'rollout "api" promoted: moving to step 3'],
    ['promote', true, 'promoting v3 fully', 'rollout "api" promoted fully: v3 gets all traffic'],
    ['retry', false, 'retrying the rollout of v3 from the first step', 'rollout "api" retried: v3 starts again from the first step'],
    ['pause', false, 'paused at step 2', 'rollout "api" paused: at step 2'],
  ])('%s %s %j', (action, full, message, want) => expect(sut('api', action, full, message)).toBe(want));
});

describe(switchLine.name, () => {
  const sut = switchLine;

  it.each<[string, string]>([
    ['switched by request from v1 to v2', 'failovergroup/web switched from v1 to v2'],
    ['switched by request from v1 to v2 (v2 is unhealthy: 3 failed checks in a row; last: 500)', 'failovergroup/web switched from v1 to v2 (v2 is unhealthy: 3 failed checks in a row; last: 500)'],
    ['pinned until failback', 'failovergroup/web switched from v1 to v2 (pinned until failback)'],
  ])('%j', (message, want) => expect(sut('web', { from: 'v1', to: 'v2', message })).toBe(want));
});

describe(toggleQuery.name, () => {
  const sut = toggleQuery;

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['fail', { rate: '0.5' }, { rate: '0.5' }],
    ['fail', { rate: '1' }, { rate: '1' }],
    ['fail', {}, {}],
    ['cpu', { seconds: '30' }, { seconds: '30' }],
    ['slow', { ms: '800' }, { ms: '800' }],
    ['liveness', { fail: true }, { fail: 'true' }],
    ['liveness', { fail: false }, { fail: 'false' }],
    ['unready', { value: 'false' }, { value: 'false' }],
  ])('%s %j', (toggle, opts, want) => expect(sut(toggle, opts)).toEqual(want));

  it.each<[string, Record<string, unknown>, string]>([
    ['fail', { rate: '1.5' }, "--rate: must be a number 0..1 (the share of requests to fail) (got '1.5')"],
    ['fail', { rate: 'half' }, '--rate: must be a number 0..1'],
    ['fail', { rate: '-0.1' }, '--rate: must be a number 0..1'],
    ['cpu', { seconds: '301' }, '--seconds: must be a number of seconds 0..300'],
    ['slow', { ms: '1.5' }, '--ms: must be an integer 0..60000'],
    ['slow', { ms: '60001' }, '--ms: must be an integer 0..60000'],
    ['slow', {}, 'chaos slow: --ms is required'],
    ['unready', { value: 'maybe' }, '--value: must be true or false'],
  ])('refuses %s %j', (toggle, opts, message) => expect(() => sut(toggle, opts)).toThrow(message));
});

describe(toggleLine.name, () => {
  const sut = toggleLine;
  const state = { corrupted: false, failRate: 0, slowMs: 0, livenessFail: false, unready: false, cpuBurning: false };

  it.each<[string, unknown, string, boolean]>([
    ['fail', { action: 'fail', ...state, failRate: 0.5 }, 'pod/web-1: fail on (rate 0.5)', true],
    ['fail', { action: 'fail', ...state }, 'pod/web-1: fail off', true],
    ['fail', { ignored: true, action: 'fail', reason: 'v3 is the stable version: fail is ignored', ...state }, 'pod/web-1: fail ignored (v3 is the stable version)', false],
    ['slow', { action: 'slow', ...state, slowMs: 800 }, 'pod/web-1: slow on (800 ms)', true],
    ['cpu', { action: 'cpu', seconds: 30, ...state, cpuBurning: true }, 'pod/web-1: cpu on (burning one core for 30s)', true],
    ['cpu', { action: 'cpu', seconds: 0, ...state }, 'pod/web-1: cpu off', true],
    ['crash', { action: 'crash', exiting: true, code: 1 }, 'pod/web-1: crash: exiting with code 1; Grid restarts it', true],
    ['liveness', { action: 'liveness', ...state, livenessFail: true }, 'pod/web-1: liveness on (the liveness probe fails)', true],
    ['unready', { action: 'unready', ...state }, 'pod/web-1: unready off', true],
    ['reset', { action: 'reset', ...state }, 'pod/web-1: every chaos toggle off', true],
  ])('%s %j', (toggle, answer, line, ok) => expect(sut('web-1', toggle, answer)).toEqual({ line, ok }));
});

describe(podRefusal.name, () => {
  it.each<[string, string]>([
    ['{"error":"rate must be a number 0..1"}', 'rate must be a number 0..1'],
    ['{"message":"nope"}', 'nope'],
    ['plain words', 'plain words'],
  ])('%j', (message, want) => expect(podRefusal(message)).toBe(want));
});

describe(unknownSubcommand.name, () => {
  const subs = ['status', 'undo'];

  it.each<[string[], RegExp]>([
    [['restart', 'example'], /^rollout has no subcommand 'restart' \(its subcommands: status, undo\); .*gridctl chaos kill example --count N.*gridctl rollout undo example$/],
    [['stauts'], /^rollout has no subcommand 'stauts' \(its subcommands: status, undo\)$/],
  ])('%j', (args, want) => expect(() => unknownSubcommand(args, subs)).toThrow(want));

  it('is a usage error', () => {
    try {
      unknownSubcommand(['restart'], subs);
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(2);
    }
    expect.assertions(1);
  });
});

describe(alertsUnknown.name, () => {
  it('names the subcommand there is', () => expect(() => alertsUnknown('foo')).toThrow("alerts has no subcommand 'foo': `gridctl alerts` lists the alert state, `gridctl alerts test` sends a test alert"));
});

describe(chaosKillCommand.name, () => {
  const ctx = (opts: Record<string, unknown>) => ({ opts }) as unknown as Ctx;

  it.each<[string | undefined, Record<string, unknown>, string]>([
    [undefined, {}, 'chaos kill: give a SERVICE (with --count N) or --pod ID'],
    ['api', { pod: 'api-1' }, 'chaos kill: give a SERVICE or --pod ID, not both'],
  ])('refuses %j %j before any request', async (service, opts, message) => {
    await expect(chaosKillCommand(ctx(opts), service)).rejects.toThrow(message);
  });
});

describe(historyRows.name, () => {
  it('marks the current revision with *, the others blank (not <none>)', () => {
    const rows = historyRows({ history: [{ revision: 2, version: 'v2', current: true }, { revision: 1, version: 'v1', current: false }] }, [{ generation: 1, revision: 1, version: 'v1', source: 'apply', createdAt: 't1', replicas: 2 }]);
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ['1', 'v1', ' ', '1'],
      ['2', 'v2', '*', ''],
    ]);
  });
});

describe(faultsBody.name, () => {
  const sut = faultsBody;

  it.each<[Record<string, unknown>, Record<string, unknown>]>([
    [{ abortPercent: '25', abortStatus: '503' }, { service: 'api', abortPercent: 25, abortStatus: 503 }],
    [{ serviceVersion: 'v2', delayMs: '200', delayPercent: '12.5', duration: '2m' }, { service: 'api', version: 'v2', delayMs: 200, delayPercent: 12.5, durationSeconds: 120 }],
    [{ abortPercent: 'lots', duration: '30' }, { service: 'api', abortPercent: 'lots', durationSeconds: 30 }],
  ])('%j', (opts, want) => expect(sut('api', opts)).toEqual(want));

  it.each(['1500ms', '2h', '0s', 'soon'])('refuses --duration %s', (d) => expect(() => sut('api', { abortPercent: '5', duration: d })).toThrow('--duration'));

  it.each([
    ['100ms', 100],
    ['1s', 1000],
    ['200', 200],
  ])('takes --delay-ms %s', (d, ms) => expect(sut('api', { delayPercent: '50', delayMs: d })).toMatchObject({ delayMs: ms }));

  it('says --delay-ms is milliseconds when it is neither a number nor a duration', () => expect(() => sut('api', { delayPercent: '50', delayMs: 'soon' })).toThrow(/--delay-ms: milliseconds, e.g. 200/));
});

describe(faultFlagMessage.name, () => {
  it.each([
    ['give abortPercent or delayPercent above 0 (a fault that touches no request is not an experiment)', 'give --abort-percent or --delay-percent above 0 (a fault that touches no request is not an experiment)'],
    ['is required (1..60000) when delayPercent is above 0', 'is required (1..60000) when --delay-percent is above 0'],
    ['must be an integer 1..3600 (got 0)', 'must be an integer 1..3600 (got 0)'],
  ])('%s', (message, want) => expect(faultFlagMessage(message)).toBe(want));
});

describe(experimentDetails.name, () => {
  it.each<[Parameters<typeof experimentDetails>[0], string]>([
    [{ kind: 'faults', params: { abortPercent: 25, abortStatus: 503, delayMs: 0, delayPercent: 0 } }, 'abort 25% with 503'],
    [{ kind: 'faults', params: { abortPercent: 0, abortStatus: 503, delayMs: 200, delayPercent: 50 } }, 'delay 50% by 200ms'],
    [{ kind: 'pause', params: { seconds: 10 }, pods: ['api-1', 'api-2'] }, 'pods api-1,api-2'],
  ])('%j', (e, want) => expect(experimentDetails(e)).toBe(want));
});

describe(originLabel.name, () => {
  it.each([
    ['api', 'manual'],
    ['rollout', 'rollout'],
  ])('%s → %s', (origin, want) => expect(originLabel(origin)).toBe(want));
});

describe(pauseExplanation.name, () => {
  const frozen = (pod: string, id: string, explain: string) => ({ message: `pod ${pod} paused for 10 s by POST /chaos/pause (experiment ${id})`, explain });

  it.each<[string, Array<{ message: string; explain: string }>, string]>([
    ['the explanation of its pod, inline', [frozen('nolive-1', 'pause-1', 'Pod nolive-1 is frozen for 10 s with no liveness probe: Grid cannot tell it is hung')], 'experiment pause-1: Pod nolive-1 is frozen for 10 s with no liveness probe: Grid cannot tell it is hung'],
    ['one line per pod, not another experiment\'s', [frozen('a-1', 'pause-1', 'A'), frozen('a-2', 'pause-2', 'other'), frozen('a-3', 'pause-1', 'B')], 'experiment pause-1: A\n  B'],
    ['no event found: where to look', [], 'experiment pause-1: gridctl events --service nolive says what the pods\' probes should do'],
  ])('%s', (_name, events, want) => expect(pauseExplanation('pause-1', 'nolive', events)).toBe(want));
});
