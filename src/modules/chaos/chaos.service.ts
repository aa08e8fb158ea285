import { Injectable } from '@nestjs/common';
import { GridException } from '../../common/errors/grid.exception.js';
import { EventsService } from '../events/events.service.js';
import { RuntimeService } from '../runtime/runtime.service.js';
import { SpecsService } from '../specs/specs.service.js';

@Injectable()
export class ChaosService {
  constructor(
    private readonly specs: SpecsService,
    private readonly runtime: RuntimeService,
    private readonly events: EventsService,
  ) {}

  async kill(service: string, count: number) {
    this.specs.require(service);
    // Ready pods first: killing what serves traffic is the interesting failure.
    const pods = this.runtime
      .list(service)
      .filter((p) => p.phase !== 'Terminating')
      .sort((a, b) => Number(b.ready) - Number(a.ready) || a.createdAt - b.createdAt)
      .slice(0, count);
    const ids = pods.map((p) => p.id);
    await Promise.all(ids.map((id) => this.runtime.kill(id, `Pod ${id} was killed on purpose (POST /chaos/kill); the reconciler will notice the missing replica and start a replacement`)));
    return { service, killed: ids, requested: count };
  }

  load(service: string, cpu: number) {
    const s = this.specs.require(service);
    if (s.manifest.spec.runtime !== 'sim') {
      throw GridException.invalid('service', `'${service}' runs on the ${s.manifest.spec.runtime} runtime; /load simulates CPU for simulated pods only (for process pods burn real CPU, e.g. POST /chaos/cpu on the demo service)`);
    }
    const demand = this.runtime.setSimulatedLoad(service, cpu);
    this.events.record({
      type: 'load.set',
      service,
      reason: 'SimulatedLoad',
      message: `simulated CPU of ${service} set to ${cpu}% per ready pod (total demand ${demand}% of a core)`,
      explain: `Each ready pod of ${service} now reports ${cpu}% CPU; the demand stays at ${demand}% in total, so adding pods lowers each pod's share`,
    });
    return { service, cpu, totalDemand: demand };
  }
}
