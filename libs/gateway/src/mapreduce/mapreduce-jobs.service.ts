import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CommandPatterns } from '@spindle/contracts';
import { ArtifactsQuery, MapReduceJobsQuery } from '@spindle/read-models';
import type { ArtifactView, MapReduceJobView } from '@spindle/read-models';
import {
  SPINDLE_CONFIG,
  StorageLocationError,
  ValidationProblem,
  allowedStorageLocation,
} from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { CommandSender } from '../commands/command-sender';
import type { Accepted } from '../commands/command-sender';
import { notFound, readBack } from '../read-back';
import type { MapReduceRequest } from './mapreduce-request';

export function newMapReduceJobId(): string {
  return `j-${randomUUID()}`;
}

// The use cases behind the native and Apollo MapReduce routes: a job's storage must be on an
// allowed endpoint (400 naming the field) and its programs must exist (404 naming the field); the
// scheduler's job stream decides the rest (a stop of a finished job is a 409).
@Injectable()
export class MapReduceJobs {
  constructor(
    private readonly commands: CommandSender,
    private readonly jobs: MapReduceJobsQuery,
    private readonly artifacts: ArtifactsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  checkStorage(request: Pick<MapReduceRequest, 'inputPath' | 'outputPath'>): void {
    const errors = [];
    for (const field of ['inputPath', 'outputPath'] as const) {
      try {
        allowedStorageLocation(request[field], this.config.storage.allow, field);
      } catch (e) {
        if (!(e instanceof StorageLocationError)) throw e;
        errors.push({ field, rule: 'storageUrl', message: e.message });
      }
    }
    if (errors.length > 0) throw new ValidationProblem(errors);
  }

  async program(name: string, field: string): Promise<ArtifactView> {
    const artifact = await this.artifacts.findByName(name);
    if (!artifact) throw notFound(`artifact ${name}`, field);
    return artifact;
  }

  async submit(
    request: MapReduceRequest,
    correlationId: string,
    id = newMapReduceJobId(),
  ): Promise<MapReduceJobView> {
    this.checkStorage(request);
    const mapper = await this.program(request.mapper, 'mapper');
    const reducer = request.reducer === null ? null : await this.program(request.reducer, 'reducer');
    const command = {
      id,
      protocol: request.protocol,
      inputPath: request.inputPath,
      outputPath: request.outputPath,
      nReducers: request.nReducers,
      splitSize: request.splitSize,
      taskTimeoutMs: request.taskTimeoutMs,
      mapper: { artifact: mapper.name, sha256: mapper.sha256 },
      reducer: reducer && { artifact: reducer.name, sha256: reducer.sha256 },
      inputSecretId: request.inputSecret,
      outputSecretId: request.outputSecret,
    };
    const accepted = await this.commands.send(CommandPatterns.submitMapReduceJob, command, { correlationId });
    return this.readBack(id, accepted);
  }

  find(id: string): Promise<MapReduceJobView | null> {
    return this.jobs.findByName(id);
  }

  async get(id: string): Promise<MapReduceJobView> {
    const row = await this.find(id);
    if (!row) throw notFound(`MapReduce job ${id}`, 'id');
    return row;
  }

  async stop(id: string, correlationId: string, reason = 'stopped by request'): Promise<MapReduceJobView> {
    const command = { id, reason };
    const accepted = await this.commands.send(CommandPatterns.stopMapReduceJob, command, { correlationId });
    return this.readBack(id, accepted);
  }

  private readBack(id: string, accepted: Accepted): Promise<MapReduceJobView> {
    return readBack(`MapReduce job ${id}`, this.visible(accepted), () => this.jobs.findByName(id));
  }

  private visible(accepted: Accepted): Promise<boolean> {
    return this.jobs.waitForPosition(
      accepted.streamId,
      accepted.streamPosition,
      this.config.readYourWritesTimeoutMs,
    );
  }
}
