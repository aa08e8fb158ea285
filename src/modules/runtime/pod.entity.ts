import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Pods of runtimes that outlive Grid (process, docker), recorded so a restarted Grid adopts them. */
@Entity('pods')
@Index('ix_pods_service', ['service'])
export class PodEntity {
  @PrimaryColumn('text') id: string;
  @Column('text') service: string;
  @Column('text') runtime: string;
  @Column('integer') revision: number;
  @Column('text', { name: 'template_hash' }) templateHash: string;
  @Column('text') version: string;
  @Column('integer', { nullable: true }) pid: number | null;
  @Column('integer', { nullable: true }) port: number | null;
  /** Kernel start time of the pid (from /proc) so a recycled pid is never mistaken for our pod. */
  @Column('text', { name: 'proc_start', nullable: true }) procStart: string | null;
  @Column('text', { name: 'container_id', nullable: true }) containerId: string | null;
  @Column('integer', { name: 'created_at' }) createdAt: number;
  @Column('integer', { name: 'started_at' }) startedAt: number;
  @Column('integer') restarts: number;
  @Column('text') labels: string;
}
