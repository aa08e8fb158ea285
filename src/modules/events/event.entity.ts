import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity('events')
@Index('ix_events_service_time', ['service', 'time'])
@Index('ix_events_type', ['type'])
export class EventEntity {
  @PrimaryGeneratedColumn() id: number;
  @Column('integer') time: number;
  @Column('text') type: string;
  @Column('text', { nullable: true }) service: string | null;
  @Column('text', { nullable: true }) pod: string | null;
  @Column('text') reason: string;
  @Column('text') message: string;
  @Column('text') explain: string;
}
