import { CorrelationId, RequiresScope, SPINDLE_CONFIG, requestCorrelationId } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { Delete, Get, HttpCode, HttpStatus, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiParam, ApiQuery } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { GroupsQuery, GROUP_SORT_FIELDS } from '@spindle/read-models';
import { ArtifactUploads } from '../../artifacts/artifact-uploads.service';
import { ReadsFrom } from '../../consistency/consistent-read';
import { GroupDefinitions, groupArtifactName } from '../../groups/group-definitions.service';
import { parseGroupRequest, parseScale } from '../../groups/group-request';
import { DialectController } from '../dialect-controller';
import { ApiIlumNotFound, ApiIlumConflict, IlumErrorsFilter, ilumInvalid } from './ilum-errors.filter';
import { ILUM_FILE_FIELDS, withIlumForm } from './ilum-form';
import type { IlumFormSpec } from './ilum-form';
import { groupInfoOf, groupKindsParam, groupStatesParam, parseList } from './ilum-group-format';
import { ILUM_JOB_STATES, MAX_JOB_CONFIG_PAIRS, workerPhasesOf } from './ilum-job-format';
import { listParam, pairsParam } from './ilum-query';
import {
  ILUM_GROUP_FORM_SCHEMA,
  ILUM_GROUP_ID,
  IlumGroupIdDto,
  IlumGroupInfoDto,
  IlumGroupPageDto,
} from './ilum-group.dto';
import { IlumGroupJobs } from './ilum-group-jobs.service';
import { ILUM_PREFIX } from './ilum-prefix';
import { ApiSpringPage, offsetPageOf, springPage, springPageRequest } from './spring-page';
import type { SpringPageQuery } from './spring-page';

// The text fields of Ilum's groupCreation (its files: ILUM_FILE_FIELDS).
const GROUP_TEXT_FIELDS = [
  'name',
  'clusterName',
  'description',
  'kind',
  'tags',
  'language',
  'jobConfig',
  'pyRequirements',
  'scale',
];

const many = (name: string, description: string, values?: readonly string[]) =>
  ApiQuery({
    name,
    required: false,
    isArray: true,
    description,
    ...(values ? { enum: [...values] } : {}),
  });

