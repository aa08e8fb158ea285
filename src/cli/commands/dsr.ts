// The Dynamic Service Reconciler seed's CLI (`cli.py register` / `cli.py rollout`) translated into
// Grid Service specs. Pure: flags in, a manifest out, so the translation is a table of cases.
import { UsageError } from '../errors.js';
import { ShellWordsError, splitCommand } from '../../common/shell-words.js';

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

/** --command split into argv; what cannot be split without a shell is a usage error naming the flag. */
function commandWords(line: string): string[] {
  try {
    return splitCommand(line);
  } catch (e) {
    if (!(e instanceof ShellWordsError)) throw e;
    const hint = e.message.startsWith('cannot split') ? ' (quote it, or write a spec with command: [...])' : '';
    throw new UsageError(`--command: ${e.message}${hint}`);
  }
}

function workloadSpec(f: WorkloadFlags): Record<string, unknown> {
  if ((f.command === undefined) === (f.image === undefined)) throw new UsageError('give exactly one of --command or --image');
  const spec: Record<string, unknown> = { replicas: f.replicas };
  if (f.command !== undefined) {
    if (f.internalPort !== undefined) throw new UsageError('--internal-port goes with --image (a --command gets its port as $PORT)');
    spec.command = commandWords(f.command);
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
