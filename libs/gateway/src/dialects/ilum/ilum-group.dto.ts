import { ApiProperty } from '@nestjs/swagger';
import { GROUP_KINDS, GROUP_LANGUAGES, GROUP_STATES } from '@spindle/contracts';
import { SpringPageDto } from './spring-page';

// The path parameter that names a group.
export const ILUM_GROUP_ID = { name: 'groupId', description: 'The unique identifier of a group' };

export class IlumGroupIdDto {
  @ApiProperty({ example: '0193a5b2-7c1e-7f00-8000-c0ffee000050' }) groupId!: string;
}

// Ilum's groupInfo.
export class IlumGroupInfoDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: GROUP_KINDS }) kind!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { team: 'data' } })
  tags!: Record<string, string>;
  @ApiProperty({ enum: GROUP_LANGUAGES }) language!: string;
  @ApiProperty({ example: 'default' }) clusterName!: string;
  @ApiProperty({ enum: GROUP_STATES }) state!: string;
  @ApiProperty({ example: 2 }) scale!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) jobConfig!: Record<
    string,
    string
  >;
  @ApiProperty({ description: 'Epoch milliseconds' }) createdTime!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Epoch milliseconds; null while ACTIVE' })
  archivedTime!: number | null;
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: "The group's workers as jobInfo (empty until group execution is built)",
  })
  jobs!: unknown[];
}

export class IlumGroupPageDto extends SpringPageDto {
  @ApiProperty({ type: [IlumGroupInfoDto] }) content!: IlumGroupInfoDto[];
}

// The multipart groupCreation, for the OpenAPI document (read by ilum-form.ts).
export const ILUM_GROUP_FORM_SCHEMA = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    kind: { type: 'string', enum: [...GROUP_KINDS], default: 'JOB' },
    tags: { type: 'string', example: 'key=value;key2=value2' },
    language: {
      type: 'string',
      enum: [...GROUP_LANGUAGES],
      default: 'SCALA',
      description: "NODE is Spindle's",
    },
    clusterName: { type: 'string', default: 'default' },
    jars: { type: 'array', items: { type: 'string', format: 'binary' } },
    files: { type: 'array', items: { type: 'string', format: 'binary' } },
    pyFiles: { type: 'array', items: { type: 'string', format: 'binary' } },
    jobConfig: { type: 'string', example: 'spark.key=value;spark.key2=value2' },
    pyRequirements: { type: 'string', example: 'pandas==2.0.0;numpy==1.0.0' },
    scale: { type: 'string', default: '1', description: 'Integer count of workers (1 to 64)' },
  },
};
