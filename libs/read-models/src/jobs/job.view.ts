import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { JobSource, JobState, JobTags, Runtime, SecretRef } from '@spindle/contracts';

const bigintNumber = {
  to: (v: number | null) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

// One row per job stream. Job ids are UUIDv7, so ordering by id is ordering by submit time.
@Entity({ name: 'jobs_v1' })
export class JobView {
  @PrimaryColumn('text', { name: 'stream_id' }) streamId!: string;
  @Column('integer', { name: 'stream_position' }) streamPosition!: number;
  @Column('uuid') id!: string;
  @Column('text') function!: string;
  @Column('text') context!: string;
  @Column('text') state!: JobState;
  @Column('jsonb') args!: Record<string, unknown>;
  // Wrapped ({value}) so that a null result and no result are told apart.
  @Column('jsonb', { nullable: true }) result!: { value: unknown } | null;
  @Column('text', { nullable: true }) error!: string | null;
  @Column('text', { name: 'worker_id', nullable: true }) workerId!: string | null;
  @Column('text', { name: 'host_id', nullable: true }) hostId!: string | null;
  @Column('integer', { nullable: true }) pid!: number | null;
  @Column('text', { name: 'external_id', nullable: true }) externalId!: string | null;
  // null for jobs recorded before sources were kept
  @Column('text', { nullable: true }) source!: JobSource | null;
  // 1, one more each time its host died and it was put back in its queue
  @Column('integer', { default: 1 }) attempt!: number;
  // the secrets its process gets, by reference (never values)
  @Column('jsonb', { default: () => "'[]'" }) secrets!: SecretRef[];
  // Its labels, when the API it came through gives them (Ilum's single jobs): null otherwise.
  @Column('text', { nullable: true }) name!: string | null;
  @Column('text', { nullable: true }) cluster!: string | null;
  @Column('jsonb', { nullable: true }) tags!: JobTags | null;
  @Column('text') artifact!: string;
  @Column('text') entrypoint!: string;
  @Column('text') runtime!: Runtime;
  @Column('integer', { name: 'start_timeout_ms', nullable: true }) startTimeoutMs!: number | null;
  @Column('integer', { name: 'perform_timeout_ms', nullable: true }) performTimeoutMs!: number | null;
  @Column('integer', { name: 'log_lines', nullable: true }) logLines!: number | null;
  @Column('bigint', { name: 'log_bytes', nullable: true, transformer: bigintNumber }) logBytes!:
    number | null;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
  // Set when the ended job was deleted (JobDeleted): Ilum's views no longer show it.
  @Column('timestamptz', { name: 'deleted_at', nullable: true }) deletedAt!: Date | null;
}
