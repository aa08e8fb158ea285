import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * FailoverGroup specs get their own table: they share the services' namespace (checked at
 * apply) but not their columns (no revisions or pod templates).
 */
export class FailoverGroups1795000000003 implements MigrationInterface {
  name = 'FailoverGroups1795000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE failover_groups (name TEXT PRIMARY KEY NOT NULL, uid TEXT NOT NULL, generation INTEGER NOT NULL,
      spec_hash TEXT NOT NULL, manifest TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE failover_groups`);
  }
}