@DialectController('ilum: groups', IlumErrorsFilter, `${ILUM_PREFIX}/group`)
export class IlumGroupsController {
  constructor(
    private readonly definitions: GroupDefinitions,
    private readonly groups: GroupsQuery,
    private readonly uploads: ArtifactUploads,
    private readonly groupJobs: IlumGroupJobs,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  @RequiresScope('write')
  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Creates a group of interactive workers; its files become artifacts' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: ILUM_GROUP_FORM_SCHEMA })
  @ApiOkResponse({ type: IlumGroupIdDto })
  @ApiIlumNotFound('No such cluster')
  @ApiIlumConflict('Validation failed, the name is taken, or a k8s/yarn cluster')
  async create(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IlumGroupIdDto> {
    const id = randomUUID();
    const correlationId = requestCorrelationId(request);
    const spec: IlumFormSpec = {
      form: 'groupCreation',
      textFields: GROUP_TEXT_FIELDS,
      maxFiles: 100,
      maxFields: 50,
      maxFieldBytes: 256 * 1024,
      maxFileBytes: this.config.artifacts.maxBytes,
      artifactName: (fileName) => groupArtifactName(id, fileName),
      onRefused: (stored) => this.definitions.forgetArtifacts(stored, correlationId),
    };
    return withIlumForm(request, reply, this.uploads, spec, async ({ fields, files }) => {
      const byField = Object.fromEntries(
        ILUM_FILE_FIELDS.map((field) => [
          field,
          files.filter((f) => f.field === field).map((f) => f.artifact),
        ]),
      ) as Record<(typeof ILUM_FILE_FIELDS)[number], string[]>;
      const scale = fields['scale'] === undefined || fields['scale'] === '' ? 1 : parseScale(fields['scale']);
      if (typeof scale !== 'number') throw ilumInvalid(`${scale.field}: ${scale.message}`);
      const parsed = parseGroupRequest({
        name: fields['name'],
        clusterName: fields['clusterName'] || undefined,
        description: fields['description'],
        kind: fields['kind'] || undefined,
        language: fields['language'] || undefined,
        tags: pairsParam('tags', fields['tags']),
        jobConfig: pairsParam('jobConfig', fields['jobConfig'], MAX_JOB_CONFIG_PAIRS),
        pyRequirements: parseList(fields['pyRequirements']),
        ...byField,
        scale,
      });
      if (!parsed.ok) throw ilumInvalid(parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
      const uploaded = new Set(files.map((f) => f.artifact));
      await this.definitions.checkReferences(parsed.request, { uploaded });
      const row = await this.definitions.create(parsed.request, { correlationId }, id);
      return { groupId: row.id };
    });
  }

  @Get()
  @ReadsFrom('groups')
  @ApiOperation({ summary: 'Returns a page of existing groups' })
  @many('groupStates', 'The group states to keep', ['ACTIVE', 'ARCHIVED'])
  @many('groupKinds', 'The group kinds to keep', ['JOB', 'CODE'])
  @many(
    'jobStates',
    'Keeps the groups with an interactive job (a worker) in one of these states',
    ILUM_JOB_STATES,
  )
  @many('clusterNames', 'The cluster names to keep')
  @ApiQuery({ name: 'tags', required: false, description: 'key1=value1;key2=value2: all must match' })
  @ApiSpringPage(GROUP_SORT_FIELDS, 'name, description', 'createdTime,desc')
  @ApiOkResponse({ type: IlumGroupPageDto })
  @ApiIlumConflict('A malformed filter, page, size or sort')
  async list(@Query() query: SpringPageQuery & Record<string, unknown>): Promise<IlumGroupPageDto> {
    const request = springPageRequest(query, GROUP_SORT_FIELDS);
    const jobStates = listParam(query, 'jobStates', ILUM_JOB_STATES);
    const { rows, total } = await this.groups.page({
      // The groups with a worker in one of these states (SUBMITTED, FAILED, UNKNOWN: no worker is).
      ...(jobStates === undefined ? {} : { workerPhases: workerPhasesOf(jobStates) }),
      ...offsetPageOf(request),
      states: groupStatesParam(query),
      kinds: groupKindsParam(query),
      clusterNames: listParam(query, 'clusterNames') ?? [],
      // Sent twice, tags are read as one list of pairs: every one must match.
      tags: pairsParam(
        'tags',
        [query['tags']]
          .flat()
          .filter((t) => typeof t === 'string')
          .join(';'),
      ),
    });
    return springPage(request, rows, total, (row) => groupInfoOf(row) as IlumGroupInfoDto);
  }

  @Get('name/:groupName')
  @ReadsFrom('groups', 'workers')
  @ApiOperation({ summary: 'Returns a group found by its name' })
  @ApiParam({ name: 'groupName', description: 'The unique name of a group' })
  @ApiOkResponse({ type: IlumGroupInfoDto })
  @ApiIlumNotFound('No such group')
  async byName(@Param('groupName') name: string): Promise<IlumGroupInfoDto> {
    const group = await this.definitions.findByName(name);
    return groupInfoOf(group, await this.groupJobs.workersOf(group));
  }

  @Get(':groupId')
  @ReadsFrom('groups', 'workers')
  @ApiOperation({ summary: 'Returns a group found by its id' })
  @ApiParam(ILUM_GROUP_ID)
  @ApiOkResponse({ type: IlumGroupInfoDto })
  @ApiIlumNotFound('No such group')
  async get(@Param('groupId') id: string): Promise<IlumGroupInfoDto> {
    const group = await this.definitions.findById(id);
    return groupInfoOf(group, await this.groupJobs.workersOf(group));
  }

  @RequiresScope('write')
  @Delete(':groupId')
  @ReadsFrom('groups')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Deletes a group (its workers stop) and the files uploaded with it' })
  @ApiParam(ILUM_GROUP_ID)
  @ApiOkResponse({ description: 'Operation succeeded (empty body)' })
  @ApiIlumNotFound('No such group')
  async remove(@Param('groupId') id: string, @CorrelationId() correlationId: string): Promise<void> {
    await this.definitions.remove(await this.definitions.findById(id), correlationId);
  }

  @RequiresScope('write')
  @Post(':groupId/stop')
  @ReadsFrom('groups')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Stops a group: ARCHIVED, with its archivedTime; its workers stop' })
  @ApiParam(ILUM_GROUP_ID)
  @ApiOkResponse({ description: 'Operation succeeded (empty body)' })
  @ApiIlumNotFound('No such group')
  async stop(@Param('groupId') id: string, @CorrelationId() correlationId: string): Promise<void> {
    await this.definitions.stop(await this.definitions.findById(id), correlationId);
  }

  @RequiresScope('write')
  @Post(':groupId/rescale/:scale')
  @ReadsFrom('groups')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Changes the number of workers of a group (absolute)' })
  @ApiParam(ILUM_GROUP_ID)
  @ApiParam({ name: 'scale', description: 'The number of workers, 1 to 64', schema: { type: 'integer' } })
  @ApiOkResponse({ description: 'Operation succeeded (empty body)' })
  @ApiIlumNotFound('No such group')
  @ApiIlumConflict('A scale out of range, or a stopped group')
  async rescale(
    @Param('groupId') id: string,
    @Param('scale') raw: string,
    @CorrelationId() correlationId: string,
  ): Promise<void> {
    const scale = parseScale(raw);
    if (typeof scale !== 'number') throw ilumInvalid(`${scale.field}: ${scale.message}`);
    await this.definitions.rescale(await this.definitions.findById(id), scale, correlationId);
  }
}
