import { http } from './http';
import { AUTH } from './auth';

// Helpers for suites that run jobs end to end.
export async function upload(url: string, name: string, content: string): Promise<void> {
  const form = new FormData();
  form.append('file', new Blob([content]), name);
  const response = await fetch(`${url}/api/v1/artifacts?force=true`, {
    method: 'POST',
    body: form,
    headers: AUTH,
  });
  if (response.status !== 201) throw new Error(`upload ${name}: ${response.status} ${await response.text()}`);
}

export async function registerFunction(
  url: string,
  name: string,
  artifact: string,
  runtime: string,
  entrypoint = '',
  defaultContext = 'default',
): Promise<void> {
  const created = await http(url, 'POST', '/api/v1/functions', {
    name,
    artifact,
    runtime,
    entrypoint,
    defaultContext,
  });
  if (created.status !== 201) throw new Error(`function ${name}: ${created.status} ${created.text}`);
}

export async function createContext(
  url: string,
  name: string,
  settings: Record<string, unknown>,
): Promise<void> {
  const created = await http(url, 'POST', '/api/v1/contexts', { name, ...settings });
  if (created.status !== 201) throw new Error(`context ${name}: ${created.status} ${created.text}`);
}

export interface Job {
  id: string;
  state: string;
  result: unknown;
  error: string | null;
  pid: number | null;
  workerId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  logLines: number | null;
}

export async function submit(url: string, fn: string, body: Record<string, unknown>): Promise<Job> {
  const response = await http<Job>(url, 'POST', `/api/v1/functions/${fn}/jobs`, body);
  if (response.status !== 202) throw new Error(`submit ${fn}: ${response.status} ${response.text}`);
  return response.body;
}

const FINISHED = ['succeeded', 'failed', 'cancelled', 'timed_out'];

export async function waitForState(
  url: string,
  id: string,
  states: readonly string[] = FINISHED,
  timeoutMs = 30_000,
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await http<Job>(url, 'GET', `/api/v1/jobs/${id}`)).body;
    if (states.includes(job.state)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${id} still ${job.state} after ${timeoutMs} ms: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { processAlive } from '@spindle/testing';
