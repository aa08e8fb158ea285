import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The failover module's own state per group: the active target and whether an operator chose it.
 * Kept apart from failover_groups (the spec, owned by specs) so each table has one writer; without
 * it an acknowledged switch was undone by a restart (the group came back on its first target).
 */
export class FailoverState1795000000006 implements MigrationInterface {
  name = 'FailoverState1795000000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE failover_state (name TEXT PRIMARY KEY NOT NULL, active TEXT NOT NULL, pinned INTEGER NOT NULL, last_switch_at INTEGER)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE failover_state`);
  }
}
