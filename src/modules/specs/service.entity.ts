import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The current state of one service: which generation is desired and its last status. */
@Entity('services')
export class ServiceEntity {
  @PrimaryColumn('text') name: string;
  @Column('integer') generation: number;
  @Column('integer') revision: number;
  @Column('text', { name: 'spec_hash' }) specHash: string;
  @Column('text', { name: 'template_hash' }) templateHash: string;
  @Column('text') manifest: string;
  @Column('text', { nullable: true }) status: string | null;
  @Column('text', { nullable: true }) rollout: string | null;
  @Column('text', { nullable: true }) autoscale: string | null;
  @Column('integer', { name: 'created_at' }) createdAt: number;
  @Column('integer', { name: 'updated_at' }) updatedAt: number;
}
