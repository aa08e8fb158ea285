import { seedArgv } from './ops.cmd.js';
import { auditRows, sinceParam } from './ops.js';
import { parseDuration } from './rollout.js';

describe(seedArgv.name, () => {
  const sut = seedArgv;
  const n = ['node', 'gridctl'];

  it.each<[string[], string[]]>([
    [['register', '--service', 'x', '--version', 'v1'], ['register', '--service', 'x', '--service-version', 'v1']],
    [['--server', 'http://h', 'register', '--version=v2'], ['--server', 'http://h', 'register', '--service-version=v2']],
    [['--version'], ['--version']],
    [['get', 'register', '--version'], ['get', 'register', '--version']],
    [['rollout', '--service', 'x', '--to-version', 'v2'], ['rollout', '--service', 'x', '--to-version', 'v2']],
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
