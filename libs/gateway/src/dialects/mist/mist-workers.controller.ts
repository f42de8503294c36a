import { Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { CommandPatterns, JOB_ID_PATTERN } from '@spindle/contracts';
import { ContextsQuery, WorkersQuery } from '@spindle/read-models';
import type { WorkerView } from '@spindle/read-models';
import { CommandSender } from '../../commands/command-sender';
import { MistJobList } from './mist-job-list.service';
import { workerLink } from './mist-format';
import { MistErrorsFilter, mistNotFound } from './mist-errors.filter';
import { MIST_PREFIX } from './mist-query';
import { ReadsFrom } from '../../consistency/consistent-read';
import { DialectController } from '../dialect-controller';
import { CorrelationId, RequiresScope } from '@spindle/platform';

// Mist's workers: live ones only, as WorkerLink.
@DialectController('mist: workers', MistErrorsFilter, `${MIST_PREFIX}/workers`)
export class MistWorkersController {
  constructor(
    private readonly workers: WorkersQuery,
    private readonly contexts: ContextsQuery,
    private readonly commands: CommandSender,
    private readonly jobs: MistJobList,
  ) {}

  @Get()
  @ReadsFrom('workers')
  @ApiOperation({ summary: 'Live workers (WorkerLink)' })
  async list(): Promise<Record<string, unknown>[]> {
    const live: WorkerView[] = [];
    for (let after: string | null = null; ;) {
      const page = await this.workers.list(500, after, { states: ['starting', 'running', 'stopping'] });
      live.push(...page.items);
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    return Promise.all(live.map((w) => this.link(w)));
  }

  @Get(':id')
  @ReadsFrom('workers')
  @ApiOperation({ summary: 'One worker (WorkerLink)' })
  async get(@Param('id') id: string): Promise<Record<string, unknown>> {
    return this.link(await this.find(id));
  }

  @RequiresScope('write')
  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a worker' })
  async stop(@Param('id') id: string, @CorrelationId() correlationId: string): Promise<string> {
    await this.find(id);
    await this.commands.send(CommandPatterns.stopWorker, { id }, { correlationId });
    return '';
  }

  @Get(':id/jobs')
  @ReadsFrom('workers', 'jobs')
  @ApiOperation({ summary: 'Jobs that ran on a worker' })
  async jobsOf(@Param('id') id: string, @Query() query: Record<string, unknown>): Promise<unknown> {
    await this.find(id);
    return this.jobs.list({ workerId: id }, query);
  }

  private async find(id: string): Promise<WorkerView> {
    const row = JOB_ID_PATTERN.test(id) ? await this.workers.findById(id) : null;
    if (!row) throw mistNotFound(`Worker ${id} not found`);
    return row;
  }

  private async link(worker: WorkerView): Promise<Record<string, unknown>> {
    const [context, hosts] = await Promise.all([
      this.contexts.findByName(worker.context),
      this.workers.hosts([worker.hostId]),
    ]);
    return workerLink(worker, context, hosts.get(worker.hostId)?.hostname ?? null);
  }
}
