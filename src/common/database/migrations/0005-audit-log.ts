import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail: append-only, each row chained to the one before by prev_hash/hash (see
 * src/modules/audit/hash-chain.ts). The id is the chain position, given by the writer rather
 * than AUTOINCREMENT, so a removed row leaves a gap the verifier can name. Each filter of
 * GET /audit has an index; SQLite keeps the rowid (= id) in every index, so "newest first
 * after a cursor" walks it backwards without a sort.
 */
export class AuditLog1795000000004 implements MigrationInterface {
  name = 'AuditLog1795000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE audit_log (
      id INTEGER PRIMARY KEY NOT NULL, time INTEGER NOT NULL, actor TEXT NOT NULL, actor_kind TEXT NOT NULL,
      source_ip TEXT, action TEXT NOT NULL, target TEXT, summary TEXT NOT NULL, status INTEGER,
      prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`);
    await q.query(`CREATE INDEX ix_audit_log_actor ON audit_log (actor)`);
    await q.query(`CREATE INDEX ix_audit_log_action ON audit_log (action)`);
    await q.query(`CREATE INDEX ix_audit_log_target ON audit_log (target)`);
    await q.query(`CREATE INDEX ix_audit_log_time ON audit_log (time)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
  }
}
