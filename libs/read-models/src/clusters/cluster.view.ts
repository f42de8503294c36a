import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ClusterDefinition, ClusterType } from '@spindle/contracts';

// One row per cluster stream (keyed by name). Credentials are not here: only the id of the secret
// that holds them and the fields they were given in. Deleted clusters keep a tombstone.
@Entity({ name: 'clusters_v1' })
export class ClusterView {
  @PrimaryColumn('text', { name: 'stream_id' })
  streamId!: string;

  @Column('integer', { name: 'stream_position' })
  streamPosition!: number;

  @Index('clusters_v1_id')
  @Column('text')
  id!: string;

  @Index('clusters_v1_name', { unique: true })
  @Column('text')
  name!: string;

  @Column('text')
  type!: ClusterType;

  @Column('jsonb')
  definition!: ClusterDefinition;

  @Column('text', { name: 'secret_id', nullable: true })
  secretId!: string | null;

  @Column('jsonb', { name: 'secret_fields' })
  secretFields!: string[];

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;
}
