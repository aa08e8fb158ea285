import { Inject, Injectable, Logger } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { ChaosService } from '../chaos/chaos.service.js';
import { Experiments } from '../chaos/experiments.js';
import { EventsService } from '../events/events.service.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import type { ChaosPort } from './rollout.js';

/**
 * The rollout's chaos step carried out through the chaos module: the pure machine decides, this
 * acts on the canary version's pods and registers each experiment with Experiments (the one owner
 * of "what chaos is running"), marked as started by a rollout.
 */
@Injectable()
export class RolloutChaos {
  private readonly logger = new Logger(RolloutChaos.name);

  constructor(
    private readonly runtime: RuntimeService,
    private readonly experiments: Experiments,
    private readonly chaos: ChaosService,
    private readonly events: EventsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  portFor(service: string, step: number): ChaosPort {
    return {
      kill: (version, count) => this.kill(service, version, count, step),
      pause: async (version, count, seconds) => (await this.chaos.pause({ service, version, count, seconds }, 'rollout')).pods ?? [],
      faults: async (version, f, seconds) => {
        this.chaos.startFaults({ service, version, ...f, durationSeconds: seconds }, 'rollout');
      },
    };
  }

  /**
   * Ends at once every experiment the service's rollout started, except those `kept` allows (see rolloutChaosKept).
   * Level-triggered, like the rest of reconcile: an experiment whose answer came after its step was over is caught on the next pass.
   */
  endStarted(service: string, kept: { version?: string; since?: number; why: string }): void {
    for (const e of this.experiments.list({ service })) {
      // A kill is over once done; it stays listed only until its zero-length timer fires.
      if (e.origin !== 'rollout' || e.kind === 'kill' || (kept.version !== undefined && e.version === kept.version && e.startedAt >= (kept.since ?? 0))) continue;
      const left = e.secondsLeft;
      this.experiments
        .stop(e.id)
        .then((stopped) => {
          if (!stopped) return;
          const on = e.pods?.length ? `pod${e.pods.length === 1 ? '' : 's'} ${e.pods.join(', ')}` : `version ${e.version ?? 'all'}`;
          this.events.record({
            type: 'rollout.chaos',
            service,
            reason: 'ChaosEnded',
            message: `ended ${e.kind} experiment ${e.id} on ${on} with ${left} s left: ${kept.why}`,
            explain: `An experiment a rollout's chaos step started lasts only while the rollout is on that step: ${kept.why}, so Grid ended it now${e.kind === 'pause' ? ' (the paused processes still there were resumed)' : ' (the gateway stopped injecting its faults)'}`,
          });
        })
        .catch((err: Error) => this.logger.error(`ending experiment ${e.id} of ${service}: ${err.message}`));
    }
  }

  /** Kills `count` Ready pods of one version, oldest first, the way ChaosService.killPod does (runtime.kill: no drain, no grace). */
  private async kill(service: string, version: string, count: number, step: number): Promise<string[]> {
    const ready = this.runtime
      .list(service)
      .filter((p) => p.version === version && p.ready && p.phase !== 'Terminating')
      .sort((a, b) => a.createdAt - b.createdAt);
    if (ready.length < count) throw GridException.invalid('chaos.kill', `asks for ${count} Ready ${version} pods of ${service}, ${ready.length} are Ready`);
    const ids = ready.slice(0, count).map((p) => p.id);
    await Promise.all(ids.map((id) => this.runtime.kill(id, `Pod ${id} was killed by chaos step ${step + 1} of ${service}'s rollout: the canary must replace it with a Ready pod before it is promoted`)));
    const now = this.clock.now();
    // Every experiment goes through the registry; a kill is over as soon as it is done.
    this.experiments.add({ kind: 'kill', service, version, pods: ids, params: { count }, endsAt: now, origin: 'rollout' }, () => undefined);
    return ids;
  }
}
