import { Client } from 'pg';
import { http } from '../support/http';
import { submit, waitForState } from '../support/jobs';
import { openSse, parseSse } from '../support/sse';
import type { SseEvent } from '../support/sse';
import { jobsSuite } from '../support/jobs-suite';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { AUTH } from '../support/auth';

jest.setTimeout(60_000);

// A job's events over server-sent events: one job's stream, and the change feed resumed and filtered.
describe.each(SPINDLE_MODES)('jobs API over %s', (_mode, env) => {
  const suite = jobsSuite(env);

  it('streams a job’s events over SSE until it ends, and resumes with Last-Event-ID', async () => {
    const job = await submit(suite.url, 'sum', { args: { a: 1, b: 1 } });
    const stream = await fetch(`${suite.url}/api/v1/jobs/${job.id}/events`, { headers: AUTH });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const text = await stream.text(); // ends after the job finished
    const events = parseSse(text);
    expect(events.map((e) => e.event)).toEqual(['JobSubmitted', 'JobAssigned', 'JobStarted', 'JobSucceeded']);
    expect(JSON.parse(events[3]!.data)).toMatchObject({ id: job.id, state: 'succeeded', kind: 'job' });
    const resumed = await fetch(`${suite.url}/api/v1/jobs/${job.id}/events`, {
      headers: { ...AUTH, 'last-event-id': events[1]!.id },
    });
    expect(parseSse(await resumed.text()).map((e) => e.event)).toEqual(['JobStarted', 'JobSucceeded']);
    // Resumed after its final event, a finished job's stream has nothing left: it ends at once
    // (the signal only turns a hang into a failure).
    const final = events[3]!.id;
    const resumes: [string, Record<string, string>][] = [
      ['', { 'last-event-id': final }],
      [`?lastEventId=${final}`, {}],
    ];
    for (const [query, headers] of resumes) {
      const after = await fetch(`${suite.url}/api/v1/jobs/${job.id}/events${query}`, {
        headers: { ...AUTH, ...headers },
        signal: AbortSignal.timeout(20_000),
      });
      expect(after.status).toBe(200);
      expect(parseSse(await after.text())).toEqual([]);
    }
  });

  it('records every event of a job under the correlation id of its submit, each caused by the one before', async () => {
    const submitted = await http<{ id: string }>(
      suite.url,
      'POST',
      '/api/v1/functions/sum/jobs',
      { args: { a: 4, b: 5 } },
      { 'x-correlation-id': 'order-4712' },
    );
    expect(submitted.status).toBe(202);
    const id = submitted.body.id;
    await waitForState(suite.url, id);
    const db = new Client({ connectionString: suite.databaseUrl });
    await db.connect();
    try {
      const job = await db.query<{
        event_id: string;
        type: string;
        correlation_id: string;
        causation_id: string;
      }>(
        `select event_id, type, correlation_id, causation_id from scheduler.events
         where stream_id = $1 order by stream_position`,
        [`job-${id}`],
      );
      expect(job.rows.map((e) => e.type)).toEqual([
        'JobSubmitted',
        'JobAssigned',
        'JobStarted',
        'JobSucceeded',
      ]);
      expect(job.rows.every((e) => e.correlation_id === 'order-4712')).toBe(true);
      const [submit, assign, start, end] = job.rows;
      expect(assign!.causation_id).toBe(submit!.event_id);
      // The host's reports answer the assignment, and the job's start and end answer the reports.
      const reports = await db.query<{
        event_id: string;
        type: string;
        correlation_id: string;
        causation_id: string;
      }>(
        `select event_id, type, correlation_id, causation_id from worker.events
         where data->>'jobId' = $1 order by global_position`,
        [id],
      );
      expect(reports.rows.map((r) => r.type)).toEqual(['TaskStarted', 'TaskFinished']);
      expect(reports.rows.map((r) => [r.correlation_id, r.causation_id])).toEqual([
        ['order-4712', assign!.event_id],
        ['order-4712', assign!.event_id],
      ]);
      expect([start!.causation_id, end!.causation_id]).toEqual(reports.rows.map((r) => r.event_id));
    } finally {
      await db.end();
    }
  });

  it('resumes /events after the Last-Event-ID it is given, with nothing missed or repeated', async () => {
    const stream = `${suite.url}/api/v1/events?kind=job&function=pysum`;
    const first = await openSse(stream);
    const job = await submit(suite.url, 'pysum', { args: { a: 2, b: 3 } });
    const of = (events: SseEvent[]) => events.filter((e) => JSON.parse(e.data).id === job.id);
    // The first reader sees the job up to its assignment, then loses its connection.
    const seen = of(await first.until((e) => of(e).some((x) => x.event === 'JobAssigned')));
    first.close();
    const assigned = seen.find((e) => e.event === 'JobAssigned')!;
    const second = await openSse(stream, { 'last-event-id': assigned.id });
    const rest = await second.until((e) => of(e).some((x) => x.event === 'JobSucceeded'));
    second.close();
    expect(rest.every((e) => BigInt(e.id) > BigInt(assigned.id))).toBe(true);
    expect([...seen, ...of(rest)].map((e) => e.event)).toEqual([
      'JobSubmitted',
      'JobAssigned',
      'JobStarted',
      'JobSucceeded',
    ]);
  });

  it('streams all changes on /events, filtered by function', async () => {
    const controller = new AbortController();
    const response = await fetch(`${suite.url}/api/v1/events?function=pysum&kind=job`, {
      headers: AUTH,
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const job = await submit(suite.url, 'pysum', { args: { a: 1, b: 2 } });
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('JobSucceeded')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    const events = parseSse(text);
    expect(events.every((e) => JSON.parse(e.data).function === 'pysum')).toBe(true);
    expect(events.some((e) => JSON.parse(e.data).id === job.id && e.event === 'JobSucceeded')).toBe(true);
  });
});
