import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CommandPatterns, clusterExecutorRefusal } from '@spindle/contracts';
import { ArtifactsQuery, ClustersQuery, FunctionsQuery, GroupsQuery } from '@spindle/read-models';
import type { FunctionView, GroupView } from '@spindle/read-models';
import { ProblemException, SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { ArtifactStoreClient } from '../artifacts/artifact-store.client';
import { CommandSender } from '../commands/command-sender';
import type { Accepted } from '../commands/command-sender';
import { awaitVisible, notFound, readBack } from '../read-back';
import { functionRows } from '../functions/function-rows';
import { NamedResources } from '../resources/named-resource';
import type { NamedResource } from '../resources/named-resource';
import type { GroupRequest } from './group-request';

// The artifacts a group brought with it (Ilum's form uploads) are named after it, and go with it.
export function groupArtifactName(groupId: string, fileName: string): string {
  return `group-${groupId}-${fileName}`;
}

function conflict(field: string, rule: string, message: string): ProblemException {
  return new ProblemException(HttpStatus.CONFLICT, 'conflict', 'Conflict', message, [
    { field, rule, message },
  ]);
}

// The use cases behind both the native and the Ilum group routes. A group must name a cluster that
// exists (404) and that Spindle can run work on (409), and programs that exist; the scheduler's
// group stream decides the rest (a taken name, a stopped group).
@Injectable()
export class GroupDefinitions {
  private readonly logger = new Logger('groups');
  private readonly functionResource: NamedResource<FunctionView, FunctionView>;

  constructor(
    private readonly commands: CommandSender,
    private readonly groups: GroupsQuery,
    private readonly clusters: ClustersQuery,
    private readonly artifacts: ArtifactsQuery,
    private readonly functions: FunctionsQuery,
    private readonly artifactStore: ArtifactStoreClient,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
    resources: NamedResources,
  ) {
    this.functionResource = functionRows(resources, functions);
  }

  // Checks what the group refers to; the caller may then store its uploads and create it. A create
  // with an Idempotency-Key leaves a taken name to the owner, which answers a retry with its first
  // answer rather than a conflict.
  async checkReferences(
    request: GroupRequest,
    options: { readonly uploaded?: ReadonlySet<string>; readonly retryable?: boolean } = {},
  ): Promise<void> {
    const uploaded = options.uploaded ?? new Set<string>();
    const { clusterName } = request.definition;
    const cluster = await this.clusters.findByName(clusterName);
    if (!cluster) throw notFound(`cluster ${clusterName}`, 'clusterName');
    const refusal = clusterExecutorRefusal(cluster.name, cluster.type);
    if (refusal !== null) throw conflict('clusterName', 'executable', refusal);
    if (!options.retryable && (await this.groups.findByName(request.name)))
      throw conflict('name', 'unique', `group ${request.name} already exists`);
    const { jars, files, pyFiles } = request.definition;
    for (const [field, names] of Object.entries({ jars, files, pyFiles })) {
      for (const name of names) {
        if (!uploaded.has(name) && !(await this.artifacts.findByName(name)))
          throw notFound(`artifact ${name}`, field);
      }
    }
  }

  async create(request: GroupRequest, id = randomUUID(), idempotencyKey?: string): Promise<GroupView> {
    const accepted = await this.commands.send(
      CommandPatterns.createGroup,
      { id, name: request.name, scale: request.scale, definition: request.definition },
      idempotencyKey,
    );
    return this.readBack(request.name, accepted);
  }

  async findById(id: string): Promise<GroupView> {
    const row = await this.groups.findById(id);
    if (!row) throw notFound(`group ${id}`, 'groupId');
    return row;
  }

  async findByName(name: string): Promise<GroupView> {
    const row = await this.groups.findByName(name);
    if (!row) throw notFound(`group ${name}`, 'groupName');
    return row;
  }

  async rescale(group: GroupView, scale: number): Promise<GroupView> {
    const accepted = await this.commands.send(CommandPatterns.rescaleGroup, { name: group.name, scale });
    return this.readBack(group.name, accepted);
  }

  async stop(group: GroupView): Promise<GroupView> {
    const accepted = await this.commands.send(CommandPatterns.stopGroup, { name: group.name });
    return this.readBack(group.name, accepted);
  }

  async remove(group: GroupView): Promise<void> {
    const accepted = await this.commands.send(CommandPatterns.deleteGroup, { name: group.name });
    await awaitVisible(`group ${group.name}`, this.visible(accepted));
    await this.forgetFunctions(group);
    // Everything named after the group is its own: its uploads, and what its requests brought (a
    // CODE group's session program).
    const prefix = groupArtifactName(group.id, '');
    const owned: string[] = [];
    for (let after: string | null = null; ;) {
      const page = await this.artifacts.list(100, after, (q) =>
        q.andWhere('starts_with(v.name, :prefix)', { prefix }),
      );
      owned.push(...page.items.map((a) => a.name));
      if ((after = page.nextCursor) === null) break;
    }
    await this.forgetArtifacts(owned);
  }

  // The functions its requests ran as (`group-<id>-<jobClass>`, `group-<id>--code`), so that its
  // uploads may go too.
  private async forgetFunctions(group: GroupView): Promise<void> {
    const prefix = groupArtifactName(group.id, '');
    for (;;) {
      const page = await this.functions.list(100, null, (q) =>
        q.andWhere('starts_with(v.name, :prefix)', { prefix }),
      );
      for (const fn of page.items)
        await this.functionResource.remove(CommandPatterns.deleteFunction, fn.name);
      if (page.nextCursor === null) return;
    }
  }

  // Uploads of a group that was refused, or of one deleted: nothing else refers to them.
  async forgetArtifacts(names: readonly string[]): Promise<void> {
    for (const name of names) {
      try {
        await this.artifactStore.remove(name);
      } catch (e) {
        this.logger.warn(`could not remove artifact ${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private visible(accepted: Accepted): Promise<boolean> {
    return this.groups.waitForPosition(
      accepted.streamId,
      accepted.streamPosition,
      this.config.readYourWritesTimeoutMs,
    );
  }

  private readBack(name: string, accepted: Accepted): Promise<GroupView> {
    return readBack(`group ${name}`, this.visible(accepted), () => this.groups.findByName(name));
  }
}
