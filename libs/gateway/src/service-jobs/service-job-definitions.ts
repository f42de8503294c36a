import { HttpStatus, Injectable } from '@nestjs/common';
import { mergeSecretRefs } from '@spindle/contracts';
import type { SecretRef, ServiceTaskGroup } from '@spindle/contracts';
import { ProblemException, ValidationProblem } from '@spindle/platform';
import { FunctionsQuery, targetArtifactsOf } from '@spindle/read-models';

export interface TaskGroupRequest {
  readonly name: string;
  readonly function: string;
  readonly args?: Record<string, unknown>;
  readonly secrets?: readonly SecretRef[]; // added to the function's
  readonly countInit: number;
  readonly countMax: number;
}

// What a service job's definition means before it is sent: each group's function resolved now to
// the exact program its instances run, and the secrets they get, as a job submit is. The routes
// themselves (native and Genvid's) are NamedResources over the service jobs read model.
@Injectable()
export class ServiceJobDefinitions {
  constructor(private readonly functions: FunctionsQuery) {}

  resolve(groups: readonly TaskGroupRequest[]): Promise<ServiceTaskGroup[]> {
    return Promise.all(groups.map((g, i) => this.resolveGroup(g, `taskGroups.${i}.function`)));
  }

  private async resolveGroup(group: TaskGroupRequest, field: string): Promise<ServiceTaskGroup> {
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
    const artifacts = targetArtifactsOf(target);
    if ('missing' in artifacts)
      throw new ProblemException(
        HttpStatus.CONFLICT,
        'conflict',
        'Conflict',
        `artifact ${artifacts.missing} of function ${group.function} does not exist`,
        [{ field, rule: 'exists', message: `artifact ${artifacts.missing} does not exist` }],
      );
    // The function's secrets as of now, and the group's added to them: references only.
    const secrets = mergeSecretRefs(fn.secrets, group.secrets);
    return {
      name: group.name,
      function: fn.name,
      context: target.context,
      args: group.args ?? {},
      program: {
        artifact: artifacts.artifact,
        sha256: artifacts.sha256,
        entrypoint: fn.entrypoint,
        runtime: fn.runtime,
        ...(artifacts.libraries.length > 0 ? { libraries: [...artifacts.libraries] } : {}),
      },
      countInit: group.countInit,
      countMax: group.countMax,
      ...(secrets.length > 0 ? { secrets } : {}),
    };
  }
}
