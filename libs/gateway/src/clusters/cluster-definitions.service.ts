import { createHash, randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { CommandPatterns, clusterSecretId, clusterSecretKey } from '@spindle/contracts';
import { ClustersQuery } from '@spindle/read-models';
import type { ClusterView } from '@spindle/read-models';
import { ProblemException } from '@spindle/platform';
import { CommandSender } from '../commands/command-sender';
import type { Issued } from '../commands/command-sender';
import { NamedResources } from '../resources/named-resource';
import type { NamedResource } from '../resources/named-resource';
import { SecretsClient } from '../secrets/secrets.client';
import type { Caller } from '../secrets/secrets.client';
import type { ClusterRequest } from './cluster-request';

// A cluster's own secret (its storage keys) is written and forgotten by this service, as an
// effect of a cluster's create or delete, which the key guard audits with the key that asked.
const clustersCaller = (correlationId: string): Caller => ({
  principal: 'clusters',
  source: 'clusters',
  correlationId,
});

// Clusters as their routes name them: by id (a 404 names `clusterId`); each API shows them its own
// way.
export function clustersById<TDto>(
  resources: NamedResources,
  clusters: ClustersQuery,
  toDto: (row: ClusterView) => TDto,
): NamedResource<ClusterView, TDto> {
  return resources.of({
    kind: 'cluster',
    field: 'clusterId',
    path: '/api/v1/clusters',
    query: clusters,
    find: (id) => clusters.findById(id),
    toDto,
  });
}

// The use cases behind both the native and the Ilum cluster routes: credentials go to the secrets
// service under `cluster-<id>` before the cluster is recorded with only that reference; a delete
// is refused while anything uses the cluster, and removes the secret after the cluster.
@Injectable()
export class ClusterDefinitions {
  private readonly logger = new Logger('clusters');
  private readonly rows: NamedResource<ClusterView, ClusterView>;

  constructor(
    private readonly commands: CommandSender,
    private readonly clusters: ClustersQuery,
    private readonly secrets: SecretsClient,
    resources: NamedResources,
  ) {
    this.rows = clustersById(resources, clusters, (row) => row);
  }

  // With an Idempotency-Key the cluster's id comes from the key (when the request names none), so
  // a retry is the same command, which the owner answers with its first answer; the name and id
  // checks are left to the owner too. The credentials are written only while no cluster has that id:
  // a retry never writes them again, and a key reused for another request (a 400) never replaces
  // those of the cluster it made.
  async create(request: ClusterRequest, issued: Issued): Promise<ClusterView> {
    const { idempotencyKey } = issued;
    const id = request.id ?? (idempotencyKey === undefined ? randomUUID() : idFromKey(idempotencyKey));
    const retryable = idempotencyKey !== undefined;
    if (!retryable && request.id !== undefined && (await this.clusters.idEverUsed(id))) {
      throw new ProblemException(HttpStatus.CONFLICT, 'conflict', 'Conflict', `cluster id ${id} is taken`, [
        { field: 'id', rule: 'conflict', message: `cluster id ${id} is taken` },
      ]);
    }
    if (!retryable && (await this.clusters.findByName(request.name))) {
      const message = `cluster ${request.name} already exists`;
      throw new ProblemException(HttpStatus.CONFLICT, 'conflict', 'Conflict', message, [
        { field: 'name', rule: 'conflict', message },
      ]);
    }
    const secretFields = [...request.secrets.keys()];
    const secretId = secretFields.length > 0 ? clusterSecretId(id) : null;
    const caller = clustersCaller(issued.correlationId);
    const writesSecret = secretId !== null && !(retryable && (await this.clusters.idEverUsed(id)));
    if (writesSecret) {
      const values = Object.fromEntries(
        secretFields.map((f, i) => [clusterSecretKey(i), request.secrets.get(f)!]),
      );
      await this.secrets.write(secretId, values, caller);
    }
    let accepted;
    try {
      accepted = await this.commands.send(
        CommandPatterns.createCluster,
        {
          id,
          name: request.name,
          type: request.type,
          definition: request.definition,
          secretId,
          secretFields,
        },
        issued,
      );
    } catch (e) {
      // Refused (a name taken meanwhile): the credentials it brought are not kept.
      if (writesSecret) await this.forgetSecret(secretId, caller);
      throw e;
    }
    return this.rows.readBack(request.name, accepted);
  }

  findById(id: string): Promise<ClusterView> {
    return this.rows.require(id);
  }

  async remove(view: ClusterView, correlationId: string): Promise<void> {
    const users = await this.clusters.usersOf(view.name);
    if (users.length > 0) {
      const message = `cluster ${view.name} is used by ${users.join(', ')}`;
      throw new ProblemException(HttpStatus.CONFLICT, 'conflict', 'Conflict', message, [
        { field: 'clusterId', rule: 'inUse', message },
      ]);
    }
    const accepted = await this.commands.send(
      CommandPatterns.deleteCluster,
      { name: view.name },
      { correlationId },
    );
    await this.rows.applied(view.name, accepted);
    if (view.secretId !== null) await this.forgetSecret(view.secretId, clustersCaller(correlationId));
  }

  private async forgetSecret(secretId: string, caller: Caller): Promise<void> {
    try {
      await this.secrets.remove(secretId, caller);
    } catch (e) {
      this.logger.warn(`could not remove secret ${secretId}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

// A cluster id named by an Idempotency-Key: the same key, the same id (a UUID's shape).
function idFromKey(key: string): string {
  const hex = createHash('sha256').update(`cluster:${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
