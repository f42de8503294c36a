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
  if (created.status === 201 || (await recordedThenVisible(url, created, `/api/v1/functions/${name}`)))
    return;
  throw new Error(`function ${name}: ${created.status} ${created.text}`);
}

// A fixture's write answered 503 projection-lagging is recorded, and only its read-back timed out
// (a projector busy at a suite's start); as the answer says, read again until it is visible.
async function recordedThenVisible(
  url: string,
  answer: { status: number; text: string },
  path: string,
): Promise<boolean> {
  if (answer.status !== 503 || !answer.text.includes('projection-lagging')) return false;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await http(url, 'GET', path)).status === 200) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export async function createContext(
  url: string,
  name: string,
  settings: Record<string, unknown>,
): Promise<void> {
  const created = await http(url, 'POST', '/api/v1/contexts', { name, ...settings });
  if (created.status === 201 || (await recordedThenVisible(url, created, `/api/v1/contexts/${name}`))) return;
  throw new Error(`context ${name}: ${created.status} ${created.text}`);
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

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
