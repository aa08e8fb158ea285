import { Controller, Get, Header, Inject, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { intParam } from '../../common/validation/query.js';
import { RuntimeService } from './runtime.service.js';
import { ProcessDriver, readTail } from './drivers/process.driver.js';
import { podView } from './pod-view.js';

@ApiTags('pods')
@Controller('pods')
export class PodsController {
  constructor(
    private readonly runtime: RuntimeService,
    private readonly processes: ProcessDriver,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get(':id')
  @ApiOperation({ summary: 'One pod: phase, readiness, restarts, last exit, CPU and the latency of its recent probes' })
  @ApiOkResponse({ description: '{ id, service, revision, version, state, ready, restarts, cpu, pid, port, labels, lastExit, probes: { readiness, liveness, startup } }' })
  @ApiNotFoundResponse({ description: 'no such pod' })
  get(@Param('id') id: string) {
    const pod = this.runtime.get(id);
    if (!pod) throw GridException.notFound('pod', id);
    return { ...podView(pod, this.clock.now(), this.runtime.cpuOf(pod)), labels: pod.labels, lastExit: pod.lastExit ?? null, probes: pod.probes };
  }

  @Get(':id/logs')
  @Header('content-type', 'text/plain; charset=utf-8')
  @ApiOperation({ summary: "A pod's stdout and stderr (process runtime)", description: 'The last `tail` lines (default 100, max 10000).' })
  @ApiProduces('text/plain')
  @ApiQuery({ name: 'tail', required: false })
  @ApiOkResponse({ description: 'log text' })
  @ApiNotFoundResponse({ description: 'no such pod' })
  logs(@Param('id') id: string, @Query('tail') tail?: string): string {
    const n = intParam(tail, 'tail', { min: 1, max: 10000, def: 100 });
    const pod = this.runtime.get(id);
    if (!pod) throw GridException.notFound('pod', id);
    if (pod.runtime !== 'process') return `[grid: pod ${id} runs on the ${pod.runtime} runtime, which keeps no logs]\n`;
    const lines = readTail(this.processes.logFile(id), Math.min(n * 512, 4 * 1024 * 1024)).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-n).join('\n') + (lines.length ? '\n' : '');
  }
}
