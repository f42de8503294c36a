import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { FunctionLibrary, Runtime, SecretRef } from '@spindle/contracts';

// One row per function stream; deleted functions keep a tombstone.
@Entity({ name: 'functions_v1' })
export class FunctionView {
  @PrimaryColumn('text', { name: 'stream_id' }) streamId!: string;
  @Column('integer', { name: 'stream_position' }) streamPosition!: number;
  @Index('functions_v1_name', { unique: true })
  @Column('text')
  name!: string;
  @Index('functions_v1_artifact')
  @Column('text')
  artifact!: string;
  @Column('text') entrypoint!: string;
  @Column('text') runtime!: Runtime;
  @Column('text', { name: 'default_context' }) defaultContext!: string;
  @Column('jsonb') tags!: string[];
  @Column('integer', { default: 0 }) retries!: number; // jobs put back in their queue when their host dies
  @Column('jsonb', { default: () => "'[]'" }) secrets!: SecretRef[]; // references its jobs get, never values
  // Further artifacts on its jobs' program path, each with its file name there.
  @Column('jsonb', { default: () => "'[]'" }) libraries!: Required<FunctionLibrary>[];
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
  @Column('timestamptz', { name: 'deleted_at', nullable: true }) deletedAt!: Date | null;
}
