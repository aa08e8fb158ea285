import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users of the dashboard and API (auth module): a role and an scrypt hash, never a password. */
export class Users1795000000005 implements MigrationInterface {
  name = 'Users1795000000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE users (name TEXT PRIMARY KEY NOT NULL, role TEXT NOT NULL CHECK (role IN ('viewer', 'operator')), password_hash TEXT NOT NULL, source TEXT NOT NULL, created_at INTEGER NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE users`);
  }
}
