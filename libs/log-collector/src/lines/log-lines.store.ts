import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import type { DataSource, EntityManager } from 'typeorm';
import { logLineBytes } from '@spindle/contracts';
import type { LogBatch, LogStream } from '@spindle/contracts';
import { LOG_COLLECTOR_CONNECTION, LOG_COLLECTOR_SCHEMA } from '../log-collector.tokens';

const t = `"${LOG_COLLECTOR_SCHEMA}".log_lines`;
const INSERT_CHUNK = 5_000;
const TEXT_CHUNK = 5_000;

export interface StoredLine {
  readonly line: number;
  readonly offset: number;
  readonly at: string;
  readonly stream: LogStream;
  readonly text: string;
}

export interface LinePage {
  readonly items: StoredLine[];
  readonly from: number;
  readonly next: number;
}

interface Row {
  line_no: number;
  byte_offset: string;
  at: Date;
  stream: LogStream;
  text: string;
}

const toLine = (r: Row): StoredLine => ({
  line: r.line_no,
  offset: Number(r.byte_offset),
  at: r.at.toISOString(),
  stream: r.stream,
  text: r.text,
});

// The log lines of jobs. Batches arrive numbered by the worker agent; a batch seen before is
// recognised by its (job, line) keys and adds nothing.
@Injectable()
export class LogLinesStore {
  constructor(@InjectDataSource(LOG_COLLECTOR_CONNECTION) private readonly dataSource: DataSource) {}

  // A delivered bus batch, stored whole or not at all: one insert (batches up to INSERT_CHUNK
  // lines, nearly all of them) is atomic on its own; more share a transaction. A transaction around
  // the one insert was two round trips more per batch.
  async append(batches: readonly LogBatch[]): Promise<void> {
    const jobIds: string[] = [];
    const lineNos: number[] = [];
    const offsets: number[] = [];
    const ats: string[] = [];
    const streams: string[] = [];
    const texts: string[] = [];
    for (const batch of batches) {
      let offset = batch.firstByte;
      batch.lines.forEach((line, i) => {
        jobIds.push(batch.jobId);
        lineNos.push(batch.firstLine + i);
        offsets.push(offset);
        ats.push(line.at);
        streams.push(line.stream);
        texts.push(line.text.replaceAll('\u0000', '')); // Postgres text cannot hold NUL
        offset += logLineBytes(line.text);
      });
    }
    const insert = (manager: EntityManager, i: number) => {
      const slice = (values: unknown[]) => values.slice(i, i + INSERT_CHUNK);
      return manager.query(
        `insert into ${t} (job_id, line_no, byte_offset, at, stream, text)
         select * from unnest($1::text[], $2::int[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[])
         on conflict do nothing`,
        [slice(jobIds), slice(lineNos), slice(offsets), slice(ats), slice(streams), slice(texts)],
      );
    };
    if (jobIds.length <= INSERT_CHUNK) {
      await insert(this.dataSource.manager, 0);
      return;
    }
    await this.dataSource.transaction(async (manager) => {
      for (let i = 0; i < jobIds.length; i += INSERT_CHUNK) await insert(manager, i);
    });
  }

  // Lines are numbered densely, so the last one tells how many there are and how long the text is.
  async stats(jobId: string): Promise<{ lines: number; bytes: number }> {
    const rows: { line_no: number; byte_offset: string; text: string }[] = await this.dataSource.query(
      `select line_no, byte_offset, text from ${t} where job_id = $1 order by line_no desc limit 1`,
      [jobId],
    );
    const last = rows[0];
    return last
      ? { lines: last.line_no, bytes: Number(last.byte_offset) + logLineBytes(last.text) }
      : { lines: 0, bytes: 0 };
  }

