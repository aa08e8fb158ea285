import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../../common/clock/clock.js';
import { GRID_CONFIG, type GridConfig } from '../../common/config/config.js';
import { GridErrorCode, GridException } from '../../common/errors/grid.exception.js';
import { EventBus } from '../../common/events/event-bus.js';
import type { EventMap } from '../../common/events/event-map.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { StorageService } from '../storage/storage.service.js';
import { clip, FIELD_MAX, SUMMARY_MAX } from './audit-request.js';
import { ChainWalk, link, type AuditDraft, type AuditEntry, type ChainHead, type Verification } from './hash-chain.js';
import { REFUSAL_LIMITS, RefusalLimiter, tallySummary, type Tally } from './refusal-limit.js';

export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  since?: number;
  limit: number;
  /** Entries older than this id (the nextCursor of the page before). */
  cursor?: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as cursor for the next (older) page; null when this was the last. */
  nextCursor: number | null;
}

/** Decisions Grid makes on its own, audited from the event log with the numbers of their message. */
export const AUDITED_EVENTS: ReadonlySet<string> = new Set(['rollout.aborted', 'rollout.stalled', 'autoscale.scaled']);

const SYSTEM = { actor: 'grid', actorKind: 'system' } as const;
/** The job that writes the tallies of refusal windows that ended with no refusal after them. */
const TALLY_JOB = 'audit.refusal-tallies';
const TALLY_EVERY_MS = 10_000;
/** Rows hashed per turn of the event loop by verify(): a few milliseconds of work. */
export const VERIFY_CHUNK = 2000;
const COLUMNS = 'id, time, actor, actor_kind AS actorKind, source_ip AS sourceIp, action, target, summary, status, prev_hash AS prevHash, hash';

/**
 * The audit trail's only writer. Appends go through TypeORM's better-sqlite3 connection with
 * prepared statements, synchronously: each append reads the in-memory head and inserts the next
 * link in one uninterrupted step, so concurrent requests can never fork the chain.
 *
 * Fail closed (see AuditInterceptor): before a mutating request runs, checkWritable() inserts a
 * probe row inside a savepoint and rolls it back. That runs the same statement, constraints and
 * triggers, on the same connection, as the append after the handler, so what would refuse the
 * entry refuses the request first. An entry that still cannot be written afterwards (or one from
 * the bus, which has no request to refuse) is kept in memory, in order, and counted; while any is
 * kept, checkWritable() first tries to write them and refuses every mutation until it can.
 */
