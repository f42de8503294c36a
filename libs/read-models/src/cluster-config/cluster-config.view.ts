import { Column, Entity, PrimaryColumn } from 'typeorm';

// One row per cluster-config stream (log-catalogue, loggers, event-rules): its document in force.
@Entity({ name: 'cluster_config_v1' })
export class ClusterConfigView {
  @PrimaryColumn('text', { name: 'stream_id' })
  streamId!: string;

  @Column('integer', { name: 'stream_position' })
  streamPosition!: number;

  @Column('jsonb')
  document!: unknown;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;
}
