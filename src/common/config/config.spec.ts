import * as path from 'node:path';
import { ConfigError, defaultMaxPods, loadConfig } from './config.js';

const CWD = path.resolve('/srv/grid');
const GIB = 1024 ** 3;
/** A fixed machine, so no default depends on where the tests run. */
const MACHINE = { cores: 2, totalMemBytes: 24 * GIB };

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe(loadConfig.name, () => {
  const sut = loadConfig;

  it('uses the defaults for an empty environment', () => {
    expect(sut({}, CWD, MACHINE)).toEqual({
      port: 8080,
      host: '127.0.0.1',
      dataDir: path.join(CWD, 'data'),
      tickMs: 1000,
      apiKey: undefined,
      keepPodsOnExit: false,
      gatewayPort: undefined,
      gatewayFastPath: true,
      gatewayLb: 'round-robin',
      simStartDelayMs: 300,
      sseReplay: 50,
      logLevel: 'log',
      logFormat: 'text',
      workDir: CWD,
      hpaSyncMs: 15000,
      url: 'http://127.0.0.1:8080',
      podEnv: {},
      maxPods: 64,
      maxPodsSource: 'GRID_MAX_PODS; default from 2 cores, 24 GiB',
      maxStarting: 4,
      failoverUrlAllowlist: [],
    });
  });

  it('treats empty strings as unset', () => {
    const config = sut({ GRID_PORT: '', TICK_MS: '', GRID_DATA_DIR: '', GRID_GATEWAY_PORT: '', GRID_KEEP_PODS_ON_EXIT: '', GRID_API_KEY: '' }, CWD, MACHINE);

    expect([config.port, config.tickMs, config.dataDir, config.gatewayPort, config.keepPodsOnExit, config.apiKey]).toEqual([
      8080,
      1000,
      path.join(CWD, 'data'),
      undefined,
      false,
      undefined,
    ]);
  });

  it.each([
    { env: { GRID_PORT: '0' }, key: 'port', want: 0 },
    { env: { GRID_PORT: '65535' }, key: 'port', want: 65535 },
    { env: { GRID_HOST: '0.0.0.0' }, key: 'host', want: '0.0.0.0' },
    { env: { GRID_HOST: '::1' }, key: 'host', want: '::1' },
    { env: { TICK_MS: '10' }, key: 'tickMs', want: 10 },
    { env: { GRID_DATA_DIR: 'state/db' }, key: 'dataDir', want: path.join(CWD, 'state/db') },
    { env: { GRID_DATA_DIR: '/var/lib/grid' }, key: 'dataDir', want: path.resolve('/var/lib/grid') },
    { env: { GRID_KEEP_PODS_ON_EXIT: 'true' }, key: 'keepPodsOnExit', want: true },
    { env: { GRID_KEEP_PODS_ON_EXIT: 'YES' }, key: 'keepPodsOnExit', want: true },
    { env: { GRID_KEEP_PODS_ON_EXIT: '0' }, key: 'keepPodsOnExit', want: false },
    { env: { GRID_GATEWAY_PORT: '8081' }, key: 'gatewayPort', want: 8081 },
    { env: { GRID_GATEWAY_LB: 'least-request' }, key: 'gatewayLb', want: 'least-request' },
    { env: { GRID_GATEWAY_FAST_PATH: 'false' }, key: 'gatewayFastPath', want: false },
    { env: { GRID_LOG_LEVEL: 'debug' }, key: 'logLevel', want: 'debug' },
    { env: { GRID_LOG_FORMAT: 'json' }, key: 'logFormat', want: 'json' },
    { env: { X_API_KEY: 'x-key-123' }, key: 'apiKey', want: 'x-key-123' },
    { env: { GRID_API_KEY: 'grid-key-1', X_API_KEY: 'x-key-123' }, key: 'apiKey', want: 'grid-key-1' },
    { env: { GRID_PORT: '9000' }, key: 'url', want: 'http://127.0.0.1:9000' },
    { env: { GRID_HOST: '::1', GRID_PORT: '9000' }, key: 'url', want: 'http://[::1]:9000' },
    { env: { GRID_MAX_PODS: '1' }, key: 'maxPods', want: 1 },
    { env: { GRID_MAX_PODS: '500' }, key: 'maxPods', want: 500 },
    { env: { GRID_MAX_PODS: '5' }, key: 'maxPodsSource', want: 'GRID_MAX_PODS=5' },
    { env: { GRID_MAX_STARTING: '1' }, key: 'maxStarting', want: 1 },
    { env: { GRID_FAILOVER_URL_ALLOWLIST: 'http://10.0.0.5:8080, http://DR.example.com:80/' }, key: 'failoverUrlAllowlist', want: ['http://10.0.0.5:8080', 'http://dr.example.com'] },
    { env: { GRID_FAILOVER_URL_ALLOWLIST: ' , ' }, key: 'failoverUrlAllowlist', want: [] },
    {
      env: { PATH: '/usr/bin', HOME: '/home/grid', GRID_API_KEY: 'grid-key-1', X_API_KEY: 'x-key-123', SMTP_PASS: 'secret', TICK_MS: '500', XTICK_MS: 'kept' },
      key: 'podEnv',
      want: { PATH: '/usr/bin', HOME: '/home/grid', XTICK_MS: 'kept' },
    },
  ])('reads $env into $key', ({ env, key, want }) => {
    expect(sut(env, CWD, MACHINE)[key as keyof ReturnType<typeof loadConfig>]).toEqual(want);
  });

  it.each([
    { env: { GRID_PORT: 'abc' }, variable: 'GRID_PORT', message: 'GRID_PORT: must be an integer 0..65535 (got "abc")' },
    { env: { GRID_PORT: '70000' }, variable: 'GRID_PORT', message: 'GRID_PORT: must be an integer 0..65535 (got 70000)' },
    { env: { GRID_PORT: '-1' }, variable: 'GRID_PORT', message: 'GRID_PORT: must be an integer 0..65535 (got -1)' },
    { env: { GRID_PORT: '80.5' }, variable: 'GRID_PORT', message: 'GRID_PORT: must be an integer 0..65535 (got "80.5")' },
    { env: { TICK_MS: '0' }, variable: 'TICK_MS', message: 'TICK_MS: must be an integer 10..3600000 (got 0)' },
    { env: { GRID_KEEP_PODS_ON_EXIT: 'maybe' }, variable: 'GRID_KEEP_PODS_ON_EXIT', message: 'GRID_KEEP_PODS_ON_EXIT: must be true or false (got "maybe")' },
    { env: { X_API_KEY: 'short' }, variable: 'X_API_KEY', message: 'X_API_KEY: must be at least 8 characters' },
    { env: { GRID_API_KEY: 'short', X_API_KEY: 'long-enough-key' }, variable: 'GRID_API_KEY', message: 'GRID_API_KEY: must be at least 8 characters' },
    { env: { GRID_GATEWAY_LB: 'foo' }, variable: 'GRID_GATEWAY_LB', message: 'GRID_GATEWAY_LB: must be one of round-robin, least-request (got "foo")' },
    { env: { GRID_GATEWAY_PORT: 'x' }, variable: 'GRID_GATEWAY_PORT', message: 'GRID_GATEWAY_PORT: must be an integer 0..65535 (got "x")' },
    { env: { GRID_HOST: 'evil host' }, variable: 'GRID_HOST', message: 'GRID_HOST: must be a host name or IP address (got "evil host")' },
    { env: { GRID_LOG_LEVEL: 'verbose' }, variable: 'GRID_LOG_LEVEL', message: 'GRID_LOG_LEVEL: must be one of error, warn, log, debug (got "verbose")' },
    { env: { GRID_LOG_FORMAT: 'pretty' }, variable: 'GRID_LOG_FORMAT', message: 'GRID_LOG_FORMAT: must be one of text, json (got "pretty")' },
    { env: { GRID_MAX_PODS: '0' }, variable: 'GRID_MAX_PODS', message: 'GRID_MAX_PODS: must be an integer 1..1000000 (got 0)' },
    { env: { GRID_MAX_PODS: 'lots' }, variable: 'GRID_MAX_PODS', message: 'GRID_MAX_PODS: must be an integer 1..1000000 (got "lots")' },
    { env: { GRID_MAX_STARTING: '0' }, variable: 'GRID_MAX_STARTING', message: 'GRID_MAX_STARTING: must be an integer 1..10000 (got 0)' },
    {
      env: { GRID_FAILOVER_URL_ALLOWLIST: 'http://a:1,https://b:2' },
      variable: 'GRID_FAILOVER_URL_ALLOWLIST',
      message: 'GRID_FAILOVER_URL_ALLOWLIST: each entry must be an http origin such as http://10.0.0.5:8080, without path, query or credentials (got "https://b:2")',
    },
    {
      env: { GRID_FAILOVER_URL_ALLOWLIST: 'http://a:1/path' },
      variable: 'GRID_FAILOVER_URL_ALLOWLIST',
      message: 'GRID_FAILOVER_URL_ALLOWLIST: each entry must be an http origin such as http://10.0.0.5:8080, without path, query or credentials (got "http://a:1/path")',
    },
  ])('rejects $env with a ConfigError naming $variable', ({ env, variable, message }) => {
    const err = thrown(() => sut(env, CWD, MACHINE));

    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ variable, message });
  });
});

describe(defaultMaxPods.name, () => {
  const sut = defaultMaxPods;

  it.each([
    { machine: { cores: 2, totalMemBytes: 24 * GIB }, want: 64, why: '32 per core' },
    { machine: { cores: 16, totalMemBytes: 64 * GIB }, want: 110, why: "the kubelet's maxPods" },
    { machine: { cores: 8, totalMemBytes: 2 * GIB }, want: 32, why: '64 MiB per pod' },
    { machine: { cores: 1, totalMemBytes: 32 * 1024 * 1024 }, want: 1, why: 'never below one' },
  ])('is $want on $machine.cores cores and $machine.totalMemBytes bytes ($why)', ({ machine, want }) => {
    expect(sut(machine)).toBe(want);
  });
});