@Injectable()
export class AuditService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AuditService.name);
  private db!: BetterSqlite3.Database;
  private insert!: BetterSqlite3.Statement;
  /** The last entry written: what the next one chains to, and the verifier's anchor. */
  private head: ChainHead | null = null;
  /** Entries not yet written, oldest first; they get their place in the chain when written. */
  private backlog: AuditDraft[] = [];
  private lastWritten?: AuditEntry;
  /** Why the last write failed (SQLite's message), for the 503 and the log. */
  private lastError = '';
  private readonly refusals: RefusalLimiter;

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly bus: EventBus,
    private readonly metrics: MetricsService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(GRID_CONFIG) config: GridConfig,
    private readonly storage: StorageService,
  ) {
    this.refusals = new RefusalLimiter({ ...REFUSAL_LIMITS, perWindow: config.auditRefusalsPerMinute });
  }

  onModuleInit(): void {
    this.db = (this.ds.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
    this.insert = this.db.prepare(
      'INSERT INTO audit_log (id, time, actor, actor_kind, source_ip, action, target, summary, status, prev_hash, hash) VALUES (@id, @time, @actor, @actorKind, @sourceIp, @action, @target, @summary, @status, @prevHash, @hash)',
    );
    this.head = (this.db.prepare('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as ChainHead | undefined) ?? null;
    this.bus.on('auth.refused', (e) => this.refused(e));
    // Only automatic switches: a manual one is the POST /failover/:group/switch already audited with its caller.
    this.bus.on('failover.switched', (e) => {
      if (e.automatic) this.record({ ...SYSTEM, sourceIp: null, action: 'failover.switched', target: e.group, summary: `${e.from ?? '(none)'} → ${e.to}: ${e.reason}`, status: null });
    });
    this.bus.on('event.recorded', (e) => {
      if (AUDITED_EVENTS.has(e.type)) this.record({ ...SYSTEM, sourceIp: null, action: e.type, target: e.service, summary: `${e.reason}: ${e.message}`, status: null });
    });
    const tallies = setInterval(() => this.writeRefusalTallies(), TALLY_EVERY_MS);
    tallies.unref();
    this.scheduler.addInterval(TALLY_JOB, tallies);
  }

  /** What was counted but not yet written goes in now: a restart must not lose it. */
  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', TALLY_JOB)) this.scheduler.deleteInterval(TALLY_JOB);
    this.writeTallies(this.refusals.drain());
  }

  /**
   * A refusal proves no one, so what it brings (path, claimed name) is clipped, and one address
   * gets at most GRID_AUDIT_REFUSALS_PER_MINUTE rows a minute; the rest are counted into one row.
   */
  private refused(e: EventMap['auth.refused']): void {
    const { record, tallies } = this.refusals.admit(e.ip, e.status, this.clock.now());
    this.writeTallies(tallies);
    if (!record) return;
    // A 403 is a proven user refused a route; a 401 or 429 proves no one, so a name it claimed goes in the summary,
    // not the actor column (else /audit?actor=admin would mix an attacker's guesses with admin's own actions).
    const path = clip(e.url.split('?')[0], FIELD_MAX);
    const proven = e.status === 403 && e.actor !== null;
    const claimed = !proven && e.actor !== null ? ` (claimed user ${clip(e.actor, FIELD_MAX)})` : '';
    // The reason is Grid's own words, but may quote a user name: twice a field keeps every part within SUMMARY_MAX.
    const summary = clip(`${clip(e.method, 20)} ${path}: ${clip(e.reason, 2 * FIELD_MAX)}${claimed}`, SUMMARY_MAX);
    const actor = proven ? { actor: clip(e.actor!, FIELD_MAX), actorKind: 'user' as const } : { actor: 'anonymous', actorKind: 'anonymous' as const };
    this.record({ ...actor, sourceIp: clip(e.ip, FIELD_MAX), action: 'auth.refused', target: path, summary, status: e.status });
  }

  /** Writes the tallies of refusal windows that have ended. Public for the tests, which drive the clock. */
  writeRefusalTallies(): void {
    this.writeTallies(this.refusals.expire(this.clock.now()));
  }

  private writeTallies(tallies: Tally[]): void {
    for (const t of tallies) {
      this.record({ actor: 'anonymous', actorKind: 'anonymous', sourceIp: clip(t.ip, FIELD_MAX), action: 'auth.refused', target: null, summary: clip(tallySummary(t, this.refusals.limits.windowMs), SUMMARY_MAX), status: null });
    }
  }

  /**
   * Throws a 503 saying why if an entry could not be written now. Called before a mutation runs;
   * the probe's row never stays (ROLLBACK TO the savepoint), so the chain is untouched.
   */
  checkWritable(): void {
    let why: string | undefined;
    if (this.backlog.length > 0 && !this.flush()) why = `${this.backlog.length} earlier entries are still unwritten (${this.lastError})`;
    if (why === undefined) {
      try {
        this.db.exec('SAVEPOINT audit_probe');
        try {
          this.insert.run(link(this.head, { ...SYSTEM, time: this.clock.now(), sourceIp: null, action: 'probe', target: null, summary: '', status: null }));
        } finally {
          this.db.exec('ROLLBACK TO audit_probe');
          this.db.exec('RELEASE audit_probe');
        }
      } catch (e) {
        why = (e as Error).message;
      }
    }
    if (why === undefined) return;
    this.metrics.auditWriteFailures.inc({ stage: 'preflight' });
    this.logger.error(`refused a mutating request: the audit log cannot be written: ${why}`);
    throw new GridException(GridErrorCode.Unavailable, `the audit log cannot be written (${why}); the request was not carried out`);
  }

  /** Appends an entry now if possible; otherwise keeps it, in order, for the next write. */
  record(draft: Omit<AuditDraft, 'time'> & { time?: number }): AuditEntry | undefined {
    this.backlog.push({ ...draft, time: draft.time ?? this.clock.now() });
    if (!this.flush()) {
      this.metrics.auditWriteFailures.inc({ stage: 'append' });
      this.logger.error(`could not write an audit entry (${this.backlog.length} kept in memory; mutations are refused until they are written): ${this.lastError}`);
      return undefined;
    }
    return this.lastWritten;
  }

  /** Writes the backlog in order; stops at the first failure. True when nothing is left. */
  private flush(): boolean {
    while (this.backlog.length > 0) {
      const e = link(this.head, this.backlog[0]);
      try {
        this.insert.run(e);
      } catch (err) {
        this.lastError = (err as Error).message;
        this.storage.noteWriteError(err);
        return false;
      }
      this.head = { id: e.id, hash: e.hash };
      this.lastWritten = e;
      this.backlog.shift();
    }
    return true;
  }

  /** Newest first. */
  query(q: AuditQuery): AuditPage {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.actor !== undefined) (where.push('actor = ?'), args.push(q.actor));
    if (q.action !== undefined) (where.push('action = ?'), args.push(q.action));
    if (q.target !== undefined) (where.push('target = ?'), args.push(q.target));
    if (q.since !== undefined) (where.push('time >= ?'), args.push(q.since));
    if (q.cursor !== undefined) (where.push('id < ?'), args.push(q.cursor));
    const sql = `SELECT ${COLUMNS} FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit + 1) as AuditEntry[];
    const more = rows.length > q.limit;
    if (more) rows.pop();
    return { entries: rows, nextCursor: more ? rows[rows.length - 1].id : null };
  }

  /**
   * The whole chain, read in id order a page at a time and hashed between other work (a chain of
   * 100k rows would otherwise hold every request for a while). Each page is read and checked
   * against the head as it is at that moment, so entries appended in between are simply read
   * with the next page; the last page is checked against the head at its read.
   */
  async verify(chunk = VERIFY_CHUNK): Promise<Verification> {
    const first = this.db.prepare(`SELECT ${COLUMNS} FROM audit_log ORDER BY id ASC LIMIT ?`);
    const next = this.db.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id > ? ORDER BY id ASC LIMIT ?`);
    const walk = new ChainWalk();
    let rows = first.all(chunk) as AuditEntry[];
    for (;;) {
      const head = this.head;
      if (!walk.feed(rows, head) || rows.length < chunk) return walk.end(head);
      await new Promise((resolve) => setImmediate(resolve));
      rows = next.all(rows[rows.length - 1].id, chunk) as AuditEntry[];
    }
  }

  /** The last entry written, for anchoring the chain outside Grid. */
  headOf(): ChainHead | null {
    return this.head;
  }
}
