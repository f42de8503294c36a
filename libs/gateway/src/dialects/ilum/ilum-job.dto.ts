import { ApiProperty } from '@nestjs/swagger';
import { ILUM_JOB_STATES, ILUM_JOB_TYPES, ILUM_LANGUAGES } from './ilum-job-format';
import { SpringPageDto } from './spring-page';

const binaries = { type: 'array', items: { type: 'string', format: 'binary' } };

// Ilum's jobCreation (multipart/form-data).
export const JOB_CREATION_SCHEMA = {
  type: 'object',
  required: ['name', 'clusterName'],
  properties: {
    name: { type: 'string', example: 'nightly-report' },
    clusterName: { type: 'string', default: 'default', description: 'A local cluster (k8s and yarn: 409)' },
    tags: { type: 'string', example: 'team=etl;env=prod' },
    language: {
      type: 'string',
      enum: [...ILUM_LANGUAGES],
      default: 'SCALA',
      description: 'NODE is Spindle’s own',
    },
    jobClass: {
      type: 'string',
      description:
        'PYTHON: module or module.function (file module.py; function main by default, called as ' +
        'main(args=[...], config={...})). NODE: module or module.export (file module.js/.mjs/.cjs; the default ' +
        'export by default, called with {args, config}). SCALA: the main class of the one jar, given ' +
        '{"args":[...],"config":{...}} as its single argument',
      example: 'report.main',
    },
    jars: binaries,
    files: binaries,
    pyFiles: binaries,
    jobConfig: {
      type: 'string',
      example: 'spark.executor.memory=2g;mode=fast',
      description: 'k=v;... → config',
    },
    pyRequirements: { type: 'string', description: 'Not supported: given, it is a 409' },
    args: { type: 'string', example: 'a;b;c', description: 'a;b;c → args' },
  },
};

export class IlumJobIdDto {
  @ApiProperty({ example: '0193a5b2-7c1e-7f00-8000-1234567890ab' }) jobId!: string;
}

export class IlumJobInfoDto {
  @ApiProperty() jobId!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Always null: single jobs have no group' })
  groupId!: string | null;
  @ApiProperty() jobName!: string;
  @ApiProperty({ enum: ILUM_JOB_TYPES }) jobType!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { team: 'etl' } })
  tags!: Record<string, string>;
  @ApiProperty({ enum: ILUM_LANGUAGES, nullable: true }) language!: string | null;
  @ApiProperty() clusterName!: string;
  @ApiProperty({ nullable: true, type: String, description: 'The Spindle worker that runs it' })
  appId!: string | null;
  @ApiProperty({ enum: ILUM_JOB_STATES }) state!: string;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty({ description: 'epoch ms' }) submitTime!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'epoch ms' }) startTime!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'epoch ms' }) endTime!: number | null;
}

export class IlumJobPageDto extends SpringPageDto {
  @ApiProperty({ type: [IlumJobInfoDto] }) content!: IlumJobInfoDto[];
}

export class IlumJobResourceLogDto {
  @ApiProperty({ description: 'The worker that ran the job (or the job id before one did)' }) name!: string;
  @ApiProperty({ example: 'process' }) type!: string;
  @ApiProperty({ example: 'driver' }) role!: string;
  @ApiProperty({ enum: ILUM_JOB_STATES }) state!: string;
  @ApiProperty({ description: 'Offset of the first line, from 0' }) from!: number;
  @ApiProperty({ description: 'Lines returned' }) logSize!: number;
  @ApiProperty() fileName!: string;
  @ApiProperty({ type: [String] }) log!: string[];
}
