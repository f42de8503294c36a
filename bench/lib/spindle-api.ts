// The bench's own use of Spindle's public API: fixtures (artifacts, contexts, functions) and reads
// (jobs, logs, status, metrics). Load itself comes from the load generator.
export interface JobRow {
  readonly id: string;
  readonly state: string;
  readonly result: unknown;
  readonly error: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly logLines: number | null;
}

export class SpindleApi {
  constructor(readonly url: string) {}

  async json<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async text(path: string, headers: Record<string, string> = {}): Promise<string> {
    const response = await fetch(`${this.url}${path}`, { headers });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return response.text();
  }

  async upload(name: string, content: string): Promise<void> {
    const form = new FormData();
    form.append('file', new Blob([content]), name);
    const response = await fetch(`${this.url}/api/v1/artifacts?force=true`, { method: 'POST', body: form });
    if (!response.ok) throw new Error(`upload ${name}: ${response.status} ${await response.text()}`);
  }

  createContext(settings: Record<string, unknown>): Promise<unknown> {
    return this.json('POST', '/api/v1/contexts', settings);
  }

  createFunction(fn: {
    name: string;
    artifact: string;
    entrypoint: string;
    runtime: string;
    defaultContext?: string;
  }): Promise<unknown> {
    return this.json('POST', '/api/v1/functions', fn);
  }

  submit(fn: string, args: Record<string, unknown>, context?: string): Promise<JobRow> {
    return this.json('POST', `/api/v1/functions/${fn}/jobs`, { args, ...(context ? { context } : {}) });
  }

  job(id: string): Promise<JobRow> {
    return this.json('GET', `/api/v1/jobs/${id}`);
  }

  // Every job of a function, walking the keyset pages.
  async jobsOf(fn: string): Promise<JobRow[]> {
    const rows: JobRow[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: JobRow[]; nextCursor: string | null } = await this.json(
        'GET',
        `/api/v1/jobs?function=${fn}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
      );
      rows.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return rows;
  }

  // Jobs of a function not finished yet (0 when all are done).
  async activeCount(fn: string): Promise<number> {
    const page: { items: unknown[] } = await this.json(
      'GET',
      `/api/v1/jobs?function=${fn}&state=queued&state=starting&state=running&state=cancelling&limit=500`,
    );
    return page.items.length;
  }

  async waitUntil(
    what: string,
    check: () => Promise<boolean>,
    timeoutMs: number,
    everyMs = 100,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

// The jobs named by a load's acknowledged samples, once none of them is active any more, or as
// they are when `timeoutMs` runs out (a system slower than the load is measured, not failed: the
// figures count what had not finished).
export async function settledJobs(
  api: SpindleApi,
  fn: string,
  ids: ReadonlySet<string>,
  timeoutMs: number,
): Promise<JobRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    while ((await api.activeCount(fn)) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    // A submit is answered once recorded, before the read model has it: none active may also mean
    // the newest jobs are not listed yet.
    const jobs = (await api.jobsOf(fn)).filter((j) => ids.has(j.id));
    if (jobs.length >= ids.size || Date.now() >= deadline) return jobs;
    await new Promise((r) => setTimeout(r, 250));
  }
}
