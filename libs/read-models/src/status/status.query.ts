import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { In, IsNull, MoreThanOrEqual, Not } from 'typeorm';
import type { DataSource, EntityTarget, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import { UNFINISHED_JOB_STATES } from '@spindle/contracts';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { ArtifactView } from '../artifacts/artifact.view';
import { ContextView } from '../contexts/context.view';
import { FunctionView } from '../functions/function.view';
import { JobView } from '../jobs/job.view';
import { HostView, WorkerView } from '../workers/worker.view';

// Live entities in the read models, as the status page shows them.
export interface InstallationCounts {
  readonly contexts: number;
  readonly functions: number;
  readonly artifacts: number;
  readonly activeJobs: number; // not finished: queued or placed
  readonly workers: number; // not stopped
  readonly hosts: number; // not taken for gone: heard within the silence they are allowed
}

// What the status page reads: the database's own version and how many of each entity are live.
@Injectable()
export class StatusQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  async serverVersion(): Promise<string> {
    const [row] = await this.dataSource.query<{ version: string }[]>(
      "select current_setting('server_version') as version",
    );
    return row?.version ?? 'unknown';
  }

  async counts(now = new Date()): Promise<InstallationCounts> {
    const live = { deletedAt: IsNull() };
    const [contexts, functions, artifacts, activeJobs, workers, hosts] = await Promise.all([
      this.count(ContextView, live),
      this.count(FunctionView, live),
      this.count(ArtifactView, live),
      this.count(JobView, { state: In([...UNFINISHED_JOB_STATES]) }),
      this.count(WorkerView, { state: Not('stopped') }),
      this.count(HostView, { heardUntil: MoreThanOrEqual(now) }),
    ]);
    return { contexts, functions, artifacts, activeJobs, workers, hosts };
  }

  private count<T extends ObjectLiteral>(
    entity: EntityTarget<T>,
    where: FindOptionsWhere<T>,
  ): Promise<number> {
    return this.dataSource.getRepository(entity).countBy(where);
  }
}
