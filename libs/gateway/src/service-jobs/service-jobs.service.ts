import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { CommandPatterns, mergeSecretRefs } from '@spindle/contracts';
import type { SecretRef, ServiceTaskGroup } from '@spindle/contracts';
import { ProblemException, SPINDLE_CONFIG, ValidationProblem } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { FunctionsQuery, ServiceJobsQuery } from '@spindle/read-models';
import type { ServiceJobView } from '@spindle/read-models';
import { CommandSender } from '../commands/command-sender';
import type { Accepted } from '../commands/command-sender';
import { awaitVisible, notFound, readBack } from '../read-back';

export interface TaskGroupRequest {
  readonly name: string;
  readonly function: string;
  readonly args?: Record<string, unknown>;
  readonly secrets?: readonly SecretRef[]; // added to the function's
  readonly countInit: number;
  readonly countMax: number;
}

export type ScaleMode = 'absolute' | 'delta';

// Service jobs for the native API and Genvid's alike: each write is a command to the scheduler,
// answered with the job as the read model has it once it shows the change (read your writes).
@Injectable()
export class ServiceJobsService {
  constructor(
    private readonly commands: CommandSender,
    private readonly jobs: ServiceJobsQuery,
    private readonly functions: FunctionsQuery,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  find(name: string): Promise<ServiceJobView | null> {
    return this.jobs.findByName(name);
  }

  async get(name: string): Promise<ServiceJobView> {
    const row = await this.jobs.findByName(name);
    if (!row) throw notFound(`service job ${name}`, 'name');
    return row;
  }

  // Each group's function is resolved now to the exact program its instances run, as a job submit is.
  async create(
    name: string,
    groups: readonly TaskGroupRequest[],
    idempotencyKey?: string,
  ): Promise<ServiceJobView> {
    const taskGroups = await Promise.all(groups.map((g, i) => this.resolve(g, `taskGroups.${i}.function`)));
    const accepted = await this.commands.send(
      CommandPatterns.createServiceJob,
      { name, taskGroups },
      idempotencyKey,
    );
    return this.readBack(name, accepted);
  }

  async start(name: string, expectedVersion?: number): Promise<ServiceJobView> {
    return this.byName(CommandPatterns.startServiceJob, name, expectedVersion);
  }

  async stop(name: string, expectedVersion?: number): Promise<ServiceJobView> {
    return this.byName(CommandPatterns.stopServiceJob, name, expectedVersion);
  }

  async remove(name: string, expectedVersion?: number): Promise<void> {
    const accepted = await this.commands.send(CommandPatterns.deleteServiceJob, {
      name,
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
    });
    await awaitVisible(`service job ${name}`, this.visible(accepted));
  }

  async scale(
    name: string,
    taskGroup: string,
    mode: ScaleMode,
    count: number,
    expectedVersion?: number,
  ): Promise<ServiceJobView> {
    const accepted = await this.commands.send(CommandPatterns.scaleServiceJob, {
      name,
      taskGroup,
      mode,
      count,
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
    });
    return this.readBack(name, accepted);
  }

  private async byName(pattern: string, name: string, expectedVersion?: number): Promise<ServiceJobView> {
    const accepted = await this.commands.send(pattern, {
      name,
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
    });
    return this.readBack(name, accepted);
  }

  private async resolve(group: TaskGroupRequest, field: string): Promise<ServiceTaskGroup> {
    const [fn, target] = await Promise.all([
      this.functions.findByName(group.function),
      this.functions.findSubmitTarget(group.function, undefined),
    ]);
    if (!fn || !target)
      throw new ValidationProblem([
        { field, rule: 'exists', message: `function ${group.function} does not exist` },
      ]);
    if (!target.contextExists)
      throw new ValidationProblem([
        {
          field,
          rule: 'exists',
          message: `context ${target.context} of function ${group.function} does not exist`,
        },
      ]);
    if (!target.artifactSha256)
      throw new ProblemException(
        HttpStatus.CONFLICT,
        'conflict',
        'Conflict',
        `artifact ${target.artifact} of function ${group.function} does not exist`,
        [{ field, rule: 'exists', message: `artifact ${target.artifact} does not exist` }],
      );
    // The function's secrets as of now, and the group's added to them: references only.
    const secrets = mergeSecretRefs(fn.secrets, group.secrets);
    return {
      name: group.name,
      function: fn.name,
      context: target.context,
      args: group.args ?? {},
      program: {
        artifact: target.artifact,
        sha256: target.artifactSha256,
        entrypoint: fn.entrypoint,
        runtime: fn.runtime,
      },
      countInit: group.countInit,
      countMax: group.countMax,
      ...(secrets.length > 0 ? { secrets } : {}),
    };
  }

  private visible(accepted: Accepted): Promise<boolean> {
    return this.jobs.waitForPosition(
      accepted.streamId,
      accepted.streamPosition,
      this.config.readYourWritesTimeoutMs,
    );
  }

  private readBack(name: string, accepted: Accepted): Promise<ServiceJobView> {
    return readBack(`service job ${name}`, this.visible(accepted), () => this.jobs.findByName(name));
  }
}
