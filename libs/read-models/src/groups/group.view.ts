import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { GroupDefinition, GroupKind, GroupLanguage, GroupState } from '@spindle/contracts';

// One row per group stream (keyed by name). The filters and sorts of Ilum's group list are
// columns of their own, indexed (see the migration); the rest of the definition stays as recorded.
// Deleted groups keep a tombstone.
@Entity({ name: 'groups_v1' })
export class GroupView {
  @PrimaryColumn('text', { name: 'stream_id' })
  streamId!: string;

  @Column('integer', { name: 'stream_position' })
  streamPosition!: number;

  @Index('groups_v1_id')
  @Column('text')
  id!: string;

  @Index('groups_v1_name', { unique: true })
  @Column('text')
  name!: string;

  @Column('text', { name: 'cluster_name' })
  clusterName!: string;

  @Column('text')
  description!: string;

  @Column('text')
  kind!: GroupKind;

  @Column('text')
  language!: GroupLanguage;

  @Column('jsonb')
  tags!: Record<string, string>;

  @Column('integer')
  scale!: number;

  @Column('text')
  state!: GroupState;

  @Column('jsonb')
  definition!: GroupDefinition;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'archived_at', nullable: true })
  archivedAt!: Date | null;

  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;
}
