import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Where a user comes from: the API (POST /users), GRID_USERS_FILE, or GRID_ADMIN_PASSWORD. The last two are rewritten at every boot. */
export type UserSource = 'api' | 'file' | 'env';

@Entity('users')
export class UserEntity {
  @PrimaryColumn('text') name: string;
  @Column('text') role: 'viewer' | 'operator';
  /** scrypt$N$r$p$salt$hash: never the password. */
  @Column('text', { name: 'password_hash' }) passwordHash: string;
  @Column('text') source: UserSource;
  @Column('integer', { name: 'created_at' }) createdAt: number;
}
