import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ApiScope } from '@spindle/contracts';

// One row per API key stream. The verifier is what a presented key is checked against; it never
// leaves the gateway (list and read answers omit it). Revoked keys keep their row.
@Entity({ name: 'api_keys_v1' })
export class ApiKeyView {
  @PrimaryColumn('text', { name: 'stream_id' })
  streamId!: string;

  @Column('integer', { name: 'stream_position' })
  streamPosition!: number;

  @Column('text', { name: 'key_id', unique: true })
  keyId!: string;

  @Column('text')
  name!: string;

  @Column('jsonb')
  scopes!: ApiScope[];

  @Column('text')
  verifier!: string;

  @Column('timestamptz', { name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;
}
