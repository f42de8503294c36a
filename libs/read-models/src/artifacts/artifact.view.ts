import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ArtifactKind } from '@spindle/contracts';

// One row per artifact stream; a deleted artifact keeps a tombstone.
@Entity({ name: 'artifacts_v1' })
export class ArtifactView {
  @PrimaryColumn('text', { name: 'stream_id' }) streamId!: string;
  @Column('integer', { name: 'stream_position' }) streamPosition!: number;
  @Index('artifacts_v1_name', { unique: true })
  @Column('text')
  name!: string;
  @Column('text') kind!: ArtifactKind;
  @Column('bigint', { transformer: { to: (v: number) => v, from: (v: string) => Number(v) } }) size!: number;
  @Column('text') sha256!: string;
  @Column('text') sha1!: string;
  @Column('text', { name: 'content_type' }) contentType!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
  @Column('timestamptz', { name: 'deleted_at', nullable: true }) deletedAt!: Date | null;
}
