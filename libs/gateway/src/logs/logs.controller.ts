import { Controller, Get, Headers, Param, Query, Req, Res } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, Max, Min } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FINISHED_JOB_STATES } from '@spindle/contracts';
import { JobsQuery, SettingsQuery } from '@spindle/read-models';
import type { JobView } from '@spindle/read-models';
import { JOB_ID_PARAM, findJob } from '../jobs/jobs.controller';
import { StreamSlots } from '../auth/stream-slots';
import { COMPLETE_WAIT_MS, LogCollectorClient } from './log-collector.client';
import type { LogLinePage } from './log-collector.client';
import { ReadsFrom } from '../consistency/consistent-read';
import { RequiresScope, IsOmittable } from '@spindle/platform';

export const MAX_LOG_LINES = 25_000;
// The collector numbers lines from 1 in Postgres integers; this API counts them from 0, as Livy's
// and Ilum's `from` do. Byte offsets are exact in a JS number up to 2^53 − 1.
const MAX_LINE_OFFSET = 2_147_483_646;
const MAX_BYTE_OFFSET = Number.MAX_SAFE_INTEGER;
const DEFAULT_TAIL = 100;
const FOLLOW_POLL_MS = 200;

export class LogQueryDto {
  @ApiPropertyOptional({
    description:
      'Offset of the first line to return: 0 is the first line of the log. Without it: the last `size` lines',
    minimum: 0,
    maximum: MAX_LINE_OFFSET,
    example: 0,
  })
  @IsOmittable()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_LINE_OFFSET)
  from?: number;

  @ApiPropertyOptional({
    description: 'How many lines',
    minimum: 1,
    maximum: MAX_LOG_LINES,
    default: DEFAULT_TAIL,
  })
  @IsOmittable()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LOG_LINES)
  size?: number;

  @ApiPropertyOptional({
    description:
      'Byte mode: serve the log text from this byte (origin=start) or its last this many bytes (origin=end)',
    minimum: 0,
    maximum: MAX_BYTE_OFFSET,
  })
  @IsOmittable()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_BYTE_OFFSET)
  offset?: number;

  @ApiPropertyOptional({ enum: ['start', 'end'], default: 'start' })
  @IsOmittable()
  @IsIn(['start', 'end'], { message: 'origin must be start or end' })
  origin?: 'start' | 'end';

  @ApiPropertyOptional({
    description: 'Stream the text as it is written, until the job ends',
    default: false,
  })
  @IsOmittable()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'follow must be true or false' })
  follow?: boolean;

  @ApiPropertyOptional({
    enum: ['json', 'text'],
    description: 'Or send Accept: text/plain for the whole text',
  })
  @IsOmittable()
  @IsIn(['json', 'text'], { message: 'format must be json or text' })
  format?: 'json' | 'text';
}

export class LogLineDto {
  @ApiProperty({ description: 'Offset of the line: 0 is the first line of the log', example: 0 })
  line!: number;
  @ApiProperty({ description: 'Byte offset of the line in the log text', example: 0 }) offset!: number;
  @ApiProperty({ format: 'date-time', example: '2026-12-01T10:00:00.123Z' }) at!: string;
  @ApiProperty({ enum: ['stdout', 'stderr', 'system'], example: 'stdout' }) stream!: string;
  @ApiProperty({ example: 'adding 1 2' }) text!: string;
}

export class LogPageDto {
  @ApiProperty({ type: [LogLineDto] }) items!: LogLineDto[];
  @ApiProperty({ description: 'Offset of the first item (or where it would be), from 0', example: 0 })
  from!: number;
  @ApiProperty({ description: 'Pass as `from` to continue', example: 1 }) next!: number;
  @ApiProperty({ description: 'Lines stored so far', example: 1 }) totalLines!: number;
  @ApiProperty({ description: 'Bytes stored so far', example: 11 }) totalBytes!: number;
  @ApiProperty({ description: 'True once the job has ended and every line of it is stored', example: true })
  complete!: boolean;
}

const LOG_PAGE_EXAMPLE: LogPageDto = {
  items: [{ line: 0, offset: 0, at: '2026-12-01T10:00:00.123Z', stream: 'stdout', text: 'adding 1 2' }],
  from: 0,
  next: 1,
  totalLines: 1,
  totalBytes: 11,
  complete: true,
};

