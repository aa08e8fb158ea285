import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import * as path from 'node:path';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { EventBus } from '../../common/events/event-bus.js';
import type { GridEventRecord } from '../../common/events/event-map.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';

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
  type?: string;
  since?: number;
  limit: number;
}

const FLUSH_MS = 100;
const FLUSH_BATCH = 2000;
const RING = 1000;

/**
 * The append-only event log. Records get their id at once (so SSE can carry it) and
 * are written to SQLite in batches: at 10,000 pods a row-per-statement write would
 * cost more than the reconcile itself. It writes through a connection of its own
 * (WAL allows it) so the events of the last pods stopped at shutdown still land after
 * TypeORM has closed its connection; TypeORM's migrations own the table.
 */
@Injectable()
export class EventsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventsService.name);
  private nextId = 1;
  private pending: GridEventRecord[] = [];
  private readonly recent: GridEventRecord[] = [];
  private timer?: NodeJS.Timeout;
  private insert?: BetterSqlite3.Statement;
  private insertMany?: (rows: GridEventRecord[]) => void;
  private conn?: BetterSqlite3.Database;
  written = 0;

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GRID_CONFIG) private readonly config: GridConfig,
    private readonly bus: EventBus,
  ) {}

  async onModuleInit(): Promise<void> {
    const db = this.db();
    const row = db.prepare('SELECT MAX(id) AS max FROM events').get() as { max: number | null };
    this.nextId = (row.max ?? 0) + 1;
    this.insert = db.prepare('INSERT INTO events (id, time, type, service, pod, reason, message, explain) VALUES (@id, @time, @type, @service, @pod, @reason, @message, @explain)');
    const insert = this.insert;
    this.insertMany = db.transaction((rows: GridEventRecord[]) => {
      for (const r of rows) insert.run(r);
    });
    const replay = db
      .prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?')
      .all(RING) as GridEventRecord[];
    this.recent.push(...replay.reverse());
  }

  onApplicationShutdown(): void {
    this.flush();
    this.conn?.close();
    this.conn = undefined;
    this.insertMany = undefined;
  }

  record(input: GridEventInput): GridEventRecord {
    const rec: GridEventRecord = {
      id: this.nextId++,
      time: this.clock.now(),
      type: input.type,
      service: input.service ?? null,
      pod: input.pod ?? null,
      reason: input.reason,
      message: input.message,
      explain: input.explain,
    };
    this.pending.push(rec);
    this.recent.push(rec);
    if (this.recent.length > RING * 2) this.recent.splice(0, this.recent.length - RING);
    if (this.pending.length >= FLUSH_BATCH) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
    this.bus.emit('event.recorded', rec);
    return rec;
  }

  /** The last n events (of one service, if given), oldest first: what SSE replays on connect. */
  lastEvents(n: number, service?: string): GridEventRecord[] {
    if (n <= 0) return [];
    if (!service) return this.recent.slice(-n);
    const out: GridEventRecord[] = [];
    for (let i = this.recent.length - 1; i >= 0 && out.length < n; i--) if (this.recent[i].service === service) out.push(this.recent[i]);
    return out.reverse();
  }

  /** Events after an id (an SSE client reconnecting with Last-Event-ID), oldest first. */
  after(id: number, service: string | undefined, limit: number): GridEventRecord[] {
    this.flush();
    const sql = `SELECT * FROM events WHERE id > ?${service ? ' AND service = ?' : ''} ORDER BY id ASC LIMIT ?`;
    return this.db().prepare(sql).all(...(service ? [id, service, limit] : [id, limit])) as GridEventRecord[];
  }

  query(q: EventQuery): GridEventRecord[] {
    this.flush();
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.service) (where.push('service = ?'), args.push(q.service));
    // "pod.*" and a bare domain such as "pod" match every pod.<verb> event; "pod.exited" matches exactly.
    if (q.type) {
      const prefix = q.type.endsWith('*') ? q.type.slice(0, -1) : q.type.includes('.') ? undefined : `${q.type}.`;
      where.push(prefix !== undefined ? 'type LIKE ?' : 'type = ?');
      args.push(prefix !== undefined ? `${prefix}%` : q.type);
    }
    if (q.since !== undefined) (where.push('time >= ?'), args.push(q.since));
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db().prepare(sql).all(...args, q.limit) as GridEventRecord[]).reverse();
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0 || !this.insertMany) return;
    const rows = this.pending;
    this.pending = [];
    try {
      this.insertMany(rows);
      this.written += rows.length;
    } catch (e) {
      this.logger.error(`could not write ${rows.length} events: ${(e as Error).message}`);
    }
  }

  private db(): BetterSqlite3.Database {
    if (!this.conn) {
      this.conn = new Database(path.join(this.config.dataDir, 'grid.db'));
      this.conn.pragma('journal_mode = WAL');
      this.conn.pragma('busy_timeout = 5000');
    }
    return this.conn;
  }
}
