import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { CLOCK, type Clock, type ClockTimer } from '../../common/clock/clock.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';

/** What a chaos experiment does: gateway faults, paused pod processes, or killed pods. */
export type ExperimentKind = 'faults' | 'pause' | 'kill';

/**
 * One running (or just ended) chaos experiment. Every experiment ends on its own at `endsAt`
 * (a kill is over when it has been done), so a forgotten one never stays on.
 */
export interface Experiment {
  id: string;
  kind: ExperimentKind;
  service: string;
  /** Only this version's pods or requests (a canary's), when given. */
  version?: string;
  /** The pods it acts on (pause, kill). */
  pods?: string[];
  /** The experiment's own settings as given (abortPercent, delayMs, seconds, count, …). */
  params: Record<string, number | string>;
  startedAt: number;
  endsAt: number;
  /** Who started it: the API (an operator) or a rollout's chaos step. */
  origin: 'api' | 'rollout';
}

/** At most this many experiments run at once on one service, and in all: each holds a timer and a gateway rule, and lists of them are read on every GET. */
export const MAX_EXPERIMENTS_PER_SERVICE = 100;
export const MAX_EXPERIMENTS = 1000;

export interface ExperimentView extends Experiment {
  secondsLeft: number;
}

/**
 * The registry of running chaos experiments, the one owner of that state: the faults API, pause
 * and a rollout's chaos step add to it; `GET /chaos/experiments` and the dashboard read it. Each
 * entry carries its own undo (lift the faults, resume the processes), run once when the experiment
 * ends: at `endsAt`, when stopped, or when Grid shuts down.
 */
@Injectable()
export class Experiments {
  private readonly running = new Map<string, { e: Experiment; undo: () => void | Promise<void>; timer: ClockTimer }>();

  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  /**
   * Throws 429 naming the limit when one more experiment on `service` would pass it. Callers whose
   * experiment takes effect before `add` (a pause freezes first) ask this before they act.
   */
  admit(service: string): void {
    if (this.running.size >= MAX_EXPERIMENTS) {
      throw new GridException(GridErrorCode.TooManyRequests, `${this.running.size} chaos experiments are running, the most Grid allows at once (${MAX_EXPERIMENTS}): stop some (DELETE /chaos/experiments/:id) or wait for them to end`);
    }
    let onService = 0;
    for (const r of this.running.values()) if (r.e.service === service) onService++;
    if (onService >= MAX_EXPERIMENTS_PER_SERVICE) {
      throw new GridException(GridErrorCode.TooManyRequests, `${onService} chaos experiments are running on service '${service}', the most Grid allows on one service (${MAX_EXPERIMENTS_PER_SERVICE}): stop some (DELETE /chaos/experiments/:id) or wait for them to end`);
    }
  }

  /**
   * Registers an experiment that takes effect now; `undo` ends it. Past the limits (see `admit`)
   * it throws and registers nothing; one that is already over (a kill) is only recorded, never refused.
   */
  add(e: Omit<Experiment, 'id' | 'startedAt'>, undo: () => void | Promise<void>): Experiment {
    if (e.endsAt > this.clock.now()) this.admit(e.service);
    const id = `${e.kind}-${randomBytes(4).toString('hex')}`;
    const full: Experiment = { ...e, id, startedAt: this.clock.now() };
    const timer = this.clock.setTimeout(() => void this.stop(id), Math.max(0, e.endsAt - full.startedAt));
    this.running.set(id, { e: full, undo, timer });
    return full;
  }

  /** Ends one experiment now (its undo runs once); undefined when no such experiment runs. */
  async stop(id: string): Promise<Experiment | undefined> {
    const r = this.running.get(id);
    if (!r) return undefined;
    this.running.delete(id);
    this.clock.clearTimeout(r.timer);
    await r.undo();
    return r.e;
  }

  list(filter: { service?: string; kind?: ExperimentKind } = {}): ExperimentView[] {
    const now = this.clock.now();
    return [...this.running.values()]
      .map((r) => r.e)
      .filter((e) => (filter.service === undefined || e.service === filter.service) && (filter.kind === undefined || e.kind === filter.kind))
      .map((e) => ({ ...e, secondsLeft: Math.max(0, Math.ceil((e.endsAt - now) / 1000)) }));
  }

  get(id: string): ExperimentView | undefined {
    return this.list().find((e) => e.id === id);
  }

  /** Grid stopping: every experiment is undone, so no pod stays paused and no fault outlives it. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }
}
