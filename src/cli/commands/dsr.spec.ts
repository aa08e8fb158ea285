import { UsageError } from '../errors.js';
import { registerSpec, rolloutSpec, splitCommand, type RegisterFlags, type RolloutFlags } from './dsr.js';

describe(splitCommand.name, () => {
  const sut = splitCommand;

  it.each<[string, string[]]>([
    ['node server.js', ['node', 'server.js']],
    ['  node   server.js  ', ['node', 'server.js']],
    ['python3 -m http.server $(PORT)', ['python3', '-m', 'http.server', '$(PORT)']],
    [`node -e 'console.log("hi there")'`, ['node', '-e', 'console.log("hi there")']],
    [`echo "a b" c`, ['echo', 'a b', 'c']],
    [`echo "say \\"hi\\" \\$x"`, ['echo', 'say "hi" $x']],
    [`echo a\\ b`, ['echo', 'a b']],
    [`echo ''`, ['echo', '']],
    [`echo x"y z"'w'`, ['echo', 'xy zw']],
    [`echo "$(PORT)"`, ['echo', '$(PORT)']],
    [`echo a#b x~`, ['echo', 'a#b', 'x~']],
    [`echo '*' "|"`, ['echo', '*', '|']],
    // Quoted or escaped, $(VAR) is text: $$(VAR) is how Grid is told to leave it alone.
    [`echo '$(HOME)'`, ['echo', '$$(HOME)']],
    [`echo "\\$(X)"`, ['echo', '$$(X)']],
    // A backslash-newline joins lines, as a shell does.
    ['node \\\nserver.js', ['node', 'server.js']],
    ['node ser\\\nver.js', ['node', 'server.js']],
  ])('%s', (line, want) => {
    expect(sut(line)).toEqual(want);
  });

  it.each<[string, string]>([
    ['', 'is empty'],
    ['a | b', "'|'"],
    ['a > out', "'>'"],
    ['a; b', "';'"],
    ['a && b', "'&'"],
    ['echo $HOME', 'a $ expansion'],
    ['echo "$HOME"', 'a $ expansion'],
    ['ls *.js', "'*'"],
    ['echo `id`', "'`'"],
    ['cd ~', "'~'"],
    ["echo 'open", 'unterminated single quote'],
    ['echo "open', 'unterminated double quote'],
    ['echo a\\', 'trailing backslash'],
    ['# comment', "'#'"],
    ['FOO=1 node x.js', "'FOO=1' sets a variable"],
  ])('refuses %j (%s)', (line, why) => {
    expect(() => sut(line)).toThrow(UsageError);
    expect(() => sut(line)).toThrow(why);
  });
});

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
  ])('refuses %s', (_, flags, exists, why) => {
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
