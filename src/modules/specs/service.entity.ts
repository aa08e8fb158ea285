import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The current state of one service: which generation is desired (the reconciler keeps status in controller_state). */
@Entity('services')
export class ServiceEntity {
  @PrimaryColumn('text') name: string;
  @Column('integer') generation: number;
  @Column('integer') revision: number;
  @Column('text', { name: 'spec_hash' }) specHash: string;
  @Column('text', { name: 'template_hash' }) templateHash: string;
  @Column('text') manifest: string;
  @Column('text') uid: string;
  @Column('integer', { name: 'created_at' }) createdAt: number;
  @Column('integer', { name: 'updated_at' }) updatedAt: number;
}
