import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ContextSettings } from '@spindle/contracts';

// One row per context stream. Deleted contexts keep a tombstone so a late duplicate of an
// older event cannot bring them back.
@Entity({ name: 'contexts_v1' })
export class ContextView {
  @PrimaryColumn('text', { name: 'stream_id' })
  streamId!: string;

  @Column('integer', { name: 'stream_position' })
  streamPosition!: number;

  @Index('contexts_v1_name', { unique: true })
  @Column('text')
  name!: string;

  @Column('jsonb')
  settings!: ContextSettings;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt!: Date;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;
}
