import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock, type ClockTimer } from '../../common/clock/clock.js';
import { EventBus } from '../../common/events/event-bus.js';
import type { EventMap, GridEventRecord } from '../../common/events/event-map.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { StorageService } from '../storage/storage.service.js';

export interface GridEventInput {
  type: string;
  service?: string | null;
  pod?: string | null;
  reason: string;
  message: string;
  /** A plain-language sentence saying why: "Started pod api-7f3k because 2 of 3 desired replicas were running". */
  explain: string;
}

export interface EventQuery {
  service?: string;
  /** Only events of this incarnation of the service (see serviceUid); default: the current one. */
  serviceUid?: string;
  type?: string;
  since?: number;
  limit: number;
}

const FLUSH_MS = 100;
/** While an SSE client is connected it sees an event only once it is written, so the write comes sooner. */
const STREAMING_FLUSH_MS = 10;
const FLUSH_BATCH = 2000;
const RING = 1000;
const RETRY_MS = 1000;
/**
 * While the database refuses writes (a read-only or full data dir), at most this many events wait in memory,
 * in order, and are written once it takes writes again; beyond it the oldest go first, counted and explained
 * by the storage.recovered event.
 */
const MAX_UNWRITTEN = 50_000;

const COLUMNS = 'id, time, type, service, service_uid AS serviceUid, pod, reason, message, explain';

/** What leaves the process (SSE): told of each event once it is written, or at once, flagged, while the data dir is degraded. */
export type EventSubscriber = (e: GridEventRecord, persisted: boolean) => void;

/** A Last-Event-ID no Grid wrote: what the client holds is stale from `resumeAfter` on. */
export interface StreamReset {
  lastEventId: number;
  newestId: number;
  resumeAfter: number;
}

/**
 * The append-only event log. Records get their id at once and
 * are written to SQLite in batches: at 10,000 pods a row-per-statement write would
 * cost more than the reconcile itself. It uses TypeORM's own better-sqlite3 connection
 * (one connection for all of Grid) with prepared statements in one transaction per batch,
 * rather than repository.insert, because this is the hottest write path: the reconcile
 * bench records 17,000-33,000 events/s while 10,000-50,000 pods start. The last flush runs
 * in onApplicationShutdown, which Nest calls before TypeORM's (a global module's hooks run
 * last), so the events of the last pods stopped still land.
 *
 * The in-process bus hears of an event at once; subscribers (SSE) only after the batch that
 * wrote it, in id order, like a log's high-water mark. An id that left the process before its
 * write could be lost to a SIGKILL and handed again by the next Grid to another event, and a
 * client resuming after it would skip that one.
 */
