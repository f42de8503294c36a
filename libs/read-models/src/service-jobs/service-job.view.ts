import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ServiceJobStatus, ServiceJobStatusName } from '@spindle/contracts';

// One row per service job stream: its status and the job folded as its owner folds it (groups,
// counts, live instances, ended ones counted). Deleted jobs keep a tombstone.
@Entity({ name: 'service_jobs_v1' })
export class ServiceJobView {
  @PrimaryColumn('text', { name: 'stream_id' })
  streamId!: string;

  @Column('integer', { name: 'stream_position' })
  streamPosition!: number;

  @Index('service_jobs_v1_name', { unique: true })
  @Column('text')
  name!: string;

  @Column('text')
  status!: ServiceJobStatusName;

  @Column('jsonb')
  job!: ServiceJobStatus;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;
}
