import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Every applied generation of every service: the history behind diffs and undo. */
@Entity('spec_revisions')
@Index('ix_spec_revisions_service_generation', ['service', 'generation'], { unique: true })
export class SpecRevisionEntity {
  @PrimaryGeneratedColumn() id: number;
  @Column('text') service: string;
  @Column('integer') generation: number;
  @Column('integer') revision: number;
  @Column('text', { name: 'spec_hash' }) specHash: string;
  @Column('text', { name: 'template_hash' }) templateHash: string;
  @Column('text') manifest: string;
  @Column('text') source: string;
  @Column('integer', { name: 'created_at' }) createdAt: number;
}
