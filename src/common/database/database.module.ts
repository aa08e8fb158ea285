import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GRID_CONFIG, type GridConfig } from '../config/config.js';
import { ServiceEntity } from '../../modules/specs/service.entity.js';
import { SpecRevisionEntity } from '../../modules/specs/spec-revision.entity.js';
import { PodEntity } from '../../modules/runtime/pod.entity.js';
import { EventEntity } from '../../modules/events/event.entity.js';
import { ControllerStateEntity } from '../../modules/reconciler/controller-state.entity.js';
import { AuditEntity } from '../../modules/audit/audit.entity.js';
import { UserEntity } from '../../modules/auth/user.entity.js';
import { FailoverGroupEntity } from '../../modules/specs/failover-group.entity.js';
import { Initial1795000000000 } from './migrations/0001-initial.js';
import { RolloutState1795000000001 } from './migrations/0002-rollout-state.js';
import { ControllerState1795000000002 } from './migrations/0003-controller-state.js';
import { FailoverGroups1795000000003 } from './migrations/0004-failover-groups.js';
import { AuditLog1795000000004 } from './migrations/0005-audit-log.js';
import { Users1795000000005 } from './migrations/0006-users.js';
import { FailoverState1795000000006 } from './migrations/0007-failover-state.js';

export const ENTITIES = [ServiceEntity, SpecRevisionEntity, PodEntity, EventEntity, ControllerStateEntity, FailoverGroupEntity, AuditEntity, UserEntity];

/**
 * The database holds spec env values, password hashes and the audit log: Grid's user alone may read
 * it, whatever the umask. SQLite gives -wal and -shm the mode of the database file, so creating that
 * 0600 covers all three; files from before are narrowed at boot.
 */
function restrictDatabaseFiles(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    const st = fs.statSync(f, { throwIfNoEntry: false });
    if (st && (st.mode & 0o077) !== 0) fs.chmodSync(f, st.mode & 0o700);
  }
}

/** Grid's SQLite file under the data dir, migrated at boot; unit tests open the same with a temp dir. */
export function databaseOptions(dataDir: string) {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  restrictDatabaseFiles(path.join(dataDir, 'grid.db'));
  return {
    type: 'better-sqlite3' as const,
    database: path.join(dataDir, 'grid.db'),
    entities: ENTITIES,
    migrations: [Initial1795000000000, RolloutState1795000000001, ControllerState1795000000002, FailoverGroups1795000000003, AuditLog1795000000004, Users1795000000005, FailoverState1795000000006],
    migrationsRun: true,
    synchronize: false,
    // WAL lets the SSE and REST readers run beside the reconciler's writes. FULL syncs the WAL
    // at every commit: with NORMAL an acknowledged apply survived a crash of Grid but not of the
    // machine, and the disk-fault test lost one when the kernel aborted the filesystem. Writers
    // batch (events, pod records, controller state), so this is a few fsyncs a second.
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
    },
  };
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [GRID_CONFIG],
      useFactory: (config: GridConfig) => ({ ...databaseOptions(config.dataDir), retryAttempts: 0 }),
    }),
  ],
})
export class DatabaseModule {}
