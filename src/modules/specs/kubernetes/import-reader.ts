// What the Kubernetes and Compose importers share: reading an object while noting what of it
// Grid did not use, and paths written as the validator writes them.
import { join } from '../field-path.js';
import type { FieldError } from '../spec.types.js';

export { join };

export interface ImportNote {
  /** The object as kubectl names it by kind: `Deployment/api`, `HorizontalPodAutoscaler/api`, `Compose/web`. */
  object: string;
  /** The Grid object it became or fed: `service/api`; absent when it was ignored as a whole. */
  became?: string;
  /** Field paths of the object Grid did not use, or 'the whole object'. */
  ignored: string[];
  /** The command it runs as a process on this host (a grid.dev/command annotation or label), said plainly. */
  runsOnHost?: string[];
  /** What a StatefulSet's claim template or a Compose volume became (spec.storage), or why its data will not survive; said plainly. */
  storage?: string;
  /** Its position among the request's documents (what `[i]` in an error path counts). */
  index: number;
}

export const WHOLE_OBJECT = 'the whole object';

export type Obj = Record<string, unknown>;

export function isMapping(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects what Grid used of an object; the rest of each visited mapping is reported as ignored. */
export class Reader {
  readonly ignored: string[] = [];
  readonly errors: FieldError[] = [];
  constructor(readonly index: number) {}

  /** Reports the keys of `m` (at `path`) that are not in `known`. */
  rest(m: Obj, path: string, known: readonly string[]): void {
    for (const k of Object.keys(m)) if (!known.includes(k)) this.ignored.push(join(path, k));
  }

  fail(path: string, message: string): void {
    this.errors.push({ path: `[${this.index}]${path ? `.${path}` : ''}`, message });
  }
}


/**
 * A value of the object as an error quotes it: JSON, cut short (a 200 KB value must not come back
 * whole) and never a throw (JSON.stringify throws on a cycle, which YAML aliases can make).
 */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'nothing';
  } catch {
    text = Array.isArray(value) ? 'an array' : typeof value;
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** A scalar as text, as Compose and Kubernetes read `value: 8080`; undefined for a mapping or list (String() of one is "[object Object]", or a throw when it has its own toString key). */
export function scalarText(v: unknown): string | undefined {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

export function map(v: unknown): Obj {
  return isMapping(v) ? v : {};
}

