import { BeforeApplicationShutdown, Controller, Get, Headers, Inject, Query, Res } from '@nestjs/common';
import { OpenStreams } from '../../common/http/open-streams.js';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiBadRequestResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { EventsService } from './events.service.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { intParam, optionalName, timeParam } from '../../common/validation/query.js';
import { GridException } from '../../common/errors/grid.exception.js';
import type { GridEventRecord } from '../../common/events/event-map.js';

const HEARTBEAT_MS = 15_000;
const REPLAY_AFTER_MAX = 10_000;

@ApiTags('events')
@Controller('events')
export class EventsController implements BeforeApplicationShutdown {
  private readonly streams = new OpenStreams();

  constructor(
    private readonly events: EventsService,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Query the event log', description: 'Oldest first, the most recent `limit` matches. Each event has an `explain` sentence saying why it happened.' })
  @ApiQuery({ name: 'service', required: false })
  @ApiQuery({ name: 'type', required: false, description: 'exact type, or a prefix ending in * (e.g. pod.*)' })
  @ApiQuery({ name: 'since', required: false, description: 'ISO-8601 time or epoch ms' })
  @ApiQuery({ name: 'limit', required: false, description: '1..1000, default 100' })
  @ApiOkResponse({ description: '{ events: [...] }' })
  @ApiBadRequestResponse({ description: 'a query parameter is invalid; the message names it' })
  list(@Query('service') service?: string, @Query('type') type?: string, @Query('since') since?: string, @Query('limit') limit?: string) {
    if (type !== undefined && !/^[a-zA-Z*][a-zA-Z.*-]{0,63}$/.test(type)) {
      throw GridException.invalid('type', `must be an event type such as pod.exited or a prefix such as pod.* (got "${type}")`);
    }
    return {
      events: this.events.query({
        service: optionalName(service, 'service'),
        type: type || undefined,
        since: timeParam(since, 'since'),
        limit: intParam(limit, 'limit', { min: 1, max: 1000, def: 100 }),
      }),
    };
  }

  @Get('stream')
  @ApiOperation({
    summary: 'Live event stream (Server-Sent Events)',
    description:
      'Replays the last N events on connect (`replay`, default GRID_SSE_REPLAY), then streams each new event as `event: grid` with a JSON body, once it is written to the event log, ' +
      'so an `id:` a client holds is never taken back by a crash. While the data dir cannot be written, events come at once with `"persisted": false` in the body and no `id:` line. ' +
      'A Last-Event-ID above every id Grid has streamed gets `event: reset` ({lastEventId, newestId, resumeAfter}), then the events after `resumeAfter` (written since this Grid started).',
  })
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'replay', required: false, description: '0..1000' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume after this event id (sent by EventSource on reconnect); an id no Grid wrote gets `event: reset` first' })
  @ApiQuery({ name: 'service', required: false })
  stream(@Res() reply: FastifyReply, @Query('replay') replay?: string, @Query('service') service?: string, @Headers('last-event-id') lastEventId?: string): void {
    const n = intParam(replay, 'replay', { min: 0, max: 1000, def: this.config.sseReplay });
    const only = optionalName(service, 'service');
    const resumeFrom = lastEventId === undefined || lastEventId === '' ? undefined : intParam(lastEventId, 'Last-Event-ID', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const res = this.streams.openEventStream(reply);
    // Without an id line the client's Last-Event-ID stays on a written event: it cannot resume after an id a crash may reuse.
    const send = (e: GridEventRecord, persisted: boolean) => {
      if (only && e.service !== only) return;
      res.write(persisted ? `id: ${e.id}\nevent: grid\ndata: ${JSON.stringify(e)}\n\n` : `event: grid\ndata: ${JSON.stringify({ ...e, persisted: false })}\n\n`);
    };
    res.write(`retry: 2000\n\n`);
    // A reconnecting client gets exactly what it missed; a new one gets the last `replay` events.
    if (resumeFrom !== undefined) {
      const { reset, events } = this.events.resume(resumeFrom, only, REPLAY_AFTER_MAX);
      if (reset) res.write(`id: ${reset.resumeAfter}\nevent: reset\ndata: ${JSON.stringify({ ...reset, message: `event ${reset.lastEventId} was never written (a Grid that crashed streamed it before its write, or it is no id of this log; the newest is ${reset.newestId}): what you hold after event ${reset.resumeAfter} is stale, read the state again` })}\n\n`);
      for (const e of events) send(e, this.events.isPersisted(e.id));
    } else {
      for (const e of this.events.lastEvents(n, only)) send(e, this.events.isPersisted(e.id));
    }
    const off = this.events.subscribe(send);
    const beat = setInterval(() => res.write(`: heartbeat ${this.clock.now()}\n\n`), HEARTBEAT_MS);
    const close = () => {
      clearInterval(beat);
      off();
    };
    res.on('close', close);
    res.on('error', close);
  }

  /** Streams end when Grid stops (clients reconnect to the next Grid with Last-Event-ID); otherwise the server would wait for them forever. */
  beforeApplicationShutdown(): void {
    this.streams.endAll();
  }
}
