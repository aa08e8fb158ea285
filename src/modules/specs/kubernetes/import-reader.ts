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
  /** A StatefulSet's claim template that became spec.storage.persistent, and what its program must read, said plainly. */
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


export function map(v: unknown): Obj {
  return isMapping(v) ? v : {};
}

