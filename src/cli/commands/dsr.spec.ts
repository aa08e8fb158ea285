import { UsageError } from '../errors.js';
import { registerSpec, rolloutSpec, type RegisterFlags, type RolloutFlags } from './dsr.js';

const base = { service: 'example', version: 'v1', replicas: 2 };

describe(registerSpec.name, () => {
  const sut = registerSpec;

  it.each<[string, RegisterFlags, boolean, Record<string, unknown>]>([
    ['a command: process runtime', { ...base, command: 'node server.js', weight: 100 }, false, { replicas: 2, command: ['node', 'server.js'], env: [{ name: 'VERSION', value: 'v1' }] }],
    ['an image with --internal-port: bridge + port', { ...base, image: 'dsr-svc:v1', internalPort: 80, weight: 100 }, false, { replicas: 2, image: 'dsr-svc:v1', network: 'bridge', port: 80, env: [{ name: 'VERSION', value: 'v1' }] }],
    ['an image alone: host network, PORT from Grid', { ...base, image: 'dsr-svc:v1', weight: 100 }, true, { replicas: 2, image: 'dsr-svc:v1', env: [{ name: 'VERSION', value: 'v1' }] }],
    [
      '--weight 10 on an existing service: a canary held at 10%',
      { ...base, version: 'v2', command: 'node server.js', weight: 10 },
      true,
      { replicas: 2, command: ['node', 'server.js'], env: [{ name: 'VERSION', value: 'v2' }], rollout: { strategy: 'Canary', steps: [{ setWeight: 10 }, { pause: {} }] } },
    ],
  ])('%s', (_, flags, exists, spec) => {
    expect(sut(flags, exists)).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'example' }, spec });
  });

  it.each<[string, RegisterFlags, boolean, string]>([
    ['both --command and --image', { ...base, command: 'a', image: 'b:1', weight: 100 }, false, 'exactly one of --command or --image'],
    ['neither', { ...base, weight: 100 }, false, 'exactly one of --command or --image'],
    ['--internal-port with --command', { ...base, command: 'a', internalPort: 80, weight: 100 }, false, '--internal-port goes with --image'],
    ['--weight below 100 on a new service', { ...base, command: 'a', weight: 10 }, false, 'does not exist yet'],
    ['--weight above 100', { ...base, command: 'a', weight: 101 }, true, '--weight'],
    ['a --command that needs a shell', { ...base, command: 'a | b', weight: 100 }, false, `--command: cannot split '|' at character 3 of "a | b" without a shell; Grid runs the command without one (quote it, or write a spec with command: [...])`],
    ['a --command that sets a variable', { ...base, command: 'FOO=1 a', weight: 100 }, false, "--command: 'FOO=1' sets a variable"],
    ['an empty --command', { ...base, command: ' ', weight: 100 }, false, '--command: is empty'],
  ])('refuses %s', (_, flags, exists, why) => {
    expect(() => sut(flags, exists)).toThrow(UsageError);
    expect(() => sut(flags, exists)).toThrow(why);
  });
});

describe(rolloutSpec.name, () => {
  const sut = rolloutSpec;
  const flags: RolloutFlags = { service: 'example', version: 'v2', image: 'dsr-svc:v2', internalPort: 80, replicas: 2, canaryWeight: 10, stepPercent: 25, stepIntervalS: 10, auto: true };

  it.each<[string, Partial<RolloutFlags>, unknown[]]>([
    ['the seed example with --auto: timed pauses', {}, [{ setWeight: 10 }, { pause: { duration: '10s' } }, { setWeight: 35 }, { pause: { duration: '10s' } }, { setWeight: 60 }, { pause: { duration: '10s' } }, { setWeight: 85 }, { pause: { duration: '10s' } }]],
    ['without --auto: every pause waits for promote', { auto: false, canaryWeight: 50, stepPercent: 30 }, [{ setWeight: 50 }, { pause: {} }, { setWeight: 80 }, { pause: {} }]],
    ['a step that lands on 100 stops before it (full promotion is the end)', { canaryWeight: 50, stepPercent: 50, stepIntervalS: 2 }, [{ setWeight: 50 }, { pause: { duration: '2s' } }]],
    ['--canary-weight 100: straight to full promotion', { canaryWeight: 100 }, []],
  ])('%s', (_, over, steps) => {
    const m = sut({ ...flags, ...over });
    expect(m.spec).toEqual({ replicas: 2, image: 'dsr-svc:v2', network: 'bridge', port: 80, env: [{ name: 'VERSION', value: 'v2' }], rollout: { strategy: 'Canary', steps } });
  });

  it.each<[Partial<RolloutFlags>, string]>([
    [{ canaryWeight: 0 }, '--canary-weight'],
    [{ stepPercent: 0 }, '--step-percent'],
    [{ stepIntervalS: 0 }, '--step-interval-s'],
    [{ image: undefined, command: undefined }, 'exactly one'],
  ])('refuses %j', (over, why) => {
    expect(() => sut({ ...flags, ...over })).toThrow(why);
  });
});
