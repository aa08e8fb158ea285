import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One link of the audit chain (migration 0005). Written only by AuditService, never updated or deleted. */
@Entity('audit_log')
@Index('ix_audit_log_actor', ['actor'])
@Index('ix_audit_log_action', ['action'])
@Index('ix_audit_log_target', ['target'])
@Index('ix_audit_log_time', ['time'])
export class AuditEntity {
  @PrimaryColumn('integer') id: number;
  @Column('integer') time: number;
  @Column('text') actor: string;
  @Column('text', { name: 'actor_kind' }) actorKind: string;
  @Column('text', { name: 'source_ip', nullable: true }) sourceIp: string | null;
  @Column('text') action: string;
  @Column('text', { nullable: true }) target: string | null;
  @Column('text') summary: string;
  @Column('integer', { nullable: true }) status: number | null;
  @Column('text', { name: 'prev_hash' }) prevHash: string;
  @Column('text') hash: string;
}
