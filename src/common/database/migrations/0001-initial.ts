import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795000000000 implements MigrationInterface {
  name = 'Initial1795000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE services (
      name TEXT PRIMARY KEY NOT NULL, generation INTEGER NOT NULL, revision INTEGER NOT NULL,
      spec_hash TEXT NOT NULL, template_hash TEXT NOT NULL, manifest TEXT NOT NULL, status TEXT,
      created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
    await q.query(`CREATE TABLE spec_revisions (
      id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, service TEXT NOT NULL, generation INTEGER NOT NULL,
      revision INTEGER NOT NULL, spec_hash TEXT NOT NULL, template_hash TEXT NOT NULL, manifest TEXT NOT NULL,
      source TEXT NOT NULL, created_at INTEGER NOT NULL)`);
    await q.query(`CREATE UNIQUE INDEX ix_spec_revisions_service_generation ON spec_revisions (service, generation)`);
    await q.query(`CREATE TABLE pods (
      id TEXT PRIMARY KEY NOT NULL, service TEXT NOT NULL, runtime TEXT NOT NULL, revision INTEGER NOT NULL,
      template_hash TEXT NOT NULL, version TEXT NOT NULL, pid INTEGER, port INTEGER, proc_start TEXT,
      container_id TEXT, created_at INTEGER NOT NULL, started_at INTEGER NOT NULL, restarts INTEGER NOT NULL,
      labels TEXT NOT NULL)`);
    await q.query(`CREATE INDEX ix_pods_service ON pods (service)`);
    await q.query(`CREATE TABLE events (
      id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, time INTEGER NOT NULL, type TEXT NOT NULL, service TEXT,
      pod TEXT, reason TEXT NOT NULL, message TEXT NOT NULL, explain TEXT NOT NULL)`);
    await q.query(`CREATE INDEX ix_events_service_time ON events (service, time)`);
    await q.query(`CREATE INDEX ix_events_type ON events (type)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['events', 'pods', 'spec_revisions', 'services']) await q.query(`DROP TABLE ${t}`);
  }
}
