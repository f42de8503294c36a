import { Delete, Get, HttpStatus, Inject, Param, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CommandPatterns, JOB_ID_PATTERN } from '@spindle/contracts';
import { CorrelationId, RequiresScope, SPINDLE_CONFIG, parseDuration } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { JobsQuery, WorkersQuery } from '@spindle/read-models';
import type { WorkerView } from '@spindle/read-models';
import { CommandSender } from '../commands/command-sender';
import { JobDto, JobPageDto } from '../jobs/job.dto';
import { PageQueryDto, pageOf, uuidCursorAfter } from '../pagination.dto';
import { notFound, readBack } from '../read-back';
import {
  DEFAULT_STOP_TIMEOUT,
  StopWorkerQueryDto,
  WorkerDto,
  WorkerListQueryDto,
  WorkerPageDto,
} from './worker.dto';
import { ReadsFrom } from '../consistency/consistent-read';
import { GetRoute, ListRoute, ResourceController } from '../resources/resource-routes';
import type { ResourceRoutes } from '../resources/resource-routes';

const WORKERS: ResourceRoutes = {
  tag: 'workers',
  path: 'api/v1/workers',
  noun: 'worker',
  key: { name: 'id', description: 'Worker id', example: '0193a5b2-7c20-7f00-8000-1234567890ab' },
  readModel: 'workers',
  dto: WorkerDto,
  pageDto: WorkerPageDto,
};

@ResourceController(WORKERS)
export class WorkersController {
  constructor(
    private readonly commands: CommandSender,
    private readonly workers: WorkersQuery,
    private readonly jobs: JobsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  @ListRoute(WORKERS, 'List workers, newest first')
  async list(@Query() query: WorkerListQueryDto): Promise<WorkerPageDto> {
    const page = await this.workers.list(query.limit, uuidCursorAfter(query.cursor), {
      states: query.state,
      context: query.context,
    });
    const [hosts, running] = await Promise.all([
      this.workers.hosts(page.items.map((w) => w.hostId)),
      this.jobs.countActiveOn(page.items.map((w) => w.id)),
    ]);
    return pageOf(page, (w) => WorkerDto.from(w, hosts.get(w.hostId), running.get(w.id) ?? 0));
  }

  @GetRoute(WORKERS, 'Get a worker: context, host, pid, state, running jobs, heartbeat')
  async get(@Param('id') id: string): Promise<WorkerDto> {
    return this.toDto(await this.find(id));
  }

  @RequiresScope('write')
  @Delete(':id')
  @ApiOperation({
    summary: 'Stop a worker gracefully',
    description:
      'The worker becomes `stopping` at once and takes no new job (jobs of its context go to another ' +
      'worker). The jobs running on it go on to their end; those still running after `timeout` (default ' +
      '60 s) are cancelled. Then its process ends and it is `stopped`. Stopping again changes nothing.',
  })
  @ApiParam(WORKERS.key)
  @ApiAcceptedResponse({ type: WorkerDto, description: 'The worker, now `stopping` (or already stopped)' })
  @ApiBadRequestResponse({ description: 'The timeout is not a duration from 0 to about 24.8 days, or Inf' })
  @ApiNotFoundResponse({ description: 'No such worker' })
  async stop(
    @Param('id') id: string,
    @Query() query: StopWorkerQueryDto,
    @CorrelationId() correlationId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WorkerDto> {
    await this.find(id);
    const graceMs = parseDuration(query.timeout ?? DEFAULT_STOP_TIMEOUT)!;
    const accepted = await this.commands.send(CommandPatterns.stopWorker, { id, graceMs }, { correlationId });
    void reply.status(HttpStatus.ACCEPTED);
    return readBack(
      `worker ${id}`,
      this.workers.waitForPosition(id, accepted.streamPosition, this.config.readYourWritesTimeoutMs),
      async () => {
        const row = await this.workers.findById(id);
        return row && this.toDto(row);
      },
    );
  }

  @Get(':id/jobs')
  @ReadsFrom('workers', 'jobs')
  @ApiOperation({ summary: 'Jobs placed on a worker, newest first' })
  @ApiParam(WORKERS.key)
  @ApiOkResponse({ type: JobPageDto })
  @ApiNotFoundResponse({ description: 'No such worker' })
  async jobsOf(@Param('id') id: string, @Query() query: PageQueryDto): Promise<JobPageDto> {
    await this.find(id);
    const page = await this.jobs.list({ workerId: id }, query.limit, uuidCursorAfter(query.cursor));
    return pageOf(page, (row) => JobDto.from(row));
  }

  private async find(id: string): Promise<WorkerView> {
    const row = JOB_ID_PATTERN.test(id) ? await this.workers.findById(id) : null;
    if (!row) throw notFound(`worker ${id}`);
    return row;
  }

  private async toDto(row: WorkerView): Promise<WorkerDto> {
    const [hosts, running] = await Promise.all([
      this.workers.hosts([row.hostId]),
      this.jobs.countActiveOn([row.id]),
    ]);
    return WorkerDto.from(row, hosts.get(row.hostId), running.get(row.id) ?? 0);
  }
}
