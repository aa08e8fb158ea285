import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The desired state of one failover group (its health, active target and history are the failover module's). */
@Entity('failover_groups')
export class FailoverGroupEntity {
  @PrimaryColumn('text') name: string;
  @Column('text') uid: string;
  @Column('integer') generation: number;
  @Column('text', { name: 'spec_hash' }) specHash: string;
  @Column('text') manifest: string;
  @Column('integer', { name: 'created_at' }) createdAt: number;
  @Column('integer', { name: 'updated_at' }) updatedAt: number;
}