@ApiTags('jobs')
@RequiresScope('read')
@Controller('api/v1/jobs')
export class LogsController {
  constructor(
    private readonly jobs: JobsQuery,
    private readonly logs: LogCollectorClient,
    private readonly settings: SettingsQuery,
    private readonly slots: StreamSlots,
  ) {}

  @Get(':id/logs')
  @ReadsFrom('jobs')
  @ApiOperation({
    summary: "Read a job's log: by lines, by bytes, whole, or following it",
    description:
      'JSON pages of lines (`from`, a 0-based line offset, and `size`; default the last 100 lines, at most ' +
      '25 000 per call, or the `logs.maxPageLines` setting; pages from 0 by `next` read every line once, in order); ' +
      '`offset` + `origin` for byte ranges of the text; `Accept: text/plain` (or `format=text`) for the whole ' +
      'text; `follow=true` streams the text until the job ends. Every line is its text and a "\\n".',
  })
  @ApiParam(JOB_ID_PARAM)
  @ApiExtraModels(LogPageDto)
  @ApiOkResponse({
    description: 'A page of lines (JSON), or text: whole, a byte range, or followed',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(LogPageDto) }, example: LOG_PAGE_EXAMPLE },
      'text/plain': { schema: { type: 'string' }, example: 'adding 1 2\n' },
    },
  })
  @ApiNotFoundResponse({ description: 'No such job' })
  async read(
    @Param('id') id: string,
    @Query() query: LogQueryDto,
    @Headers('accept') accept: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const job = await findJob(this.jobs, id);
    if (query.follow) return this.follow(job, request, reply);
    const complete = await this.logs.awaitComplete(job);
    if (query.offset !== undefined) {
      const slice = await this.logs.bytes(id, query.offset, query.origin ?? 'start', 16 * 1024 * 1024);
      void reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('x-log-offset', String(slice.offset))
        .header('x-log-total-bytes', String(slice.totalBytes))
        .send(slice.text);
      return;
    }
    const wantsText = query.format === 'text' || (query.format === undefined && prefersText(accept));
    if (wantsText && query.from === undefined && query.size === undefined) {
      void reply.header('content-type', 'text/plain; charset=utf-8').send(await this.logs.text(id));
      return;
    }
    // The settings' page bound applies as they are now (`logs.maxPageLines`).
    const size = Math.min(query.size ?? DEFAULT_TAIL, (await this.settings.current()).logs.maxPageLines);
    const page = fromZero(
      query.from === undefined
        ? await this.logs.tail(id, size)
        : await this.logs.lines(id, query.from + 1, size),
    );
    const stats = await this.logs.stats(id);
    if (wantsText) {
      void reply
        .header('content-type', 'text/plain; charset=utf-8')
        .send(page.items.map((l) => `${l.text}\n`).join(''));
      return;
    }
    const body: LogPageDto = {
      items: page.items,
      from: page.from,
      next: page.next,
      totalLines: stats.lines,
      totalBytes: stats.bytes,
      complete,
    };
    void reply.send(body);
  }

  // Streams lines as the collector stores them; ends once the job has ended and its last line went out.
  private async follow(job: JobView, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    this.slots.hold(request);
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
    let closed = false;
    request.raw.on('close', () => (closed = true));
    let next = 1;
    let current = job;
    try {
      while (!closed) {
        const page = await this.logs.lines(job.id, next, 5_000);
        if (page.items.length > 0) {
          out.write(page.items.map((l) => `${l.text}\n`).join(''));
          next = page.next;
          continue;
        }
        if (FINISHED_JOB_STATES.includes(current.state)) {
          if (current.logLines === null || next > current.logLines) break;
          if (Date.parse(current.updatedAt.toISOString()) + COMPLETE_WAIT_MS < Date.now()) break;
        }
        await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
        current = (await this.jobs.findById(job.id)) ?? current;
      }
    } finally {
      out.end();
    }
  }
}

// The collector's line numbers (from 1) as this API's offsets (from 0).
function fromZero(page: LogLinePage): LogLinePage {
  return {
    items: page.items.map((l) => ({ ...l, line: l.line - 1 })),
    from: page.from - 1,
    next: page.next - 1,
  };
}

function prefersText(accept: string | undefined): boolean {
  if (!accept) return false;
  const text = accept.indexOf('text/plain');
  const json = accept.indexOf('application/json');
  return text >= 0 && (json < 0 || text < json);
}
