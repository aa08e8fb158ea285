// The Dynamic Service Reconciler seed's CLI (`cli.py register` / `cli.py rollout`) translated into
// Grid Service specs. Pure: flags in, a manifest out, so the translation is a table of cases.
import { UsageError } from '../errors.js';

export interface WorkloadFlags {
  service: string;
  version: string;
  /** A command line, split shell-like into argv (the process runtime). */
  command?: string;
  /** A Docker image (the docker runtime). */
  image?: string;
  internalPort?: number;
  replicas: number;
}

export interface RegisterFlags extends WorkloadFlags {
  weight: number;
}

export interface RolloutFlags extends WorkloadFlags {
  canaryWeight: number;
  stepPercent: number;
  stepIntervalS: number;
  auto: boolean;
}

export type CanaryStep = { setWeight: number } | { pause: { duration?: string } };

export interface ServiceManifest {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/**
 * Splits a command line as a POSIX shell would split words, for the subset that has one clear
 * meaning: blanks separate words, '…' is literal, "…" keeps blanks and honours \" \\ \$ \`, a
 * backslash outside quotes escapes the next character. Anything a shell would expand or
 * interpret ($VAR, globs, pipes, redirections, `;`, `&`, backticks, `~`) is refused rather than
 * passed on literally, since Grid spawns without a shell and the result would silently differ.
 * `$(VAR)` is kept: Grid itself expands it from the pod's environment.
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const refuse = (what: string): never => {
    throw new UsageError(`--command: cannot split ${what} at character ${i + 1} of ${JSON.stringify(line)} without a shell; Grid runs the command without one (quote it, or write a spec with command: [...])`);
  };
  const dollar = (): void => {
    const m = /^\$\(([A-Za-z_][A-Za-z0-9_]*)\)/.exec(line.slice(i));
    if (!m) refuse('a $ expansion');
    cur += m![0];
    i += m![0].length;
  };
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) refuse('an unterminated single quote');
      // Quoted, $(VAR) is text: written $$(VAR), which Grid leaves as a literal $(VAR).
      cur += line.slice(i + 1, end).replace(/\$\(/g, '$$$$(');
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= line.length) refuse('an unterminated double quote');
        const d = line[i];
        if (d === '"') break;
        if (d === '\\' && line[i + 1] === '\n') i += 2;
        else if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) {
          cur += line[i + 1] === '$' && line[i + 2] === '(' ? '$$' : line[i + 1];
          i += 2;
        } else if (d === '$') dollar();
        else if (d === '`') refuse('a backtick');
        else {
          cur += d;
          i++;
        }
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) refuse('a trailing backslash');
      // A backslash-newline joins lines, as in a shell; an escaped $ before ( stays literal for Grid too.
      if (line[i + 1] !== '\n') cur += line[i + 1] === '$' && line[i + 2] === '(' ? '$$' : line[i + 1];
      if (line[i + 1] === '\n' && cur === '') inWord = false;
      i += 2;
    } else if (c === '$') dollar();
    else if ('|&;<>()`*?[]{}~#\n\r'.includes(c)) {
      if ((c === '~' || c === '#') && cur.length > 0) {
        cur += c;
        i++;
      } else refuse(`'${c === '\n' ? '\\n' : c === '\r' ? '\\r' : c}'`);
    } else {
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  if (words.length === 0) throw new UsageError('--command: is empty');
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) throw new UsageError(`--command: '${words[0]}' sets a variable, which takes a shell; Grid would run a program named so. Put it in a spec's env instead`);
  return words;
}

function workloadSpec(f: WorkloadFlags): Record<string, unknown> {
  if ((f.command === undefined) === (f.image === undefined)) throw new UsageError('give exactly one of --command or --image');
  const spec: Record<string, unknown> = { replicas: f.replicas };
  if (f.command !== undefined) {
    if (f.internalPort !== undefined) throw new UsageError('--internal-port goes with --image (a --command gets its port as $PORT)');
    spec.command = splitCommand(f.command);
  } else if (f.internalPort !== undefined) {
    // The seed publishes the container's internal port; a Docker bridge with a published port is that.
    spec.image = f.image;
    spec.network = 'bridge';
    spec.port = f.internalPort;
  } else {
    // Without a known port the container must listen on the PORT Grid gives it on the host network.
    spec.image = f.image;
  }
  spec.env = [{ name: 'VERSION', value: f.version }];
  return spec;
}

function manifest(name: string, spec: Record<string, unknown>): ServiceManifest {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec };
}

/**
 * `register`: the service at that version. --weight 100 (the seed's default) replaces what runs
 * with the service's usual Rolling update. Any other weight only makes sense beside a version that
 * already runs: it becomes a Canary held at that weight (a setWeight step, then a pause with no
 * duration) until `gridctl rollout promote` or `abort`. `exists` says whether the service is there.
 */
export function registerSpec(f: RegisterFlags, exists: boolean): ServiceManifest {
  if (!Number.isInteger(f.weight) || f.weight < 0 || f.weight > 100) throw new UsageError(`--weight: must be an integer 0..100 (got ${f.weight})`);
  const spec = workloadSpec(f);
  if (f.weight !== 100) {
    if (!exists) throw new UsageError(`--weight ${f.weight}: service "${f.service}" does not exist yet, so there is no version to share traffic with; register it with --weight 100 first`);
    spec.rollout = { strategy: 'Canary', steps: [{ setWeight: f.weight }, { pause: {} }] };
  }
  return manifest(f.service, spec);
}

/**
 * `rollout --service`: a Canary that starts at --canary-weight and adds --step-percent after
 * each pause until 100. With --auto each pause lasts --step-interval-s; without it each pause
 * waits for `gridctl rollout promote` (a pause with no duration), as the seed's manual mode.
 */
export function rolloutSpec(f: RolloutFlags): ServiceManifest {
  const pct = (flag: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min || v > 100) throw new UsageError(`${flag}: must be an integer ${min}..100 (got ${v})`);
  };
  pct('--canary-weight', f.canaryWeight, 1);
  pct('--step-percent', f.stepPercent, 1);
  if (!Number.isInteger(f.stepIntervalS) || f.stepIntervalS < 1 || f.stepIntervalS > 86400) throw new UsageError(`--step-interval-s: must be an integer 1..86400 (got ${f.stepIntervalS})`);
  const spec = workloadSpec(f);
  const steps: CanaryStep[] = [];
  // The last pause is followed by the full promotion to 100%, which Grid does once all new pods are available.
  for (let w = f.canaryWeight; w < 100; w += f.stepPercent) steps.push({ setWeight: w }, { pause: f.auto ? { duration: `${f.stepIntervalS}s` } : {} });
  spec.rollout = { strategy: 'Canary', steps };
  return manifest(f.service, spec);
}
