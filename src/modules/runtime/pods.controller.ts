import { BeforeApplicationShutdown, Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { OpenStreams } from '../../common/http/open-streams.js';
import type { FastifyReply } from 'fastify';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { intParam } from '../../common/validation/query.js';
import { RuntimeService } from './runtime.service.js';
import { ProcessDriver } from './drivers/process.driver.js';
import { DockerDriver } from './drivers/docker.driver.js';
import { podView } from './pod-view.js';
import { LogFollower } from './log-follow.js';

const FOLLOW_TICK_MS = 500;
const FOLLOW_HEARTBEAT_MS = 15_000;
/** Unsent bytes a follower may fall behind by before its stream is closed. */
const FOLLOW_MAX_BUFFERED = 1024 * 1024;
/** Open follows across all clients: each costs a timer and a file read per tick. */
export const MAX_FOLLOWERS = 32;

@ApiTags('pods')
@Controller('pods')
export class PodsController implements BeforeApplicationShutdown {
  constructor(
    private readonly runtime: RuntimeService,
    private readonly processes: ProcessDriver,
    private readonly containers: DockerDriver,
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

  private readonly streams = new OpenStreams();

  @Get(':id/logs')
  @ApiOperation({
    summary: "A pod's stdout and stderr (process and docker runtimes)",
    description: 'The last `tail` lines (default 100, max 10000) as text. With `follow=1` (kubectl logs -f): Server-Sent Events, one `event: log` per line as the pod writes it, from the end of the log; `event: end` when the pod is gone.',
  })
  @ApiProduces('text/plain', 'text/event-stream')
  @ApiQuery({ name: 'tail', required: false })
  @ApiQuery({ name: 'follow', required: false, description: '1 or true: stream new lines (SSE)' })
  @ApiOkResponse({ description: 'log text, or an event stream' })
  @ApiNotFoundResponse({ description: 'no such pod' })
  async logs(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply, @Query('tail') tail?: string, @Query('follow') follow?: string): Promise<string | void> {
    const n = intParam(tail, 'tail', { min: 1, max: 10000, def: 100 });
    if (follow !== undefined && !['1', 'true', '0', 'false'].includes(follow)) throw GridException.invalid('follow', `must be 1, true, 0 or false (got "${follow.slice(0, 20)}")`);
    const pod = this.runtime.get(id);
    if (!pod) throw GridException.notFound('pod', id);
    if (follow === '1' || follow === 'true') return this.follow(id, pod.runtime, reply);
    reply.header('content-type', 'text/plain; charset=utf-8');
    if (pod.runtime === 'docker') {
      const text = await this.containers.logs(id, n);
      return text ?? `[grid: pod ${id} has no container yet]\n`;
    }
    if (pod.runtime !== 'process') return `[grid: pod ${id} runs on the ${pod.runtime} runtime, which keeps no logs]\n`;
    const lines = this.processes.readLog(id, Math.min(n * 512, 4 * 1024 * 1024)).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-n).join('\n') + (lines.length ? '\n' : '');
  }

  private follow(id: string, runtime: string, reply: FastifyReply): void {
    if (this.streams.size >= MAX_FOLLOWERS) throw new GridException(GridErrorCode.TooManyRequests, `${MAX_FOLLOWERS} pod logs are being followed already; close one first`);
    const res = this.streams.openEventStream(reply);
    let closed = false;
    const send = (event: string, data: string) => {
      // A reader that does not keep up is cut off rather than buffered without end (a pod may log faster than it reads).
      if (res.writableLength > FOLLOW_MAX_BUFFERED) {
        res.destroy();
        return;
      }
      res.write(`event: ${event}\ndata: ${data.replace(/\r?\n|\r/g, ' ')}\n\n`);
    };
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(tick);
      clearInterval(beat);
      stopContainerLogs?.();
      res.end();
    };
    // The head goes out now, not with the first line: a quiet pod's stream is open at once.
    res.write(`: following ${id}\n\n`);
    if (runtime === 'sim') send('log', `[grid: pod ${id} runs on the ${runtime} runtime, which keeps no logs]`);
    // The engine streams a container's new lines itself; a restarted pod's new container is not followed (as kubectl logs -f).
    const stopContainerLogs = runtime === 'docker' ? this.containers.followLogs(id, (line) => send('log', line)) : undefined;
    const follower = runtime === 'process' ? LogFollower.atEnd(this.processes.logFile(id), () => this.processes.rotations(id)) : null;
    const tick = setInterval(() => {
      if (follower) for (const line of follower.read()) send('log', line);
      if (!this.runtime.get(id)) {
        send('end', `pod ${id} is gone`);
        close();
      }
    }, FOLLOW_TICK_MS);
    const beat = setInterval(() => res.write(`: heartbeat\n\n`), FOLLOW_HEARTBEAT_MS);
    res.on('close', close);
    res.on('error', close);
  }

  /** Followed logs end when Grid stops; the server's close would otherwise wait for them. */
  beforeApplicationShutdown(): void {
    this.streams.endAll();
  }
}
