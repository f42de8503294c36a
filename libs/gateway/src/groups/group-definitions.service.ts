import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CommandPatterns, clusterExecutorRefusal } from '@spindle/contracts';
import { ArtifactsQuery, ClustersQuery, FunctionsQuery, GroupsQuery } from '@spindle/read-models';
import type { FunctionView, GroupView } from '@spindle/read-models';
import { ProblemException } from '@spindle/platform';
import { ArtifactStoreClient } from '../artifacts/artifact-store.client';
import { CommandSender } from '../commands/command-sender';
import type { Issued } from '../commands/command-sender';
import { notFound } from '../read-back';
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

// Groups as their routes name them: by id (a 404 names `groupId`); each API shows them its own way.
export function groupsById<TDto>(
  resources: NamedResources,
  groups: GroupsQuery,
  toDto: (row: GroupView) => TDto,
): NamedResource<GroupView, TDto> {
  return resources.of({
    kind: 'group',
    field: 'groupId',
    path: '/api/v1/groups',
    query: groups,
    find: (id) => groups.findById(id),
    toDto,
  });
}

// The use cases behind both the native and the Ilum group routes. A group must name a cluster that
// exists (404) and that Spindle can run work on (409), and programs that exist; the scheduler's
// group stream decides the rest (a taken name, a stopped group).
@Injectable()
export class GroupDefinitions {
  private readonly logger = new Logger('groups');
  private readonly functionResource: NamedResource<FunctionView, FunctionView>;
  private readonly rows: NamedResource<GroupView, GroupView>;

  constructor(
    private readonly commands: CommandSender,
    private readonly groups: GroupsQuery,
    private readonly clusters: ClustersQuery,
    private readonly artifacts: ArtifactsQuery,
    private readonly functions: FunctionsQuery,
    private readonly artifactStore: ArtifactStoreClient,
    resources: NamedResources,
  ) {
    this.functionResource = functionRows(resources, functions);
    this.rows = groupsById(resources, groups, (row) => row);
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

  async create(request: GroupRequest, issued: Issued, id = randomUUID()): Promise<GroupView> {
    const accepted = await this.commands.send(
      CommandPatterns.createGroup,
      { id, name: request.name, scale: request.scale, definition: request.definition },
      issued,
    );
    return this.rows.readBack(request.name, accepted);
  }

  findById(id: string): Promise<GroupView> {
    return this.rows.require(id);
  }

  async findByName(name: string): Promise<GroupView> {
    const row = await this.groups.findByName(name);
    if (!row) throw notFound(`group ${name}`, 'groupName');
    return row;
  }

  async rescale(group: GroupView, scale: number, correlationId: string): Promise<GroupView> {
    const command = { name: group.name, scale };
    const accepted = await this.commands.send(CommandPatterns.rescaleGroup, command, { correlationId });
    return this.rows.readBack(group.name, accepted);
  }

  async stop(group: GroupView, correlationId: string): Promise<GroupView> {
    const accepted = await this.commands.send(
      CommandPatterns.stopGroup,
      { name: group.name },
      { correlationId },
    );
    return this.rows.readBack(group.name, accepted);
  }

  async remove(group: GroupView, correlationId: string): Promise<void> {
    const accepted = await this.commands.send(
      CommandPatterns.deleteGroup,
      { name: group.name },
      { correlationId },
    );
    await this.rows.applied(group.name, accepted);
    await this.forgetFunctions(group, correlationId);
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
    await this.forgetArtifacts(owned, correlationId);
  }

  // The functions its requests ran as (`group-<id>-<jobClass>`, `group-<id>--code`), so that its
  // uploads may go too.
  private async forgetFunctions(group: GroupView, correlationId: string): Promise<void> {
    const prefix = groupArtifactName(group.id, '');
    for (;;) {
      const page = await this.functions.list(100, null, (q) =>
        q.andWhere('starts_with(v.name, :prefix)', { prefix }),
      );
      for (const fn of page.items)
        await this.functionResource.remove(CommandPatterns.deleteFunction, fn.name, correlationId);
      if (page.nextCursor === null) return;
    }
  }

  // Uploads of a group that was refused, or of one deleted: nothing else refers to them.
  async forgetArtifacts(names: readonly string[], correlationId: string): Promise<void> {
    for (const name of names) {
      try {
        await this.artifactStore.remove(name, correlationId);
      } catch (e) {
        this.logger.warn(`could not remove artifact ${name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