@Injectable()
export class EventsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventsService.name);
  private nextId = 1;
  private pending: GridEventRecord[] = [];
  private readonly recent: GridEventRecord[] = [];
  private timer?: ClockTimer;
  private insertMany?: (rows: GridEventRecord[]) => void;
  private db!: BetterSqlite3.Database;
  /** The uid of each service's current incarnation, as specs tells it (bindService); kept after a delete for its last events. */
  private readonly uids = new Map<string, string>();
  private readonly subscribers = new Set<EventSubscriber>();
  /** The newest id written to SQLite. */
  private persistedId = 0;
  /** The newest id told to subscribers: persisted, or streamed early while the data dir was degraded. */
  private publishedId = 0;
  /** The newest id written before this Grid started: where a client holding an id no Grid wrote resumes. */
  private bootId = 0;
  written = 0;
  /** Events dropped from the unwritten buffer since the data dir last took writes. */
  private dropped = 0;

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly metrics: MetricsService,
    private readonly storage: StorageService,
  ) {}

  async onModuleInit(): Promise<void> {
    this.db = (this.ds.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
    const row = this.db.prepare('SELECT MAX(id) AS max FROM events').get() as { max: number | null };
    this.nextId = (row.max ?? 0) + 1;
    this.persistedId = this.publishedId = this.bootId = row.max ?? 0;
    const insert = this.db.prepare('INSERT INTO events (id, time, type, service, service_uid, pod, reason, message, explain) VALUES (@id, @time, @type, @service, @serviceUid, @pod, @reason, @message, @explain)');
    this.insertMany = this.db.transaction((rows: GridEventRecord[]) => {
      for (const r of rows) insert.run(r);
    });
    const replay = this.db.prepare(`SELECT ${COLUMNS} FROM events ORDER BY id DESC LIMIT ?`).all(RING) as GridEventRecord[];
    this.recent.push(...replay.reverse());
    this.bus.on('storage.changed', (e) => this.storageChanged(e));
  }

  private storageChanged(e: EventMap['storage.changed']): void {
    if (e.reason !== null) {
      this.record({
        type: 'storage.degraded',
        reason: e.state,
        message: e.reason,
        explain: `Grid cannot write its data dir (${e.reason}), so it refuses changes (503) until it can; gateway traffic, reads and pods carry on, and events are kept in memory (up to ${MAX_UNWRITTEN}) until they can be written`,
      });
      return;
    }
    const waiting = this.pending.length;
    const dropped = this.dropped;
    this.dropped = 0;
    this.record({
      type: 'storage.recovered',
      reason: 'Writable',
      message: `data dir writable again after ${Math.round(e.degradedForMs / 1000)}s (was ${e.previous}); ${waiting} events kept in memory are written now${dropped > 0 ? `, ${dropped} older ones were dropped` : ''}`,
      explain: dropped > 0
        ? `While the data dir could not be written, more than ${MAX_UNWRITTEN} events came in: the ${dropped} oldest of them were dropped (their ids are missing from the log), the rest are written now, and changes are accepted again`
        : `Every event recorded while the data dir could not be written is written now, in order, and changes are accepted again`,
    });
    this.flush();
  }

  onApplicationShutdown(): void {
    this.flush();
    this.insertMany = undefined;
  }

  /**
   * From now on, events about `service` belong to the incarnation `uid`. Specs calls this when
   * it loads or creates a service, before it records anything about it.
   */
  bindService(service: string, uid: string): void {
    this.uids.set(service, uid);
  }

  record(input: GridEventInput): GridEventRecord {
    const service = input.service ?? null;
    const rec: GridEventRecord = {
      id: this.nextId++,
      time: this.clock.now(),
      type: input.type,
      service,
      serviceUid: service === null ? null : (this.uids.get(service) ?? null),
      pod: input.pod ?? null,
      reason: input.reason,
      message: input.message,
      explain: input.explain,
    };
    this.pending.push(rec);
    this.recent.push(rec);
    if (this.recent.length > RING * 2) this.recent.splice(0, this.recent.length - RING);
    if (this.pending.length >= FLUSH_BATCH) this.flush();
    else if (!this.timer) this.timer = this.clock.setTimeout(() => this.flush(), this.subscribers.size > 0 ? STREAMING_FLUSH_MS : FLUSH_MS);
    this.bus.emit('event.recorded', rec);
    // A degraded data dir may take minutes to recover: the live view carries on, flagged, and
    // the same ids are written on recovery; only a crash during the outage can lose them.
    if (!this.storage.writable) this.publish(this.pending);
    return rec;
  }

  /** Calls `fn` for every event from now on, once it is written (see publish); returns the unsubscribe. */
  subscribe(fn: EventSubscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  /** Whether the event with this id is in SQLite (so a crash cannot take its id back). */
  isPersisted(id: number): boolean {
    return id <= this.persistedId;
  }

  /** The last n events subscribers have been told of (of one service, if given), oldest first: what SSE replays on connect. */
  lastEvents(n: number, service?: string): GridEventRecord[] {
    if (n <= 0) return [];
    const uid = service ? this.uids.get(service) : undefined;
    const out: GridEventRecord[] = [];
    for (let i = this.recent.length - 1; i >= 0 && out.length < n; i--) {
      const e = this.recent[i];
      if (e.id <= this.publishedId && (!service || this.ofService(e, service, uid))) out.push(e);
    }
    return out.reverse();
  }

  /**
   * What an SSE client reconnecting with Last-Event-ID `id` missed, oldest first. An id above
   * every one subscribers were told of was never written by this Grid: a crashed Grid's
   * streamed-but-lost event, whose id this one may reuse. Then the client gets a reset and
   * every event written since this Grid started, its first chance to have missed any.
   */
  resume(id: number, service: string | undefined, limit: number): { reset: StreamReset | null; events: GridEventRecord[] } {
    this.flush();
    const reset = id > this.publishedId ? { lastEventId: id, newestId: this.persistedId, resumeAfter: this.bootId } : null;
    const from = reset ? this.bootId : id;
    const events = this.after(from, service, limit);
    // While the data dir is degraded, the events already streamed but not written come from memory.
    const uid = service ? this.uids.get(service) : undefined;
    for (const e of this.pending) {
      if (events.length >= limit) break;
      if (e.id > Math.max(from, this.persistedId) && e.id <= this.publishedId && (!service || this.ofService(e, service, uid))) events.push(e);
    }
    return { reset, events };
  }

  /** Events recorded before uids existed (serviceUid null) belong to whichever incarnation asks. */
  private ofService(e: GridEventRecord, service: string, uid: string | undefined): boolean {
    return e.service === service && (uid === undefined || e.serviceUid === null || e.serviceUid === uid);
  }

  /** Written events after an id, oldest first. */
  after(id: number, service: string | undefined, limit: number): GridEventRecord[] {
    this.flush();
    const uid = service ? this.uids.get(service) : undefined;
    const where = ['id > ?'];
    const args: unknown[] = [id];
    if (service) (where.push('service = ?'), args.push(service));
    if (uid) (where.push('(service_uid = ? OR service_uid IS NULL)'), args.push(uid));
    return this.db.prepare(`SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY id ASC LIMIT ?`).all(...args, limit) as GridEventRecord[];
  }

  query(q: EventQuery): GridEventRecord[] {
    this.flush();
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.service) {
      where.push('service = ?');
      args.push(q.service);
      const uid = q.serviceUid ?? this.uids.get(q.service);
      if (uid) (where.push('(service_uid = ? OR service_uid IS NULL)'), args.push(uid));
    }
    // "pod.*" and a bare domain such as "pod" match every pod.<verb> event; "pod.exited" matches exactly.
    if (q.type) {
      const prefix = q.type.endsWith('*') ? q.type.slice(0, -1) : q.type.includes('.') ? undefined : `${q.type}.`;
      where.push(prefix !== undefined ? 'type LIKE ?' : 'type = ?');
      args.push(prefix !== undefined ? `${prefix}%` : q.type);
    }
    if (q.since !== undefined) (where.push('time >= ?'), args.push(q.since));
    const sql = `SELECT ${COLUMNS} FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as GridEventRecord[]).reverse();
  }

  flush(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 || !this.insertMany) return;
    const rows = this.pending;
    this.pending = [];
    try {
      this.insertMany(rows);
      this.written += rows.length;
      this.persistedId = rows[rows.length - 1].id;
      this.publish(rows);
    } catch (e) {
      // Kept in order for the next flush: the newest events are still in memory (and on SSE while the data dir is degraded).
      this.pending = rows.concat(this.pending);
      if (this.pending.length > MAX_UNWRITTEN) this.dropped += this.pending.splice(0, this.pending.length - MAX_UNWRITTEN).length;
      this.metrics.persistErrors.inc({ store: 'events' });
      // A storage fault is logged once, by the storage service, not once a second here.
      if (!this.storage.noteWriteError(e)) this.logger.error(`could not write ${rows.length} events (kept for the next flush): ${(e as Error).message}`);
      if (this.insertMany !== undefined && !this.timer) this.timer = this.clock.setTimeout(() => this.flush(), RETRY_MS);
    }
  }

  /** Tells subscribers of the events in `rows` (in id order) they have not been told of, in order. */
  private publish(rows: readonly GridEventRecord[]): void {
    let i = rows.length;
    while (i > 0 && rows[i - 1].id > this.publishedId) i--;
    for (; i < rows.length; i++) {
      const e = rows[i];
      this.publishedId = e.id;
      const persisted = e.id <= this.persistedId;
      for (const fn of this.subscribers) {
        try {
          fn(e, persisted);
        } catch (err) {
          this.logger.error(`event subscriber failed: ${(err as Error).message}`);
        }
      }
    }
  }
}
