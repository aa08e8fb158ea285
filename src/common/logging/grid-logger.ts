import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import type { GridConfig } from '../config/config.js';

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug'];

/** Nest's boot chatter (one line per module and per route, ~50 in all) that would bury `Grid listening on …`. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

export interface GridLoggerOptions {
  format: GridConfig['logFormat'];
  level: GridConfig['logLevel'];
  /** Colour only for a human at a terminal: files and pipes get plain text (Nest itself drops colour when NO_COLOR is set). */
  tty: boolean;
}

/**
 * Nest's ConsoleLogger with Grid's choices: boot chatter at debug, colour only on a TTY, and
 * `json` as one `{time, level, context, message}` object per line for log shippers.
 */
export class GridLogger extends ConsoleLogger {
  constructor(opts: GridLoggerOptions) {
    const json = opts.format === 'json';
    super({ logLevels: LEVELS.slice(0, LEVELS.indexOf(opts.level) + 1), json, colors: !json && opts.tty });
  }

  static forProcess(config: Pick<GridConfig, 'logFormat' | 'logLevel'>): GridLogger {
    return new GridLogger({ format: config.logFormat, level: config.logLevel, tty: Boolean(process.stdout.isTTY && process.stderr.isTTY) });
  }

  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams.at(-1) ?? this.context;
    if (typeof context === 'string' && BOOT_CONTEXTS.has(context)) super.debug(message, ...optionalParams);
    else super.log(message, ...optionalParams);
  }

  protected override printAsJson(message: unknown, options: { context: string; logLevel: LogLevel; writeStreamType?: 'stdout' | 'stderr'; errorStack?: unknown; params?: Record<string, unknown>; error?: Error }): void {
    const { timestamp, level, context, message: text, pid: _pid, ...rest } = this.getJsonLogObject(message, options);
    const line = this.stringifyJsonLogObject({ time: new Date(timestamp).toISOString(), level, context: context ?? '', message: text, ...rest });
    process[options.writeStreamType ?? 'stdout'].write(`${line}\n`);
  }
}
