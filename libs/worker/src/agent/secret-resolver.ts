import { CORRELATION_ID_HEADER, SECRETS_INTERNAL_BASE } from '@spindle/contracts';
import type { ResolveSecretsBody, ResolvedSecrets, SecretRef } from '@spindle/contracts';
import { internalHeaders } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';

// A job's secrets, fetched from the secrets service over its internal route when the job starts
// (never through Kafka or a read model): the variables for that job's process only, kept in
// memory no longer than its start takes.
export class SecretResolver {
  constructor(
    private readonly config: SpindleConfig,
    private readonly hostId: string,
  ) {}

  async resolve(jobId: string, refs: readonly SecretRef[]): Promise<Record<string, string>> {
    if (refs.length === 0) return {};
    const body: ResolveSecretsBody = { jobId, hostId: this.hostId, refs: [...refs] };
    let response: Response;
    try {
      response = await fetch(`${this.config.urls.secrets}${SECRETS_INTERNAL_BASE}/resolve`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [CORRELATION_ID_HEADER]: jobId,
          ...internalHeaders(this.config),
        },
        body: JSON.stringify(body),
      });
    } catch (e) {
      throw new Error(`its secrets could not be fetched: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!response.ok) {
      // The service's refusal names the id or key (never a value): the job's error says it.
      const problem = (await response.json().catch(() => ({}))) as { detail?: string };
      throw new Error(`its secrets could not be fetched: ${problem.detail ?? `HTTP ${response.status}`}`);
    }
    return { ...((await response.json()) as ResolvedSecrets).env };
  }
}
