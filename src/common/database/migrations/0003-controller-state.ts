import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Status, rollout and autoscaler state move out of the services table into one owned by
 * the reconciler (controller_state): specs owns desired state only. Services get a uid, so
 * events of a deleted service are not shown as the history of a new one of the same name.
 */
export class ControllerState1795000000002 implements MigrationInterface {
  name = 'ControllerState1795000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE controller_state (service TEXT PRIMARY KEY NOT NULL, status TEXT, rollout TEXT, autoscale TEXT)`);
    await q.query(`INSERT INTO controller_state (service, status, rollout, autoscale)
      SELECT name, status, rollout, autoscale FROM services WHERE status IS NOT NULL OR rollout IS NOT NULL OR autoscale IS NOT NULL`);
    for (const c of ['status', 'rollout', 'autoscale']) await q.query(`ALTER TABLE services DROP COLUMN ${c}`);
    await q.query(`ALTER TABLE services ADD COLUMN uid TEXT NOT NULL DEFAULT ''`);
    await q.query(`UPDATE services SET uid = lower(hex(randomblob(8)))`);
    await q.query(`ALTER TABLE events ADD COLUMN service_uid TEXT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events DROP COLUMN service_uid`);
    await q.query(`ALTER TABLE services DROP COLUMN uid`);
    for (const c of ['status', 'rollout', 'autoscale']) await q.query(`ALTER TABLE services ADD COLUMN ${c} TEXT`);
    await q.query(`UPDATE services SET status = (SELECT status FROM controller_state WHERE service = name),
      rollout = (SELECT rollout FROM controller_state WHERE service = name), autoscale = (SELECT autoscale FROM controller_state WHERE service = name)`);
    await q.query(`DROP TABLE controller_state`);
  }
}
