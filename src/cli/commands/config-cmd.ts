// gridctl config: the contexts of ~/.config/grid/config.yaml (or $GRID_CONFIG, or
// $XDG_CONFIG_HOME/grid/config.yaml), as kubectl config edits a kubeconfig. Reading and
// writing the file is src/cli/config.ts's; this file decides what a command changes and prints.
import { configPath, normalizeUrl, readConfig, writeConfig, type ConfigFile, type Context } from '../config.js';
import { CliError, EXIT_OK, UsageError } from '../errors.js';
import { parseOutput, printData, table } from '../output.js';

export const REDACTED = 'REDACTED';

/** The file's document as it is written (kubeconfig-like keys), secrets REDACTED unless raw. */
export function configView(cfg: ConfigFile, raw: boolean): Record<string, unknown> {
  const secret = (v: string) => (raw ? v : REDACTED);
  return {
    ...(cfg.currentContext ? { 'current-context': cfg.currentContext } : {}),
    contexts: cfg.contexts.map((c) => ({
      name: c.name,
      server: c.server,
      ...(c.apiKey !== undefined ? { 'api-key': secret(c.apiKey) } : {}),
      ...(c.user !== undefined ? { user: c.user } : {}),
      ...(c.password !== undefined ? { password: secret(c.password) } : {}),
    })),
  };
}

/** How a context authenticates, for get-contexts: api-key, user <name> or none. */
export function authOf(c: Context): string {
  if (c.apiKey) return 'api-key';
  if (c.user) return `user ${c.user}`;
  return 'none';
}

export function contextRows(cfg: ConfigFile): string[][] {
  // A blank, not table()'s <none>: kubectl leaves CURRENT empty on the other rows.
  return cfg.contexts.map((c) => [c.name === cfg.currentContext ? '*' : ' ', c.name, c.server, authOf(c)]);
}

export interface ContextChange {
  server?: string;
  apiKey?: string;
  user?: string;
  password?: string;
  current?: boolean;
}

/**
 * set-context: creates the context or updates the fields given. Credentials are one set, as
 * the connection uses them: a new API key drops the user and password, a new user the API key.
 */
export function setContext(cfg: ConfigFile, name: string, change: ContextChange): { cfg: ConfigFile; created: boolean } {
  if (!/^\S{1,100}$/.test(name)) throw new UsageError(`set-context: a context name is 1..100 characters without spaces (got '${name}')`);
  const server = change.server === undefined ? undefined : normalizeUrl(change.server, '--server');
  if (change.password !== undefined && change.user === undefined && !cfg.contexts.find((c) => c.name === name)?.user) throw new UsageError('--password: needs --user (or a context that has a user)');
  const prev = cfg.contexts.find((c) => c.name === name);
  if (!prev && server === undefined) throw new UsageError(`set-context ${name}: a new context needs --server`);
  const next: Context = { ...(prev ?? { name, server: server! }) };
  if (server !== undefined) next.server = server;
  if (change.apiKey !== undefined) {
    next.apiKey = change.apiKey;
    delete next.user;
    delete next.password;
  }
  if (change.user !== undefined) {
    next.user = change.user;
    delete next.apiKey;
    if (change.password === undefined) delete next.password;
  }
  if (change.password !== undefined) next.password = change.password;
  const contexts = prev ? cfg.contexts.map((c) => (c.name === name ? next : c)) : [...cfg.contexts, next];
  return { cfg: { currentContext: change.current ? name : cfg.currentContext, contexts }, created: !prev };
}

function mustHave(cfg: ConfigFile, name: string, file: string): void {
  if (!cfg.contexts.some((c) => c.name === name)) throw new CliError(`context "${name}" is not in ${file} (gridctl config get-contexts lists them)`);
}

type Out = NodeJS.WritableStream;

export async function viewCommand(opts: Record<string, unknown>, out: Out = process.stdout): Promise<number> {
  const format = parseOutput(opts.output as string | undefined, ['json', 'yaml']);
  const cfg = await readConfig();
  await printData(configView(cfg, opts.raw === true), format === 'json' ? 'json' : 'yaml', out);
  return EXIT_OK;
}

export async function getContextsCommand(opts: Record<string, unknown>, out: Out = process.stdout): Promise<number> {
  const format = parseOutput(opts.output as string | undefined, ['name']);
  const cfg = await readConfig();
  if (format === 'name') out.write(cfg.contexts.map((c) => `${c.name}\n`).join(''));
  else out.write(`${table(['CURRENT', 'NAME', 'SERVER', 'AUTH'], contextRows(cfg))}\n`);
  return EXIT_OK;
}

export async function currentContextCommand(out: Out = process.stdout): Promise<number> {
  const file = configPath();
  const cfg = await readConfig(file);
  if (!cfg.currentContext) throw new CliError(`current-context is not set in ${file} (gridctl config use-context NAME)`);
  out.write(`${cfg.currentContext}\n`);
  return EXIT_OK;
}

export async function useContextCommand(name: string, out: Out = process.stdout): Promise<number> {
  const file = configPath();
  const cfg = await readConfig(file);
  mustHave(cfg, name, file);
  await writeConfig({ ...cfg, currentContext: name }, file);
  out.write(`Switched to context "${name}".\n`);
  return EXIT_OK;
}

export async function setContextCommand(name: string, change: ContextChange, out: Out = process.stdout): Promise<number> {
  const file = configPath();
  const { cfg, created } = setContext(await readConfig(file), name, change);
  await writeConfig(cfg, file);
  out.write(`Context "${name}" ${created ? 'created' : 'modified'}${change.current ? ' and made current' : ''} in ${file}.\n`);
  return EXIT_OK;
}

export async function deleteContextCommand(name: string, out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const file = configPath();
  const cfg = await readConfig(file);
  mustHave(cfg, name, file);
  const wasCurrent = cfg.currentContext === name;
  await writeConfig({ currentContext: wasCurrent ? undefined : cfg.currentContext, contexts: cfg.contexts.filter((c) => c.name !== name) }, file);
  if (wasCurrent) err.write(`warning: "${name}" was the current context; gridctl config use-context picks another\n`);
  out.write(`deleted context ${name} from ${file}\n`);
  return EXIT_OK;
}
