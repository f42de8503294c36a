import { Injectable } from '@nestjs/common';
import { ValidationProblem } from '@spindle/platform';
import type { FieldViolation } from '@spindle/platform';
import { ArtifactsQuery, ContextsQuery } from '@spindle/read-models';

// A function names artifacts (its program and libraries, the artifact store's) and a context (the scheduler's): a register
// or change that names one that does not exist is refused, every missing one named at once. The
// artifact belongs to another service than the function's owner, so both are checked here, against
// the read models, which a client's own earlier uploads and creates are guaranteed to have reached.
@Injectable()
export class FunctionReferences {
  constructor(
    private readonly artifacts: ArtifactsQuery,
    private readonly contexts: ContextsQuery,
  ) {}

  // Only what the request names: a change keeps references already checked.
  async check(named: {
    readonly artifact?: string;
    readonly defaultContext?: string;
    readonly libraries?: readonly { readonly artifact: string }[];
  }): Promise<void> {
    const violations: FieldViolation[] = [];
    if (named.artifact !== undefined && !(await this.artifacts.findByName(named.artifact))) {
      violations.push({
        field: 'artifact',
        rule: 'exists',
        message: `artifact ${named.artifact} does not exist`,
      });
    }
    for (const [i, library] of (named.libraries ?? []).entries()) {
      if (!(await this.artifacts.findByName(library.artifact)))
        violations.push({
          field: `libraries.${i}.artifact`,
          rule: 'exists',
          message: `artifact ${library.artifact} does not exist`,
        });
    }
    if (named.defaultContext !== undefined && !(await this.contexts.findByName(named.defaultContext))) {
      violations.push({
        field: 'defaultContext',
        rule: 'exists',
        message: `context ${named.defaultContext} does not exist`,
      });
    }
    if (violations.length > 0) throw new ValidationProblem(violations);
  }
}
