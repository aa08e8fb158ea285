import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Rollout and autoscaler state survive a restart of Grid, so a canary resumes where it was. */
export class RolloutState1795000000001 implements MigrationInterface {
  name = 'RolloutState1795000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE services ADD COLUMN rollout TEXT`);
    await q.query(`ALTER TABLE services ADD COLUMN autoscale TEXT`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE services DROP COLUMN autoscale`);
    await q.query(`ALTER TABLE services DROP COLUMN rollout`);
  }
}
