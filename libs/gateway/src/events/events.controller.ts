import { Controller, Get, Headers, Param, Query, Req, Res } from '@nestjs/common';
import {
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsArray, IsIn, IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FINISHED_JOB_STATES } from '@spindle/contracts';
import { RequiresScope, IsOmittable } from '@spindle/platform';
import { FeedQuery, JobsQuery } from '@spindle/read-models';
import type { FeedEntryView } from '@spindle/read-models';
import { JOB_ID_PARAM, findJob } from '../jobs/jobs.controller';
import { StreamSlots } from '../auth/stream-slots';
import { FeedHub } from './feed-hub';
import { resumePoint, streamFeed } from './sse-stream';
import type { FeedStreamEnding, SseMessage } from './sse-stream';

const toArray = ({ value }: { value: unknown }) =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

export class EventStreamQueryDto {
  @ApiPropertyOptional({
    enum: ['job', 'worker'],
    isArray: true,
    description: 'Only job or only worker changes',
  })
  @IsOmittable()
  @Transform(toArray)
  @IsArray()
  @IsIn(['job', 'worker'], { each: true, message: 'each kind must be job or worker' })
  kind?: ('job' | 'worker')[];

  @ApiPropertyOptional({
    isArray: true,
    type: String,
    description: 'Only these event types, e.g. JobSucceeded',
  })
  @IsOmittable()
  @Transform(toArray)
  @IsArray()
  @Matches(/^[A-Z][A-Za-z]{1,63}$/, { each: true, message: 'each type must be an event type name' })
  type?: string[];

  @ApiPropertyOptional({ description: 'Only changes of jobs in (and workers of) this context' })
  @IsOmittable()
  @IsString()
  @MaxLength(128)
  context?: string;

  @ApiPropertyOptional({ description: 'Only changes of jobs of this function' })
  @IsOmittable()
  @IsString()
  @MaxLength(128)
  function?: string;

  @ApiPropertyOptional({ description: 'Only changes of this worker and the jobs placed on it' })
  @IsOmittable()
  @IsString()
  @MaxLength(64)
  worker?: string;

  @ApiPropertyOptional({ description: 'Resume after this event id (the same as the Last-Event-ID header)' })
  @IsOmittable()
  @Matches(/^\d{1,19}$/, { message: 'lastEventId must be an event id from this stream' })
  lastEventId?: string;
}

const SSE_DESCRIPTION =
  'Server-Sent Events. Each event: `id` (resume with the Last-Event-ID header or `lastEventId`), `event` ' +
  '(the change, e.g. JobStarted, JobSucceeded, WorkerStopped) and `data`, a JSON object ' +
  '`{kind, type, id, state, context, function, workerId, occurredAt, data}`. A comment line every 15 s keeps ' +
  'idle connections open.';

const SSE_EXAMPLE =
  'id: 1042\nevent: JobSucceeded\ndata: ' +
  JSON.stringify({
    kind: 'job',
    type: 'JobSucceeded',
    id: '0193a5b2-7c1e-7f00-8000-1234567890ab',
    state: 'succeeded',
    context: 'default',
    function: 'sum',
    workerId: '0193a5b2-7c20-7f00-8000-1234567890ab',
    occurredAt: '2026-12-01T10:00:00.456Z',
    data: { id: '0193a5b2-7c1e-7f00-8000-1234567890ab', log: { lines: 1, bytes: 11 }, result: 3 },
  }) +
  '\n\n';
const SSE_CONTENT = { 'text/event-stream': { schema: { type: 'string' }, example: SSE_EXAMPLE } };

// Live job and worker changes as Server-Sent Events, resumable: every event carries its feed
// sequence number as id, and a client that reconnects with Last-Event-ID gets what it missed.
@ApiTags('events')
@RequiresScope('read')
@Controller('api/v1')
export class EventsController {
  constructor(
    private readonly hub: FeedHub,
    private readonly feed: FeedQuery,
    private readonly jobs: JobsQuery,
    private readonly slots: StreamSlots,
  ) {}

  @Get('events')
  @ApiOperation({ summary: 'Stream job and worker changes (SSE)', description: SSE_DESCRIPTION })
  @ApiOkResponse({ description: 'An endless event stream', content: SSE_CONTENT })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' })
  async all(
    @Query() query: EventStreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const after = resumePoint(lastEventId, query.lastEventId);
    await this.stream(request, reply, after, (e) => matches(e, query));
  }

  @Get('jobs/:id/events')
  @ApiOperation({
    summary: "Stream one job's changes (SSE)",
    description: `${SSE_DESCRIPTION} Starts with the job's history and ends after it finishes.`,
  })
  @ApiParam(JOB_ID_PARAM)
  @ApiOkResponse({ description: "The job's events, until it ends", content: SSE_CONTENT })
  @ApiNotFoundResponse({ description: 'No such job' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id' })
  async ofJob(
    @Param('id') id: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Query('lastEventId') lastEventIdQuery: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await findJob(this.jobs, id);
    const after = resumePoint(lastEventId, lastEventIdQuery) ?? '0';
    await this.stream(request, reply, after, (e) => e.kind === 'job' && e.subjectId === id, {
      last: (e) => FINISHED_JOB_STATES.includes(e.state as never),
      history: (from) => this.feed.after(from, 1_000, id),
      // Resumed at or past its final event: nothing more will come.
      over: () => this.endedBy(id, after),
    });
  }

  // True when the job has finished and its last event is at or before `seq`. Its row and its
  // final feed entry commit together, so a finished row means that entry is there to compare.
  private async endedBy(id: string, seq: string): Promise<boolean> {
    const job = await this.jobs.findById(id);
    if (!job || !FINISHED_JOB_STATES.includes(job.state)) return false;
    const last = await this.feed.lastSeqOf(id);
    return last === null || BigInt(last) <= BigInt(seq);
  }

  private stream(
    request: FastifyRequest,
    reply: FastifyReply,
    after: string | null,
    wanted: (entry: FeedEntryView) => boolean,
    ending: FeedStreamEnding = {},
  ): Promise<void> {
    this.slots.hold(request);
    return streamFeed(
      this.hub,
      request,
      reply,
      after,
      (entry) => (wanted(entry) ? messageOf(entry) : null),
      ending,
    );
  }
}

function matches(entry: FeedEntryView, query: EventStreamQueryDto): boolean {
  if (query.kind && !query.kind.includes(entry.kind)) return false;
  if (query.type && !query.type.includes(entry.type)) return false;
  if (query.context !== undefined && entry.context !== query.context) return false;
  if (query.function !== undefined && entry.function !== query.function) return false;
  if (query.worker !== undefined && entry.workerId !== query.worker) return false;
  return true;
}

function messageOf(entry: FeedEntryView): SseMessage {
  return { id: entry.seq, event: entry.type, data: payloadOf(entry) };
}

function payloadOf(entry: FeedEntryView): Record<string, unknown> {
  return {
    kind: entry.kind,
    type: entry.type,
    id: entry.subjectId,
    state: entry.state,
    context: entry.context,
    function: entry.function,
    workerId: entry.workerId,
    occurredAt: entry.occurredAt.toISOString(),
    data: entry.data,
  };
}
