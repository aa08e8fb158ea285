import 'reflect-metadata';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from '@nestjs/common';
import { ConfigError, gridUrl, loadConfig, type GridConfig } from './common/config/config.js';
import { AppModule } from './app.module.js';
import { setupSwagger } from './common/swagger.js';
import { GridLogger } from './common/logging/grid-logger.js';
import { SpecsService } from './modules/specs/specs.service.js';
import { GatewayService } from './modules/gateway/gateway.service.js';
import { hardenServer, onClientError, strictServerOptions } from './modules/gateway/node-server.js';
import type { ConnectionCap } from './modules/gateway/connection-cap.js';
import { connectionBudget, openFilesSoftLimit, reservedFds } from './modules/gateway/client-limits.js';
import { MetricsService } from './modules/metrics/metrics.service.js';
import { AuthService, isLoopback } from './modules/auth/auth.service.js';
import { guardRawRoutes } from './modules/auth/raw-routes.js';
import { hashPasswordCommand } from './modules/auth/hash-password.command.js';
import { serveDashboard } from './modules/dashboard/dashboard.static.js';
import fastifyCompress from '@fastify/compress';
import { faultOf } from './modules/storage/storage-state.js';

export const BODY_LIMIT = 1024 * 1024;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function createGrid(config: GridConfig, logger = GridLogger.forProcess(config)): Promise<NestFastifyApplication> {
  // Gateway traffic is taken off the raw server before Fastify routes it: the proxy
  // wants the untouched request stream, and skipping the router saves CPU per request.
  let intercept: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | undefined;
  let server: http.Server | undefined;
  let cap: ConnectionCap | undefined;
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    return503OnClosing: false,
    // One answer per connection: not a second one after the guard's refusal (node-server.ts).
    clientErrorHandler: onClientError,
    // Strict HTTP/1.1 for the API as for the gateway (node-server.ts): a request's head must arrive
    // within GRID_CLIENT_REQUEST_TIMEOUT_MS, its body without a gap over GRID_CLIENT_BODY_TIMEOUT_MS
    // (30 s each, then 408); responses such as SSE streams are not bounded.
    // At most GRID_MAX_CONNECTIONS connections, for the API and the gateway together; at the cap the cheapest to lose is closed for a newcomer (connection-cap.ts).
    serverFactory: (handler: http.RequestListener) => {
      server = http.createServer(strictServerOptions({ headTimeoutMs: config.clientHeadTimeoutMs, idleTimeoutMs: config.clientIdleTimeoutMs }), (req, res) => {
        if (intercept?.(req, res)) return;
        handler(req, res);
      });
      cap = hardenServer(server, config.maxConnections, { listener: 'main port', bodyTimeoutMs: config.clientBodyTimeoutMs });
      return server;
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bodyParser: false,
    logger,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // JSON reaches /apply as text too: JSON.parse silently keeps the last of two equal keys, so the validator must see the raw body to refuse them.
  fastify.removeContentTypeParser('application/json');
  // YAML, and anything else a plain `curl --data-binary @file` sends, reaches /apply as text.
  fastify.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'], { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
  fastify.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
  if (cap) app.get(MetricsService).watchConnections('main', cap);
  const gateway = app.get(GatewayService);
  intercept = gateway.interceptor();
  // Plain gateway requests do not even reach node:http: the raw-socket fast path takes them first.
  if (server && config.gatewayFastPath && !gateway.attachMainServer(server)) new Logger('Grid').warn('gateway fast path not attached to the main port: the server was not made with hardenServer');
  guardRawRoutes(fastify, app.get(AuthService), '/docs');
  // JSON answers over 1 KiB go out compressed when the client asks (/state with 1,000 pods is ~140 KiB raw, which the dashboard
  // reads every 5 s). Request bodies are never inflated: a small gzip bomb must not reach the 1 MiB body limit's far side.
  // Streams (SSE, hijacked) and the gateway (taken before Fastify) are not touched.
  await fastify.register(fastifyCompress, { global: true, threshold: 1024, encodings: ['br', 'gzip'], globalDecompression: false });
  await serveDashboard(fastify, path.join(ROOT, 'dist', 'dashboard'));
  setupSwagger(app);
  return app;
}

/**
 * The data dir must be usable and ours alone: two Grids on one database would adopt each other's pods.
 * It holds env values, password hashes, the audit log and pods' output, so Grid makes it 0700 and its
 * logs dir 0700 even under umask 022. A data dir the user made is not chmodded (it may be shared on
 * purpose, as a mount point): returns a warning when group or others may enter it, as PostgreSQL refuses one.
 */
function claimDataDir(config: GridConfig): string | undefined {
  const lock = path.join(config.dataDir, 'grid.lock');
  const notWritable = (e: unknown) => new ConfigError('GRID_DATA_DIR', `${config.dataDir} is not a writable directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  let warning: string | undefined;
  try {
    const existed = fs.statSync(config.dataDir, { throwIfNoEntry: false });
    mkdirp(config.dataDir, 0o700);
    const logs = path.join(config.dataDir, 'logs');
    mkdirp(logs, 0o700);
    // A logs dir from before Grid made it 0700: its files (0644 then) are shut away with it.
    if ((fs.statSync(logs).mode & 0o077) !== 0) fs.chmodSync(logs, 0o700);
    fs.accessSync(config.dataDir, fs.constants.W_OK);
    const mode = existed ? existed.mode & 0o777 : 0o700;
    if ((mode & 0o077) !== 0) warning = `data dir ${config.dataDir} is mode ${mode.toString(8).padStart(4, '0')}: other users may read what is in it (pod logs, pod data); chmod 700 it`;
  } catch (e) {
    throw notWritable(e);
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      process.on('exit', () => releaseDataDir(lock));
      return warning;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw faultOf(e) ? notWritable(e) : new ConfigError('GRID_DATA_DIR', `cannot create ${lock}: ${(e as Error).message}`);
      const pid = Number(fs.readFileSync(lock, 'utf8'));
      if (pid > 0 && pid !== process.pid && isGrid(pid)) throw new ConfigError('GRID_DATA_DIR', `${config.dataDir} is in use by another Grid (pid ${pid}); stop it or choose another GRID_DATA_DIR`);
      // A stale lock on a filesystem that went read-only after the last Grid claimed it (access() can still say writable).
      try {
        fs.rmSync(lock, { force: true });
      } catch (e2) {
        throw faultOf(e2) ? notWritable(e2) : e2;
      }
    }
  }
  return warning;
}

/**
 * Runs on exit. A data dir that went read-only or full keeps its lock: the stop still counts as clean
 * (the next Grid finds the pid no longer a Grid and takes the lock over), so a warning, not a crash.
 */
function releaseDataDir(lock: string): void {
  try {
    fs.rmSync(lock, { force: true });
  } catch (e) {
    const fault = faultOf(e);
    if (!fault) throw e;
    new Logger('Grid').warn(`could not remove ${lock} (${fault.code}): the data dir is ${fault.state === 'Full' ? 'full' : 'read-only'}; the next Grid on it takes the stale lock over`);
  }
}

/** mkdir -p one level at a time: Node's recursive mkdir never returns for a path under /proc. The last level gets `mode` if made here. */
function mkdirp(dir: string, mode: number): void {
  let cur = path.parse(dir).root;
  for (const part of path.relative(cur, dir).split(path.sep)) {
    cur = path.join(cur, part);
    const st = fs.statSync(cur, { throwIfNoEntry: false });
    if (!st) fs.mkdirSync(cur, cur === dir ? { mode } : undefined);
    else if (!st.isDirectory()) throw Object.assign(new Error(`${cur} is not a directory`), { code: 'ENOTDIR' });
  }
}

/** This process's open-files soft limit (ulimit -n); undefined where /proc is not Linux's. */
function openFilesLimit(): number | undefined {
  try {
    return openFilesSoftLimit(fs.readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

function isGrid(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('main.js');
  } catch {
    return false;
  }
}

/**
 * Fails fast, before any pod starts, if the port is taken. Returns the port it could bind:
 * for 0 a free one, so Grid's URL is known before the first pod is given GRID_URL.
 */
async function portFree(host: string, port: number, variable: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) =>
      reject(new ConfigError(variable, e.code === 'EADDRINUSE' ? `${host}:${port} is already in use` : `cannot listen on ${host}:${port} (${e.code ?? e.message})`)),
    );
    srv.listen(port, host, () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}

const USAGE = `usage: grid [serve] [--demo]   run Grid (npm start = serve --demo)
       grid hash-password       read a password on stdin, print its scrypt hash (for GRID_USERS_FILE)
`;

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const [command] = argv;
  if (command === 'hash-password') {
    process.exitCode = await hashPasswordCommand();
    return;
  }
  if (command === 'help' || command === '--help') {
    process.stdout.write(USAGE);
    return;
  }
  if (command !== undefined && command !== 'serve' && !command.startsWith('-')) {
    process.stderr.write(`grid: unknown command "${command}"\n${USAGE}`);
    process.exit(2);
  }
  let config: GridConfig;
  let dataDirWarning: string | undefined;
  try {
    config = loadConfig();
    if (config.gatewayPort !== undefined && config.gatewayPort !== 0 && config.gatewayPort === config.port) {
      throw new ConfigError('GRID_GATEWAY_PORT', `must differ from GRID_PORT (both ${config.port})`);
    }
    dataDirWarning = claimDataDir(config);
    const port = await portFree(config.host, config.port, 'GRID_PORT');
    config = { ...config, port, url: gridUrl(config.host, port) };
    if (config.gatewayPort !== undefined && config.gatewayPort !== 0) await portFree(config.host, config.gatewayPort, 'GRID_GATEWAY_PORT');
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`grid: invalid configuration: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  // Before anything logs, so even the warning below is in the configured format.
  const logger = GridLogger.forProcess(config);
  Logger.overrideLogger(logger);
  const log = new Logger('Grid');
  if (dataDirWarning) log.warn(dataDirWarning);
  const budget = connectionBudget(config.maxConnections, config.maxConnectionsSet, config.gatewayPort === undefined ? 1 : 2, reservedFds(config.maxPods), openFilesLimit());
  if (budget.warn) log.warn(budget.message);
  else if (budget.message) log.log(budget.message);
  config = { ...config, maxConnections: budget.maxConnections };
  const app = await createGrid(config, logger);
  try {
    // Init runs here, before the port is bound: a bad GRID_USERS_FILE or an open Grid on a public address stops the boot (AuthService.bootCheck).
    await app.listen({ port: config.port, host: config.host });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`grid: invalid configuration: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const gw = await app.get(GatewayService).listenDedicated();
  // Our own handlers rather than enableShutdownHooks(): Nest re-raises the signal after closing, and a clean stop should exit 0.
  let closing = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (closing) return;
      closing = true;
      log.log(`${sig}: stopping${config.keepPodsOnExit ? ' (pods keep running: GRID_KEEP_PODS_ON_EXIT=true)' : ' pods and shutting down'}`);
      app.close().then(
        () => process.exit(0),
        (e: unknown) => {
          log.error(`shutdown failed: ${String(e)}`);
          process.exit(1);
        },
      );
    });
  }
  // Tests and scripts wait for this exact line, and may signal Grid as soon as they see it: so the handlers above come first.
  process.stdout.write(`Grid listening on ${config.url}${gw ? ` (gateway on ${gw})` : ''}\n`);
  log.log(`dashboard: ${config.url}/ (API docs: ${config.url}/docs)`);
  log.log(`node capacity: ${config.maxPods} pods (${config.maxPodsSource}), ${config.maxStarting} starting at once`);
  if (app.get(AuthService).open) {
    if (isLoopback(config.host)) log.log('no users or API keys: Grid is open and serves only on loopback; set GRID_ADMIN_PASSWORD, GRID_API_KEYS or GRID_USERS_FILE to add credentials (README: Access control)');
    else log.warn(`no users or API keys on ${config.host} (GRID_ALLOW_INSECURE=true): anyone who can reach it can change your services`);
  }
  const demo = argv.includes('--demo');
  if (demo) await applyDemo(app, log);
}

async function applyDemo(app: NestFastifyApplication, log: Logger): Promise<void> {
  const specs = app.get(SpecsService);
  if (specs.list().length > 0) {
    log.log('demo: services already exist in the data dir; not re-applying the demo');
    return;
  }
  const files = ['examples/demo.yaml', 'examples/shop.yaml'].map((f) => path.join(ROOT, f)).filter((f) => fs.existsSync(f));
  for (const f of files) {
    const r = await specs.applyBody(fs.readFileSync(f, 'utf8'), 'application/yaml', `demo ${path.basename(f)}`);
    log.log(`demo: applied ${path.basename(f)}: ${r.map((x) => `${x.service} ${x.result}`).join(', ')}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main().catch((e: unknown) => {
    process.stderr.write(`grid: failed to start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