  async lines(jobId: string, from: number, size: number): Promise<LinePage> {
    // The end is computed in bigint: from + size passes the integer range near the last line number.
    const rows: Row[] = await this.dataSource.query(
      `select line_no, byte_offset, at, stream, text from ${t}
       where job_id = $1 and line_no >= $2::bigint and line_no < $3::bigint order by line_no`,
      [jobId, from, from + size],
    );
    const items = rows.map(toLine);
    return { items, from, next: items.length > 0 ? items.at(-1)!.line + 1 : from };
  }

  async tail(jobId: string, size: number): Promise<LinePage> {
    const { lines } = await this.stats(jobId);
    return this.lines(jobId, Math.max(1, lines - size + 1), size);
  }

  // The log text from byte `offset` (origin start) or its last `offset` bytes (origin end), at
  // most `max` bytes, cut exactly on bytes. With `stream`, the text of that stream alone (Nomad's
  // stdout and stderr files), its offsets counted over its own lines.
  async bytes(
    jobId: string,
    offset: number,
    origin: 'start' | 'end',
    max: number,
    stream?: LogStream,
  ): Promise<{ text: Buffer; offset: number; totalBytes: number }> {
    if (stream) return this.streamBytes(jobId, stream, offset, origin, max);
    const { bytes: totalBytes } = await this.stats(jobId);
    const start = origin === 'start' ? Math.min(offset, totalBytes) : Math.max(0, totalBytes - offset);
    const end = Math.min(totalBytes, start + max);
    if (end <= start) return { text: Buffer.alloc(0), offset: start, totalBytes };
    const rows: Row[] = await this.dataSource.query(
      `select line_no, byte_offset, at, stream, text from ${t}
       where job_id = $1
         and line_no >= coalesce((select max(line_no) from ${t} where job_id = $1 and byte_offset <= $2), 1)
         and byte_offset < $3
       order by line_no`,
      [jobId, start, end],
    );
    const first = rows[0] ? Number(rows[0].byte_offset) : start;
    const text = Buffer.from(rows.map((r) => `${r.text}\n`).join(''), 'utf8');
    return { text: text.subarray(start - first, end - first), offset: start, totalBytes };
  }

  // One stream's offsets are not stored (a line's byte_offset counts both streams): they are summed
  // over the stream's lines in the query, and only the lines of the range are read back.
  private async streamBytes(
    jobId: string,
    stream: LogStream,
    offset: number,
    origin: 'start' | 'end',
    max: number,
  ): Promise<{ text: Buffer; offset: number; totalBytes: number }> {
    const [total] = await this.dataSource.query<{ bytes: string }[]>(
      `select coalesce(sum(octet_length(text) + 1), 0) as bytes from ${t} where job_id = $1 and stream = $2`,
      [jobId, stream],
    );
    const totalBytes = Number(total?.bytes ?? 0);
    const start = origin === 'start' ? Math.min(offset, totalBytes) : Math.max(0, totalBytes - offset);
    const end = Math.min(totalBytes, start + max);
    if (end <= start) return { text: Buffer.alloc(0), offset: start, totalBytes };
    const rows: { first: string; text: string }[] = await this.dataSource.query(
      `select s.first, s.text from (
         select line_no, text,
                sum(octet_length(text) + 1) over (order by line_no) - (octet_length(text) + 1) as first
         from ${t} where job_id = $1 and stream = $2) s
       where s.first + octet_length(s.text) + 1 > $3 and s.first < $4
       order by s.line_no`,
      [jobId, stream, start, end],
    );
    const first = rows[0] ? Number(rows[0].first) : start;
    const text = Buffer.from(rows.map((r) => `${r.text}\n`).join(''), 'utf8');
    return { text: text.subarray(start - first, end - first), offset: start, totalBytes };
  }

  // The whole text, read a few thousand lines at a time.
  text(jobId: string): Readable {
    let next = 1;
    return Readable.from(
      (async function* (store: LogLinesStore) {
        for (;;) {
          const page = await store.lines(jobId, next, TEXT_CHUNK);
          if (page.items.length === 0) return;
          yield page.items.map((l) => `${l.text}\n`).join('');
          next = page.next;
        }
      })(this),
    );
  }
}
