import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What the reconciler knows about a service beyond its spec: status, rollout and autoscaler state (JSON). */
@Entity('controller_state')
export class ControllerStateEntity {
  @PrimaryColumn('text') service: string;
  @Column('text', { nullable: true }) status: string | null;
  @Column('text', { nullable: true }) rollout: string | null;
  @Column('text', { nullable: true }) autoscale: string | null;
}
