import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { alertsConfig, ConfigError, defaultMaxPods, loadConfig } from './config.js';

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
      apiKeys: [],
      adminPassword: undefined,
      usersFile: undefined,
      allowInsecure: false,
      keepPodsOnExit: false,
      dockerSocket: '/var/run/docker.sock',
      gatewayPort: undefined,
      gatewayFastPath: true,
      gatewayLb: 'round-robin',
      clientHeadTimeoutMs: 30000,
      clientBodyTimeoutMs: 30000,
      clientIdleTimeoutMs: 65000,
      clientSendTimeoutMs: 60000,
      maxConnections: 10000,
      maxConnectionsSet: false,
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
      alerts: { downConfirmMs: 0, upConfirmMs: 0, cooldownMs: 0, startupGraceMs: 5000, sendTimeoutMs: 10000, sendAttempts: 5, email: undefined, webhookUrl: undefined, publicUiUrl: undefined },
      failoverUrlAllowlist: [],
      auditRefusalsPerMinute: 20,
      eventsRetention: { maxAgeMs: 90 * 86_400_000, maxCount: 1_000_000 },
      podLogs: { maxBytes: 10 * 1024 * 1024, maxFiles: 2 },
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
    { env: { X_API_KEY: 'x-key-123' }, key: 'apiKeys', want: [{ name: 'default', key: 'x-key-123' }] },
    {
      env: { GRID_API_KEYS: ' ci:ci-key-0123456789 , ops.bot:ops-key-0123456789,', GRID_API_KEY: 'grid-key-1' },
      key: 'apiKeys',
      want: [
        { name: 'ci', key: 'ci-key-0123456789' },
        { name: 'ops.bot', key: 'ops-key-0123456789' },
        { name: 'default', key: 'grid-key-1' },
      ],
    },
    { env: { GRID_API_KEYS: 'ci:has:colons-0123456789' }, key: 'apiKeys', want: [{ name: 'ci', key: 'has:colons-0123456789' }] },
    { env: { GRID_ADMIN_PASSWORD: 'correct horse battery' }, key: 'adminPassword', want: 'correct horse battery' },
    { env: { GRID_ALLOW_INSECURE: 'true' }, key: 'allowInsecure', want: true },
    { env: { GRID_PORT: '9000' }, key: 'url', want: 'http://127.0.0.1:9000' },
    { env: { GRID_HOST: '::1', GRID_PORT: '9000' }, key: 'url', want: 'http://[::1]:9000' },
    { env: { GRID_MAX_PODS: '1' }, key: 'maxPods', want: 1 },
    { env: { GRID_MAX_PODS: '500' }, key: 'maxPods', want: 500 },
    { env: { GRID_MAX_PODS: '5' }, key: 'maxPodsSource', want: 'GRID_MAX_PODS=5' },
    { env: { GRID_MAX_STARTING: '1' }, key: 'maxStarting', want: 1 },
    { env: { GRID_FAILOVER_URL_ALLOWLIST: 'http://10.0.0.5:8080, http://DR.example.com:80/' }, key: 'failoverUrlAllowlist', want: ['http://10.0.0.5:8080', 'http://dr.example.com'] },
    { env: { GRID_FAILOVER_URL_ALLOWLIST: ' , ' }, key: 'failoverUrlAllowlist', want: [] },
    { env: { GRID_AUDIT_REFUSALS_PER_MINUTE: '1000' }, key: 'auditRefusalsPerMinute', want: 1000 },
    { env: {}, key: 'eventsRetention', want: { maxAgeMs: 90 * 86_400_000, maxCount: 1_000_000 } },
    { env: { GRID_EVENTS_RETENTION: '30d' }, key: 'eventsRetention', want: { maxAgeMs: 30 * 86_400_000, maxCount: 1_000_000 } },
    { env: { GRID_EVENTS_RETENTION: '720h' }, key: 'eventsRetention', want: { maxAgeMs: 720 * 3_600_000, maxCount: 1_000_000 } },
    { env: { GRID_EVENTS_RETENTION: ' 90s ' }, key: 'eventsRetention', want: { maxAgeMs: 90_000, maxCount: 1_000_000 } },
    { env: { GRID_EVENTS_RETENTION: '15m' }, key: 'eventsRetention', want: { maxAgeMs: 900_000, maxCount: 1_000_000 } },
    { env: { GRID_EVENTS_RETENTION: '2w' }, key: 'eventsRetention', want: { maxAgeMs: 14 * 86_400_000, maxCount: 1_000_000 } },
    { env: { GRID_EVENTS_RETENTION: '1y' }, key: 'eventsRetention', want: { maxAgeMs: 365 * 86_400_000, maxCount: 1_000_000 } },
    { env: { GRID_EVENTS_RETENTION: '0', GRID_EVENTS_RETENTION_COUNT: '5000' }, key: 'eventsRetention', want: { maxAgeMs: undefined, maxCount: 5000 } },
    { env: { GRID_EVENTS_RETENTION_COUNT: '0' }, key: 'eventsRetention', want: { maxAgeMs: 90 * 86_400_000, maxCount: undefined } },
    { env: {}, key: 'podLogs', want: { maxBytes: 10 * 1024 * 1024, maxFiles: 2 } },
    { env: { GRID_POD_LOG_MAX_BYTES: '1024', GRID_POD_LOG_MAX_FILES: '1' }, key: 'podLogs', want: { maxBytes: 1024, maxFiles: 1 } },
    { env: { GRID_POD_LOG_MAX_BYTES: '104857600', GRID_POD_LOG_MAX_FILES: '5' }, key: 'podLogs', want: { maxBytes: 104_857_600, maxFiles: 5 } },
    { env: { GRID_POD_LOG_MAX_BYTES: '10m' }, key: 'podLogs', want: { maxBytes: 10 * 1024 * 1024, maxFiles: 2 } },
    { env: { GRID_POD_LOG_MAX_BYTES: '512k' }, key: 'podLogs', want: { maxBytes: 512 * 1024, maxFiles: 2 } },
    { env: { GRID_POD_LOG_MAX_BYTES: '1g' }, key: 'podLogs', want: { maxBytes: 1024 * 1024 * 1024, maxFiles: 2 } },
    { env: { GRID_POD_LOG_MAX_BYTES: '20M' }, key: 'podLogs', want: { maxBytes: 20 * 1024 * 1024, maxFiles: 2 } },
    { env: { GRID_POD_LOG_MAX_BYTES: ' 1k ' }, key: 'podLogs', want: { maxBytes: 1024, maxFiles: 2 } },
    {
      env: { PATH: '/usr/bin', HOME: '/home/grid', GRID_API_KEY: 'grid-key-1', X_API_KEY: 'x-key-123', GRID_ADMIN_PASSWORD: 'correct horse battery', SMTP_PASS: 'secret', TICK_MS: '500', XTICK_MS: 'kept' },
      key: 'podEnv',
      want: { PATH: '/usr/bin', HOME: '/home/grid', XTICK_MS: 'kept' },
    },
    {
      env: { PATH: '/usr/bin', SMTP_HOST: 'h', MAIL_USER: 'u', MAIL_PASS: 'p', DSR_SMTP_PASSWORD: 'p', EMAIL_TO: 'a@b.c', ALERT_WEBHOOK_URL: 'http://h/t', ALERT_COOLDOWN_MS: '1', PUBLIC_UI_URL: 'http://ui' },
      key: 'podEnv',
      want: { PATH: '/usr/bin' },
    },
  ])('reads $env into $key', ({ env, key, want }) => {
    expect(sut(env, CWD, MACHINE)[key as keyof ReturnType<typeof loadConfig>]).toEqual(want);
  });

  it.each([
    { env: {}, want: '/var/run/docker.sock' },
    { env: { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, want: '/run/user/1000/docker.sock' },
    { env: { GRID_DOCKER_SOCKET: '/srv/docker.sock', DOCKER_HOST: 'unix:///run/other.sock' }, want: '/srv/docker.sock' },
    { env: { GRID_DOCKER_SOCKET: 'unix:///srv/docker.sock' }, want: '/srv/docker.sock' },
    { env: { GRID_DOCKER_SOCKET: 'run/docker.sock' }, want: path.join(CWD, 'run/docker.sock') },
    { env: { GRID_DOCKER_SOCKET: '/srv/docker.sock', DOCKER_HOST: 'tcp://10.0.0.5:2376' }, want: '/srv/docker.sock' },
  ])('takes the Docker socket from $env', ({ env, want }) => {
    expect(sut(env, CWD, MACHINE).dockerSocket).toBe(want);
  });

  it('resolves GRID_USERS_FILE against the working directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grid-config-'));
    try {
      fs.writeFileSync(path.join(dir, 'users.yaml'), 'users: []\n');

      expect(sut({ GRID_USERS_FILE: 'users.yaml' }, dir, MACHINE).usersFile).toBe(path.join(dir, 'users.yaml'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    { env: { GRID_PORT: 'abc' }, variable: 'GRID_PORT', message: 'GRID_PORT: must be an integer 0..65535 (got "abc")' },
    { env: { GRID_PORT: '70000' }, variable: 'GRID_PORT', message: 'GRID_PORT: must be an integer 0..65535 (got 70000)' },
    { env: { GRID_PORT: '-1' }, variable: 'GRID_PORT', message: 'GRID_PORT: must be an integer 0..65535 (got -1)' },
    { env: { GRID_PORT: '80.5' }, variable: 'GRID_PORT', message: 'GRID_PORT: must be an integer 0..65535 (got "80.5")' },
    { env: { TICK_MS: '0' }, variable: 'TICK_MS', message: 'TICK_MS: must be an integer 10..3600000 (got 0)' },
    { env: { GRID_CLIENT_REQUEST_TIMEOUT_MS: '50' }, variable: 'GRID_CLIENT_REQUEST_TIMEOUT_MS', message: 'GRID_CLIENT_REQUEST_TIMEOUT_MS: must be an integer 100..3600000 (got 50)' },
    { env: { GRID_CLIENT_SEND_TIMEOUT_MS: '1s' }, variable: 'GRID_CLIENT_SEND_TIMEOUT_MS', message: 'GRID_CLIENT_SEND_TIMEOUT_MS: must be an integer 100..3600000 (got "1s")' },
    { env: { GRID_MAX_CONNECTIONS: '0' }, variable: 'GRID_MAX_CONNECTIONS', message: 'GRID_MAX_CONNECTIONS: must be an integer 1..1000000 (got 0)' },
    { env: { GRID_KEEP_PODS_ON_EXIT: 'maybe' }, variable: 'GRID_KEEP_PODS_ON_EXIT', message: 'GRID_KEEP_PODS_ON_EXIT: must be true or false (got "maybe")' },
    { env: { X_API_KEY: 'short' }, variable: 'X_API_KEY', message: 'X_API_KEY: must be at least 8 characters' },
    { env: { GRID_API_KEY: 'short', X_API_KEY: 'long-enough-key' }, variable: 'GRID_API_KEY', message: 'GRID_API_KEY: must be at least 8 characters' },
    { env: { GRID_API_KEYS: 'ci' }, variable: 'GRID_API_KEYS', message: 'GRID_API_KEYS: entry 1 must be name:key' },
    { env: { GRID_API_KEYS: 'ci:short' }, variable: 'GRID_API_KEYS', message: 'GRID_API_KEYS: entry 1 ("ci"): key must be at least 16 characters' },
    { env: { GRID_API_KEYS: 'Bad Name:0123456789abcdef' }, variable: 'GRID_API_KEYS', message: 'GRID_API_KEYS: entry 1: name must match ^[a-z][a-z0-9._-]{0,62}$ (got "Bad Name")' },
    { env: { GRID_API_KEYS: 'ci:0123456789abcdef,ci:fedcba9876543210' }, variable: 'GRID_API_KEYS', message: 'GRID_API_KEYS: entry 2: name "ci" is used twice' },
    { env: { GRID_API_KEYS: 'a:0123456789abcdef,b:0123456789abcdef' }, variable: 'GRID_API_KEYS', message: 'GRID_API_KEYS: entry 2 ("b"): same key as "a"; each key must name one actor' },
    { env: { GRID_API_KEYS: 'default:0123456789abcdef', X_API_KEY: 'x-key-123' }, variable: 'GRID_API_KEYS', message: 'GRID_API_KEYS: the name "default" is taken by X_API_KEY' },
    { env: { GRID_ADMIN_PASSWORD: 'secure123' }, variable: 'GRID_ADMIN_PASSWORD', message: 'GRID_ADMIN_PASSWORD: must be at least 12 characters' },
    { env: { GRID_USERS_FILE: '/nonexistent/users.yaml' }, variable: 'GRID_USERS_FILE', message: `GRID_USERS_FILE: ${path.resolve('/nonexistent/users.yaml')} is not a file` },
    { env: { GRID_ALLOW_INSECURE: 'maybe' }, variable: 'GRID_ALLOW_INSECURE', message: 'GRID_ALLOW_INSECURE: must be true or false (got "maybe")' },
    { env: { GRID_GATEWAY_LB: 'foo' }, variable: 'GRID_GATEWAY_LB', message: 'GRID_GATEWAY_LB: must be one of round-robin, least-request (got "foo")' },
    { env: { GRID_GATEWAY_PORT: 'x' }, variable: 'GRID_GATEWAY_PORT', message: 'GRID_GATEWAY_PORT: must be an integer 0..65535 (got "x")' },
    { env: { GRID_HOST: 'evil host' }, variable: 'GRID_HOST', message: 'GRID_HOST: must be a host name or IP address (got "evil host")' },
    { env: { GRID_LOG_LEVEL: 'verbose' }, variable: 'GRID_LOG_LEVEL', message: 'GRID_LOG_LEVEL: must be one of error, warn, log, debug (got "verbose")' },
    { env: { GRID_LOG_FORMAT: 'pretty' }, variable: 'GRID_LOG_FORMAT', message: 'GRID_LOG_FORMAT: must be one of text, json (got "pretty")' },
    { env: { GRID_MAX_PODS: '0' }, variable: 'GRID_MAX_PODS', message: 'GRID_MAX_PODS: must be an integer 1..1000000 (got 0)' },
    { env: { GRID_MAX_PODS: 'lots' }, variable: 'GRID_MAX_PODS', message: 'GRID_MAX_PODS: must be an integer 1..1000000 (got "lots")' },
    { env: { GRID_MAX_STARTING: '0' }, variable: 'GRID_MAX_STARTING', message: 'GRID_MAX_STARTING: must be an integer 1..10000 (got 0)' },
    { env: { GRID_AUDIT_REFUSALS_PER_MINUTE: '0' }, variable: 'GRID_AUDIT_REFUSALS_PER_MINUTE', message: 'GRID_AUDIT_REFUSALS_PER_MINUTE: must be an integer 1..1000000 (got 0)' },
    { env: { GRID_EVENTS_RETENTION: '30' }, variable: 'GRID_EVENTS_RETENTION', message: 'GRID_EVENTS_RETENTION: must be a duration such as 90d, 720h, 30m or 1y (units s, m, h, d, w, y), or 0 for no age limit (got "30")' },
    { env: { GRID_EVENTS_RETENTION: '30 days' }, variable: 'GRID_EVENTS_RETENTION', message: 'GRID_EVENTS_RETENTION: must be a duration such as 90d, 720h, 30m or 1y (units s, m, h, d, w, y), or 0 for no age limit (got "30 days")' },
    { env: { GRID_EVENTS_RETENTION: '1.5d' }, variable: 'GRID_EVENTS_RETENTION', message: 'GRID_EVENTS_RETENTION: must be a duration such as 90d, 720h, 30m or 1y (units s, m, h, d, w, y), or 0 for no age limit (got "1.5d")' },
    { env: { GRID_EVENTS_RETENTION: '-1d' }, variable: 'GRID_EVENTS_RETENTION', message: 'GRID_EVENTS_RETENTION: must be a duration such as 90d, 720h, 30m or 1y (units s, m, h, d, w, y), or 0 for no age limit (got "-1d")' },
    { env: { GRID_EVENTS_RETENTION: '0d' }, variable: 'GRID_EVENTS_RETENTION', message: 'GRID_EVENTS_RETENTION: must be a duration such as 90d, 720h, 30m or 1y (units s, m, h, d, w, y), or 0 for no age limit (got "0d")' },
    { env: { GRID_EVENTS_RETENTION: '30D' }, variable: 'GRID_EVENTS_RETENTION', message: 'GRID_EVENTS_RETENTION: must be a duration such as 90d, 720h, 30m or 1y (units s, m, h, d, w, y), or 0 for no age limit (got "30D")' },
    { env: { GRID_EVENTS_RETENTION: '1d12h' }, variable: 'GRID_EVENTS_RETENTION', message: 'GRID_EVENTS_RETENTION: must be a duration such as 90d, 720h, 30m or 1y (units s, m, h, d, w, y), or 0 for no age limit (got "1d12h")' },
    { env: { GRID_EVENTS_RETENTION: 'forever' }, variable: 'GRID_EVENTS_RETENTION', message: 'GRID_EVENTS_RETENTION: must be a duration such as 90d, 720h, 30m or 1y (units s, m, h, d, w, y), or 0 for no age limit (got "forever")' },
    { env: { GRID_EVENTS_RETENTION_COUNT: '-1' }, variable: 'GRID_EVENTS_RETENTION_COUNT', message: 'GRID_EVENTS_RETENTION_COUNT: must be an integer 0..1000000000 (got -1)' },
    { env: { GRID_EVENTS_RETENTION_COUNT: '1e6' }, variable: 'GRID_EVENTS_RETENTION_COUNT', message: 'GRID_EVENTS_RETENTION_COUNT: must be an integer 0..1000000000 (got "1e6")' },
    { env: { GRID_POD_LOG_MAX_BYTES: '10 MB' }, variable: 'GRID_POD_LOG_MAX_BYTES', message: 'GRID_POD_LOG_MAX_BYTES: must be a size such as 10m, 512k, 1g or 1048576 (bytes; units k, m, g as Docker\'s max-size), 1024..1099511627776 bytes (got "10 MB")' },
    { env: { GRID_POD_LOG_MAX_BYTES: '1.5m' }, variable: 'GRID_POD_LOG_MAX_BYTES', message: 'GRID_POD_LOG_MAX_BYTES: must be a size such as 10m, 512k, 1g or 1048576 (bytes; units k, m, g as Docker\'s max-size), 1024..1099511627776 bytes (got "1.5m")' },
    { env: { GRID_POD_LOG_MAX_BYTES: '100' }, variable: 'GRID_POD_LOG_MAX_BYTES', message: 'GRID_POD_LOG_MAX_BYTES: must be 1024..1099511627776 bytes (got 100 = 100 bytes)' },
    { env: { GRID_POD_LOG_MAX_BYTES: '2048g' }, variable: 'GRID_POD_LOG_MAX_BYTES', message: 'GRID_POD_LOG_MAX_BYTES: must be 1024..1099511627776 bytes (got 2048g = 2199023255552 bytes)' },
    { env: { GRID_POD_LOG_MAX_FILES: '0' }, variable: 'GRID_POD_LOG_MAX_FILES', message: 'GRID_POD_LOG_MAX_FILES: must be an integer 1..100 (got 0)' },
    { env: { GRID_DOCKER_SOCKET: 'tcp://127.0.0.1:2375' }, variable: 'GRID_DOCKER_SOCKET', message: 'GRID_DOCKER_SOCKET: must be the path of the Docker unix socket, e.g. /var/run/docker.sock or unix:///var/run/docker.sock (got "tcp://127.0.0.1:2375")' },
    { env: { GRID_DOCKER_SOCKET: 'unix://' }, variable: 'GRID_DOCKER_SOCKET', message: 'GRID_DOCKER_SOCKET: must be the path of the Docker unix socket, e.g. /var/run/docker.sock or unix:///var/run/docker.sock (got "unix://")' },
    { env: { DOCKER_HOST: 'tcp://10.0.0.5:2376' }, variable: 'DOCKER_HOST', message: `DOCKER_HOST: Grid reaches Docker through a unix socket only (got "tcp://10.0.0.5:2376"); set GRID_DOCKER_SOCKET to the socket's path` },
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

describe(alertsConfig.name, () => {
  const sut = alertsConfig;
  const smtp = { SMTP_HOST: 'mail.example.com', EMAIL_TO: 'ops@example.com' };

  it.each([
    { env: { ALERT_DOWN_CONFIRM_MS: '30000' }, want: { downConfirmMs: 30000 } },
    { env: { ALERT_UP_CONFIRM_MS: '5000', ALERT_COOLDOWN_MS: '60000', ALERT_STARTUP_GRACE_MS: '0' }, want: { upConfirmMs: 5000, cooldownMs: 60000, startupGraceMs: 0 } },
    { env: { ALERT_SEND_TIMEOUT_MS: '2000', ALERT_SEND_ATTEMPTS: '1' }, want: { sendTimeoutMs: 2000, sendAttempts: 1 } },
    { env: { ALERT_WEBHOOK_URL: 'http://127.0.0.1:9000/hook', PUBLIC_UI_URL: 'https://grid.example.com' }, want: { webhookUrl: 'http://127.0.0.1:9000/hook', publicUiUrl: 'https://grid.example.com/' } },
    {
      env: { ...smtp, EMAIL_TO: 'a@x.org, b@y.org', SMTP_USER: 'u', SMTP_PASS: 'p', EMAIL_FROM: 'grid@x.org', EMAIL_SUBJECT_PREFIX: '[prod] ' },
      want: { email: { host: 'mail.example.com', port: 587, secure: false, user: 'u', pass: 'p', from: 'grid@x.org', to: ['a@x.org', 'b@y.org'], subjectPrefix: '[prod] ' } },
    },
    { env: { ...smtp, SMTP_PORT: '465' }, want: { email: expect.objectContaining({ port: 465, secure: true }) } },
    { env: { ...smtp, SMTP_SECURE: 'true' }, want: { email: expect.objectContaining({ port: 465, secure: true }) } },
    { env: { ...smtp, SMTP_PORT: '2525', SMTP_SECURE: 'false' }, want: { email: expect.objectContaining({ port: 2525, secure: false, from: 'grid@localhost', subjectPrefix: '[Grid] ' }) } },
    {
      env: { SMTP_HOST: 'smtp.gmail.com', MAIL_USER: 'me@gmail.com', MAIL_PASS: 'app-pass', MAIL_RECEIVER: 'you@example.com' },
      want: { email: expect.objectContaining({ host: 'smtp.gmail.com', user: 'me@gmail.com', pass: 'app-pass', to: ['you@example.com'] }) },
    },
    {
      env: { DSR_ENABLE_EMAIL: 'true', DSR_SMTP_HOST: 'smtp.gmail.com', DSR_SMTP_PORT: '587', DSR_SMTP_USER: 'u@gmail.com', DSR_SMTP_PASSWORD: 'pw', DSR_EMAIL_FROM: 'u@gmail.com', DSR_EMAIL_TO: 'r@gmail.com' },
      want: { email: { host: 'smtp.gmail.com', port: 587, secure: false, user: 'u@gmail.com', pass: 'pw', from: 'u@gmail.com', to: ['r@gmail.com'], subjectPrefix: '[Grid] ' } },
    },
    { env: { ...smtp, DSR_ENABLE_EMAIL: 'false' }, want: { email: undefined } },
    { env: { ...smtp, SMTP_PASS: 'same', MAIL_PASS: 'same', SMTP_USER: 'u' }, want: { email: expect.objectContaining({ pass: 'same' }) } },
  ])('reads $env', ({ env, want }) => {
    expect(sut(env)).toMatchObject(want);
  });

  it.each([
    { env: { ALERT_COOLDOWN_MS: '-1' }, variable: 'ALERT_COOLDOWN_MS', message: 'ALERT_COOLDOWN_MS: must be an integer 0..86400000 (got -1)' },
    { env: { ALERT_DOWN_CONFIRM_MS: '5s' }, variable: 'ALERT_DOWN_CONFIRM_MS', message: 'ALERT_DOWN_CONFIRM_MS: must be an integer 0..86400000 (got "5s")' },
    { env: { EMAIL_TO: 'ops@example.com' }, variable: 'SMTP_HOST', message: 'SMTP_HOST: is required to send email (EMAIL_TO is set); for Gmail it is smtp.gmail.com' },
    { env: { MAIL_USER: 'me@gmail.com', MAIL_PASS: 'x' }, variable: 'SMTP_HOST', message: 'SMTP_HOST: is required to send email (MAIL_USER is set); for Gmail it is smtp.gmail.com' },
    { env: { SMTP_HOST: 'mail.example.com' }, variable: 'EMAIL_TO', message: 'EMAIL_TO: is required when SMTP_HOST is set (comma-separated recipients)' },
    { env: { ...smtp, EMAIL_TO: 'ops@example.com, nobody' }, variable: 'EMAIL_TO', message: 'EMAIL_TO: must be comma-separated email addresses (got "nobody")' },
    { env: { ...smtp, SMTP_USER: 'u' }, variable: 'SMTP_PASS', message: 'SMTP_PASS: is required when SMTP_USER is set' },
    { env: { ...smtp, DSR_SMTP_PASSWORD: 'p' }, variable: 'SMTP_USER', message: 'SMTP_USER: is required when DSR_SMTP_PASSWORD is set' },
    { env: { ...smtp, SMTP_PASS: 'a', MAIL_PASS: 'b', SMTP_USER: 'u' }, variable: 'MAIL_PASS', message: 'MAIL_PASS: is set and differs from SMTP_PASS; they mean the same, keep one' },
    { env: { ...smtp, SMTP_PORT: '0' }, variable: 'SMTP_PORT', message: 'SMTP_PORT: must be an integer 1..65535 (got 0)' },
    { env: { ...smtp, SMTP_SECURE: 'sometimes' }, variable: 'SMTP_SECURE', message: 'SMTP_SECURE: must be true or false (got "sometimes")' },
    { env: { ...smtp, EMAIL_SUBJECT_PREFIX: '[x]\r\nBcc: evil@x.org' }, variable: 'EMAIL_SUBJECT_PREFIX', message: 'EMAIL_SUBJECT_PREFIX: must not contain line breaks' },
    { env: { SMTP_HOST: 'mail host', EMAIL_TO: 'a@b.c' }, variable: 'SMTP_HOST', message: 'SMTP_HOST: must be a host name or IP address (got "mail host")' },
    { env: { DSR_ENABLE_EMAIL: 'yes please' }, variable: 'DSR_ENABLE_EMAIL', message: 'DSR_ENABLE_EMAIL: must be true or false (got "yes please")' },
    { env: { ALERT_WEBHOOK_URL: 'ftp://x/y' }, variable: 'ALERT_WEBHOOK_URL', message: 'ALERT_WEBHOOK_URL: must be an http:// or https:// URL (got ftp:)' },
    { env: { PUBLIC_UI_URL: 'grid.example.com' }, variable: 'PUBLIC_UI_URL', message: 'PUBLIC_UI_URL: must be an http:// or https:// URL (got "grid.example.com")' },
  ])('rejects $env with a ConfigError naming $variable', ({ env, variable, message }) => {
    const err = thrown(() => sut(env));

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
