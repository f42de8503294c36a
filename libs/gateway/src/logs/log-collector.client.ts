import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { FINISHED_JOB_STATES } from '@spindle/contracts';
import type { JobState, LogStream } from '@spindle/contracts';
import { internalHeaders, ProblemException, SPINDLE_CONFIG, ValidationProblem } from '@spindle/platform';
import type { ProblemDetails, SpindleConfig } from '@spindle/platform';

// A finished job's last lines may still be on their way to the collector: wait this long for them.
export const COMPLETE_WAIT_MS = 5_000;

export interface LogLineItem {
  line: number;
  offset: number;
  at: string;
  stream: LogStream;
  text: string;
}

export interface LogLinePage {
  items: LogLineItem[];
  from: number;
  next: number;
}

// Reads job logs from the log-collector, which owns them, over its internal HTTP routes.
@Injectable()
export class LogCollectorClient {
  constructor(@Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig) {}

  async stats(jobId: string): Promise<{ lines: number; bytes: number }> {
    return (await this.json(`${enc(jobId)}/stats`)) as { lines: number; bytes: number };
  }

  async lines(jobId: string, from: number, size: number): Promise<LogLinePage> {
    return (await this.json(`${enc(jobId)}/lines?from=${from}&size=${size}`)) as LogLinePage;
  }

  // A finished job says how many lines it wrote; wait (at most `waitMs`) until the collector holds
  // them all, so a read right after the end sees the whole log. False while the job runs.
  async awaitComplete(
    job: { readonly id: string; readonly state: JobState; readonly logLines: number | null },
    waitMs = COMPLETE_WAIT_MS,
  ): Promise<boolean> {
    if (!FINISHED_JOB_STATES.includes(job.state)) return false;
    const expected = job.logLines ?? 0;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const stats = await this.stats(job.id);
      if (stats.lines >= expected) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async tail(jobId: string, size: number): Promise<LogLinePage> {
    return (await this.json(`${enc(jobId)}/lines?tail=${size}`)) as LogLinePage;
  }

  async bytes(
    jobId: string,
    offset: number,
    origin: 'start' | 'end',
    max: number,
    stream?: LogStream,
  ): Promise<{ text: Buffer; offset: number; totalBytes: number }> {
    const only = stream ? `&stream=${stream}` : '';
    const response = await this.call(
      `${enc(jobId)}/bytes?offset=${offset}&origin=${origin}&max=${max}${only}`,
    );
    return {
      text: Buffer.from(await response.arrayBuffer()),
      offset: Number(response.headers.get('x-log-offset') ?? offset),
      totalBytes: Number(response.headers.get('x-log-total-bytes') ?? 0),
    };
  }

  async text(jobId: string): Promise<Readable> {
    const response = await this.call(`${enc(jobId)}/text`);
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  }

  private async json(path: string): Promise<unknown> {
    return (await this.call(path)).json();
  }

  private async call(path: string): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.config.urls.logCollector}/internal/v1/logs/${path}`, {
        headers: internalHeaders(this.config),
      });
    } catch (e) {
      throw unavailable(e instanceof Error ? e.message : String(e));
    }
    if (isRefusal(response.status)) throw await refusal(response);
    if (!response.ok || !response.body)
      throw unavailable(`it answered ${response.status}: ${await response.text()}`);
    return response;
  }
}

// The collector refused what the request asked for (a value out of its range): the client's
// problem, not an outage. 401/403 are its guard refusing the gateway itself: an outage.
function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 401 && status !== 403;
}

async function refusal(response: Response): Promise<ProblemException> {
  const text = await response.text();
  let problem: Partial<Pick<ProblemDetails, 'detail' | 'errors'>> = {};
  try {
    problem = JSON.parse(text) as typeof problem;
  } catch {
    problem = { detail: text };
  }
  return problem.errors?.length
    ? new ValidationProblem(problem.errors)
    : new ProblemException(
        HttpStatus.BAD_REQUEST,
        'validation',
        'Request validation failed',
        `the log-collector refused the request: ${problem.detail ?? response.status}`,
      );
}

const enc = encodeURIComponent;

function unavailable(detail: string): ProblemException {
  return new ProblemException(
    HttpStatus.SERVICE_UNAVAILABLE,
    'owner-unavailable',
    'Service Unavailable',
    `the log-collector is not reachable: ${detail}`,
  );
}
