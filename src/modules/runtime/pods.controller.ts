import { BeforeApplicationShutdown, Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import { OpenStreams } from '../../common/http/open-streams.js';
import type { FastifyReply } from 'fastify';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { intParam } from '../../common/validation/query.js';
import { RuntimeService } from './runtime.service.js';
import { ProcessDriver } from './drivers/process.driver.js';
import { DockerDriver } from './drivers/docker.driver.js';
import { podView } from './pod-view.js';
import { LogFollower } from './log-follow.js';

const FOLLOW_TICK_MS = 500;
const FOLLOW_HEARTBEAT_MS = 15_000;
/** What one follower is sent per tick at most (characters of SSE text, plus the lines of one FOLLOW_CHUNK read). */
export const FOLLOW_TICK_CHARS = 128 * 1024;
/** Open follows across all clients: each costs a timer and file reads per tick. */
export const MAX_FOLLOWERS = 32;
/** Open follows per client address, so one client cannot take them all. */
export const MAX_FOLLOWERS_PER_CLIENT = 4;

function frame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data.replace(/\r?\n|\r/g, ' ')}\n\n`;
}

@ApiTags('pods')
@Controller('pods')
export class PodsController implements BeforeApplicationShutdown {
  constructor(
    private readonly runtime: RuntimeService,
    private readonly processes: ProcessDriver,
    private readonly containers: DockerDriver,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
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
  private readonly followsByClient = new Map<string, number>();

  @Get(':id/logs')
  @ApiOperation({
    summary: "A pod's stdout and stderr (process and docker runtimes)",
    description:
      'The last `tail` lines (default 100, max 10000) as text. With `follow=1` (kubectl logs -f): Server-Sent Events, one `event: log` per line as the pod writes it, from the end of the log; `event: skipped` (`{"bytes": N}`, followed by a `[grid: N bytes skipped]` log line) when lines were rotated away or dropped before this client took them; `event: end` when the pod is gone. At most 32 follows at once, 4 per client address (else 429); a client that takes nothing for GRID_CLIENT_SEND_TIMEOUT_MS is cut.',
  })
  @ApiProduces('text/plain', 'text/event-stream')
  @ApiQuery({ name: 'tail', required: false })
  @ApiQuery({ name: 'follow', required: false, description: '1 or true: stream new lines (SSE)' })
  @ApiOkResponse({ description: 'log text, or an event stream' })
  @ApiNotFoundResponse({ description: 'no such pod' })
  @ApiTooManyRequestsResponse({ description: 'follow=1: 32 logs followed already, or 4 by this client address' })
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
    const client = reply.request.ip;
    if (this.streams.size >= MAX_FOLLOWERS) throw new GridException(GridErrorCode.TooManyRequests, `${MAX_FOLLOWERS} pod logs are being followed already; close one first`);
    const mine = this.followsByClient.get(client) ?? 0;
    if (mine >= MAX_FOLLOWERS_PER_CLIENT) throw new GridException(GridErrorCode.TooManyRequests, `${client} follows ${MAX_FOLLOWERS_PER_CLIENT} pod logs already (the most one client address may); close one first`);
    this.followsByClient.set(client, mine + 1);
    const res = this.streams.openEventStream(reply);
    const socket = res.socket;
    /** Set while the socket's buffer is full: nothing more is read or written until it drains. */
    let paused = false;
    let ended = false;
    let stall: NodeJS.Timeout | undefined;
    /** A container's lines waiting for the next tick, and the bytes of those that did not fit or came while paused. */
    let pending: string[] = [];
    let pendingChars = 0;
    let dropped = 0;

    // One write per tick: a reader that keeps up gets at most FOLLOW_TICK_CHARS (plus one read's
    // lines) a tick; one that does not is not read for (see the memory bound in the README).
    const write = (text: string): void => {
      if (res.write(text)) return;
      paused = true;
      watchStall(socket?.writableLength ?? 0);
    };
    // Cut only a socket that takes nothing: a slow reader whose buffer shrinks keeps its stream.
    const watchStall = (buffered: number) => {
      stall = setTimeout(() => {
        const now = socket?.writableLength ?? 0;
        if (now === 0) return; // drained meanwhile
        if (now < buffered) watchStall(now);
        else res.destroy();
      }, this.config.clientSendTimeoutMs);
    };
    const pump = () => {
      if (paused || ended) return;
      let out = '';
      const skippedFrame = (bytes: number) => frame('skipped', JSON.stringify({ bytes })) + frame('log', `[grid: ${bytes} bytes skipped]`);
      if (dropped > 0) out += skippedFrame(dropped);
      dropped = 0;
      for (const line of pending) out += frame('log', line);
      pending = [];
      pendingChars = 0;
      while (follower && out.length < FOLLOW_TICK_CHARS) {
        const got = follower.read();
        if (got.skipped > 0) out += skippedFrame(got.skipped);
        for (const line of got.lines) out += frame('log', line);
        if (got.bytes === 0) break;
      }
      if (out) write(out);
    };
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(tick);
      clearInterval(beat);
      stopContainerLogs?.();
      // A paused stream keeps its stall timer: a client that takes nothing is cut even after the end.
      res.end();
    };
    // The head goes out now, not with the first line: a quiet pod's stream is open at once.
    write(`: following ${id}\n\n`);
    if (runtime === 'sim') write(frame('log', `[grid: pod ${id} runs on the ${runtime} runtime, which keeps no logs]`));
    // The engine streams a container's new lines itself; a restarted pod's new container is not followed (as kubectl logs -f).
    const stopContainerLogs =
      runtime === 'docker'
        ? this.containers.followLogs(id, (line) => {
            if (paused || pendingChars > FOLLOW_TICK_CHARS) dropped += Buffer.byteLength(line) + 1;
            else (pending.push(line), (pendingChars += line.length));
          })
        : undefined;
    const follower = runtime === 'process' ? LogFollower.atEnd(this.processes.logFile(id), () => this.processes.rotations(id)) : null;
    const tick = setInterval(() => {
      pump();
      if (!this.runtime.get(id)) {
        if (!paused) write(frame('end', `pod ${id} is gone`));
        end();
      }
    }, FOLLOW_TICK_MS);
    const beat = setInterval(() => paused || write(`: heartbeat\n\n`), FOLLOW_HEARTBEAT_MS);
    res.on('drain', () => {
      paused = false;
      clearTimeout(stall);
      pump();
    });
    res.once('close', () => {
      end();
      clearTimeout(stall);
      const left = (this.followsByClient.get(client) ?? 1) - 1;
      if (left > 0) this.followsByClient.set(client, left);
      else this.followsByClient.delete(client);
    });
    res.on('error', end);
  }

  /** Followed logs end when Grid stops; the server's close would otherwise wait for them. */
  beforeApplicationShutdown(): void {
    this.streams.endAll();
  }
}
