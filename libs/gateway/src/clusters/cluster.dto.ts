import { ApiProperty } from '@nestjs/swagger';
import { CLUSTER_TYPES, REDACTED, STORAGE_TYPES } from '@spindle/contracts';
import type { ClusterType } from '@spindle/contracts';
import type { ClusterView } from '@spindle/read-models';
import { sparkMasterOf } from './cluster-info';

// The body of a create, for the OpenAPI document (validated by cluster-request.ts).
export const CLUSTER_REQUEST_SCHEMA = {
  type: 'object',
  required: ['name', 'type'],
  description:
    "Common fields, then the type's own: local `threads`; k8s `url` (required), `caCert`, `clientCert`, " +
    '`clientKey`, `clientKeyAlgorithm`, `clientKeyPassphrase`, `username`, `password`; yarn `url` and the ' +
    "same (deprecated) credentials. Credentials (`password`, `clientKey`, `clientKeyPassphrase`, a storage's " +
    '`accessKey`, `secretKey`, `privateKey`, `privateKeyId`, `keyTab`) are kept by the secrets service and ' +
    `read back as "${REDACTED}".`,
  properties: {
    id: { type: 'string', description: 'Chosen by the server when left out', example: 'prod-k8s-1' },
    name: { type: 'string', example: 'prod-k8s' },
    type: { type: 'string', enum: [...CLUSTER_TYPES], example: 'k8s' },
    description: { type: 'string' },
    threads: { type: 'integer', minimum: 1, maximum: 1024, description: 'local only' },
    url: { type: 'string', example: 'https://k8s.example:6443' },
    caCert: { type: 'string' },
    clientCert: { type: 'string' },
    clientKey: { type: 'string', writeOnly: true },
    clientKeyAlgorithm: { type: 'string' },
    clientKeyPassphrase: { type: 'string', writeOnly: true },
    username: { type: 'string' },
    password: { type: 'string', writeOnly: true },
    sparkStorage: { type: 'string', description: 'Name of one of `storages`' },
    defaultApplicationConfig: { type: 'string' },
    storages: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { type: 'string', enum: [...STORAGE_TYPES] },
          sparkBucket: { type: 'string' },
          dataBucket: { type: 'string' },
        },
        additionalProperties: { type: 'string' },
      },
    },
  },
};

export class ClusterDto {
  @ApiProperty({ example: '2f6c1f0e-4b7a-4c61-9d2a-7b1c9e0d5a10' }) id!: string;
  @ApiProperty({ example: 'prod-k8s' }) name!: string;
  @ApiProperty({ enum: CLUSTER_TYPES, example: 'k8s' }) type!: ClusterType;
  @ApiProperty({ example: '' }) description!: string;
  @ApiProperty({ example: 'k8s://https://k8s.example:6443' }) sparkMaster!: string;
  @ApiProperty({ example: 'cluster' }) sparkDeployMode!: string;
  @ApiProperty({ nullable: true, type: String }) sparkStorage!: string | null;
  @ApiProperty({ nullable: true, type: String }) defaultApplicationConfig!: string | null;
  @ApiProperty({ description: "The type's own settings (threads, url, caCert...), without credentials" })
  settings!: Record<string, string | number>;
  @ApiProperty({ description: `Storages by name; their credentials read "${REDACTED}"` })
  storages!: Record<string, Record<string, string>>;
  @ApiProperty({
    type: [String],
    description:
      'Where credentials were given (`password`, `storages.lake.secretKey`); values are never returned',
  })
  credentials!: string[];
  @ApiProperty({ nullable: true, type: String, description: 'The secret that holds them' })
  secretId!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;

  static from(view: ClusterView): ClusterDto {
    const storages: Record<string, Record<string, string>> = {};
    for (const [name, fields] of Object.entries(view.definition.storages)) storages[name] = { ...fields };
    for (const path of view.secretFields) {
      const [root, storage, field] = path.split('.');
      if (root === 'storages' && storage && field && storages[storage]) storages[storage][field] = REDACTED;
    }
    return {
      id: view.id,
      name: view.name,
      type: view.type,
      description: view.definition.description,
      ...sparkMasterOf(view),
      sparkStorage: view.definition.sparkStorage,
      defaultApplicationConfig: view.definition.defaultApplicationConfig,
      settings: view.definition.settings,
      storages,
      credentials: view.secretFields,
      secretId: view.secretId,
      createdAt: view.createdAt.toISOString(),
    };
  }
}

export class ClusterPageDto {
  @ApiProperty({ type: [ClusterDto] }) items!: ClusterDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last',
  })
  nextCursor!: string | null;
}
