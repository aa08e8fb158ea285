// How gridctl prints: kubectl-style tables (upper-case headers, columns three spaces apart),
// ages as kubectl writes them, -o json|yaml|name, and colour only on a terminal without NO_COLOR.
import { UsageError } from './errors.js';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';

export function parseOutput(raw: string | undefined, allowed: OutputFormat[] = ['wide', 'json', 'yaml', 'name']): OutputFormat {
  if (raw === undefined) return 'table';
  if (!allowed.includes(raw as OutputFormat)) throw new UsageError(`-o: one of ${allowed.join('|')} (got '${raw}')`);
  return raw as OutputFormat;
}

/** Colour on a TTY only, never with NO_COLOR (any value, https://no-color.org) or TERM=dumb. */
export function useColor(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const CODES = { red: [31, 39], green: [32, 39], yellow: [33, 39], bold: [1, 22], dim: [2, 22] } as const;
export type Colour = keyof typeof CODES;

export function paint(text: string, colour: Colour, on = useColor()): string {
  if (!on) return text;
  const [a, b] = CODES[colour];
  return `\u001b[${a}m${text}\u001b[${b}m`;
}

/**
 * Aligns rows under upper-case headers, three spaces apart, as kubectl does. Cells are
 * measured before colour is added so escape codes never shift a column.
 */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>, colour?: (row: number, col: number, text: string) => string): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '<none>' : sanitize(String(c)))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[], ri: number) =>
    r
      .map((c, i) => {
        const padded = i === r.length - 1 ? c : c.padEnd(widths[i]);
        return colour && ri >= 0 ? padded.replace(c, colour(ri, i, c)) : padded;
      })
      .join('   ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase()), -1), ...cells.map((r, i) => line(r, i))].join('\n');
}

/** Control characters from the server (a pod name cannot hold them, a message might) never reach the terminal raw. */
export function sanitize(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, escapeChar);
}

function escapeChar(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * What a terminal may receive: text, newlines, tabs, and the colour codes `paint` writes. Every
 * other control character (C0, DEL, C1 — ESC, CSI, OSC that set titles, clear screens or write
 * links) is shown escaped, so nothing a server sends can drive the user's terminal.
 */
export function terminalSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[(?:1|2|22|31|32|33|39)m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (m) => (m.length > 1 ? m : escapeChar(m)));
}

/**
 * The stream gridctl writes to: on a terminal, every write passes through terminalSafe (tables,
 * messages, -o yaml, diffs alike); into a pipe or file, bytes go as they are, as kubectl's do.
 */
export function guardTerminal(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  if (!stream.isTTY) return stream;
  const write = (chunk: unknown, ...rest: unknown[]) =>
    (stream.write as (c: unknown, ...r: unknown[]) => boolean)(typeof chunk === 'string' ? terminalSafe(chunk) : Buffer.isBuffer(chunk) ? terminalSafe(chunk.toString('utf8')) : chunk, ...rest);
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === 'write') return write;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** kubectl's HumanDuration: 45s, 3m20s, 25m, 2h10m, 30h, 3d4h, 120d, 2y10d. */
export function age(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '<unknown>';
  const s = Math.floor(seconds);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (y < 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

/** Age from an ISO time or epoch ms, against `now`. */
export function ageSince(time: string | number | null | undefined, now = Date.now()): string {
  if (time === null || time === undefined) return '<unknown>';
  const t = typeof time === 'number' ? time : Date.parse(time);
  return Number.isFinite(t) ? age((now - t) / 1000) : '<unknown>';
}

export async function toYaml(value: unknown): Promise<string> {
  const { stringify } = await import('./yaml.js');
  return stringify(value, { lineWidth: 0 });
}

/** Prints an object as -o json or -o yaml. */
export async function printData(value: unknown, format: 'json' | 'yaml', out: NodeJS.WritableStream = process.stdout): Promise<void> {
  out.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : await toYaml(value));
}
