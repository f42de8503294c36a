import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';
import { GROUP_KINDS, GROUP_LANGUAGES, GROUP_STATES, MAX_GROUP_SCALE } from '@spindle/contracts';
import type { GroupKind, GroupLanguage, GroupState } from '@spindle/contracts';
import type { GroupView } from '@spindle/read-models';
import { PageQueryDto } from '../pagination.dto';
import { IsOmittable } from '@spindle/platform';

const names = (description: string) => ({ type: 'array', items: { type: 'string' }, description });
const pairs = (description: string) => ({
  type: 'object',
  additionalProperties: { type: 'string' },
  description,
});

// The body of a create, for the OpenAPI document (validated by group-request.ts).
export const GROUP_REQUEST_SCHEMA = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', example: 'analytics' },
    clusterName: { type: 'string', default: 'default', description: 'A local cluster' },
    description: { type: 'string' },
    kind: { type: 'string', enum: [...GROUP_KINDS], default: 'JOB' },
    language: { type: 'string', enum: [...GROUP_LANGUAGES], default: 'SCALA' },
    tags: pairs('Labels to filter by'),
    jobConfig: pairs('Handed to every request as its base config'),
    jars: names('Artifact names (SCALA)'),
    files: names('Artifact names'),
    pyFiles: names('Artifact names (PYTHON)'),
    pyRequirements: names('`package==version` lines'),
    scale: { type: 'integer', minimum: 1, maximum: MAX_GROUP_SCALE, default: 1 },
  },
};

export class GroupDto {
  @ApiProperty({ example: '0193a5b2-7c1e-7f00-8000-c0ffee000050' }) id!: string;
  @ApiProperty({ example: 'analytics' }) name!: string;
  @ApiProperty({ example: 'default' }) clusterName!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: GROUP_KINDS }) kind!: GroupKind;
  @ApiProperty({ enum: GROUP_LANGUAGES }) language!: GroupLanguage;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) tags!: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  jobConfig!: Record<string, string>;
  @ApiProperty({ type: [String] }) jars!: string[];
  @ApiProperty({ type: [String] }) files!: string[];
  @ApiProperty({ type: [String] }) pyFiles!: string[];
  @ApiProperty({ type: [String] }) pyRequirements!: string[];
  @ApiProperty({ example: 2, description: 'The number of workers the group keeps up' }) scale!: number;
  @ApiProperty({ enum: GROUP_STATES, description: 'ARCHIVED once stopped' }) state!: GroupState;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) archivedAt!: string | null;

  static from(view: GroupView): GroupDto {
    const { definition } = view;
    return {
      id: view.id,
      name: view.name,
      clusterName: view.clusterName,
      description: view.description,
      kind: view.kind,
      language: view.language,
      tags: view.tags,
      jobConfig: definition.jobConfig,
      jars: definition.jars,
      files: definition.files,
      pyFiles: definition.pyFiles,
      pyRequirements: definition.pyRequirements,
      scale: view.scale,
      state: view.state,
      createdAt: view.createdAt.toISOString(),
      archivedAt: view.archivedAt?.toISOString() ?? null,
    };
  }
}

export class GroupPageDto {
  @ApiProperty({ type: [GroupDto] }) items!: GroupDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last',
  })
  nextCursor!: string | null;
}

export class GroupPageQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: GROUP_STATES })
  @IsOmittable()
  @IsIn(GROUP_STATES)
  state?: GroupState;

  @ApiPropertyOptional({ enum: GROUP_KINDS })
  @IsOmittable()
  @IsIn(GROUP_KINDS)
  kind?: GroupKind;

  @ApiPropertyOptional({ example: 'default' })
  @IsOmittable()
  @IsString()
  @MaxLength(128)
  clusterName?: string;
}

export class RescaleGroupDto {
  @ApiProperty({ minimum: 1, maximum: MAX_GROUP_SCALE, example: 3 }) scale!: number;
}
