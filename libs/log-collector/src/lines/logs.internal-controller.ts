import { Controller, Get, Param, ParseIntPipe, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { InternalRoute, ValidationProblem } from '@spindle/platform';
import { LogLinesStore } from './log-lines.store';
import type { LinePage } from './log-lines.store';

const MAX_LINES = 25_000;
const MAX_BYTES = 16 * 1024 * 1024;

// The log-collector's own HTTP surface, for the gateway (not part of the public API).
@ApiExcludeController()
@InternalRoute()
@Controller('internal/v1/logs')
export class LogsInternalController {
  constructor(private readonly store: LogLinesStore) {}

  @Get(':jobId/stats')
  stats(@Param('jobId') jobId: string): Promise<{ lines: number; bytes: number }> {
    return this.store.stats(jobId);
  }

  @Get(':jobId/lines')
  lines(
    @Param('jobId') jobId: string,
    @Query('from') from: string | undefined,
    @Query('size') size: string | undefined,
    @Query('tail') tail: string | undefined,
  ): Promise<LinePage> {
    if (tail !== undefined) return this.store.tail(jobId, bounded('tail', tail, 1, MAX_LINES));
    return this.store.lines(
      jobId,
      bounded('from', from ?? '1', 1, 2 ** 31 - 1),
      bounded('size', size ?? '100', 1, MAX_LINES),
    );
  }

  @Get(':jobId/bytes')
  async bytes(
    @Param('jobId') jobId: string,
    @Query('offset', ParseIntPipe) offset: number,
    @Query('origin') origin: string | undefined,
    @Query('max') max: string | undefined,
    @Query('stream') stream: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (stream !== undefined && stream !== 'stdout' && stream !== 'stderr')
      throw new ValidationProblem([
        { field: 'stream', rule: 'isIn', message: 'stream must be stdout or stderr' },
      ]);
    if (origin !== undefined && origin !== 'start' && origin !== 'end')
      throw new ValidationProblem([
        { field: 'origin', rule: 'isIn', message: 'origin must be start or end' },
      ]);
    const slice = await this.store.bytes(
      jobId,
      bounded('offset', String(offset), 0, Number.MAX_SAFE_INTEGER),
      origin ?? 'start',
      bounded('max', max ?? String(1024 * 1024), 1, MAX_BYTES),
      stream,
    );
    void reply
      .header('content-type', 'text/plain; charset=utf-8')
      .header('x-log-offset', String(slice.offset))
      .header('x-log-total-bytes', String(slice.totalBytes))
      .send(slice.text);
  }

  @Get(':jobId/text')
  text(@Param('jobId') jobId: string, @Res() reply: FastifyReply): void {
    void reply.header('content-type', 'text/plain; charset=utf-8').send(this.store.text(jobId));
  }
}

function bounded(field: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new ValidationProblem([
      { field, rule: 'range', message: `${field} must be an integer from ${min} to ${max}` },
    ]);
  return n;
}
