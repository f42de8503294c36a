import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { JOB_ID_PATTERN, PLACED_JOB_STATES, jobStreamId } from '@spindle/contracts';
import type { JobState } from '@spindle/contracts';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import {
  NOTIFY_CHANNELS,
  PgNotifications,
  StreamRowTable,
  groupedReads,
  waitForChange,
} from '@spindle/backbone';
import { waitForStreamPosition } from '../named-view.query';
import type { NamedPage } from '../named-view.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { JobView } from './job.view';

export interface JobFilter {
  readonly states?: readonly JobState[];
  readonly function?: string;
  readonly context?: string;
  readonly workerId?: string;
  readonly externalId?: string;
  // Part of the job's id or function name, any case.
  readonly search?: string;
}

// A page's order for `listAt`: these columns first, then newest first.
export type JobSortColumn = 'id' | 'function' | 'started_at' | 'finished_at';
export interface JobOrder {
  readonly column: JobSortColumn;
  readonly ascending: boolean;
}

@Injectable()
export class JobsQuery {
  constructor(
    @InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource,
    @Inject(SPINDLE_CONFIG) private readonly config: SpindleConfig,
  ) {}

  private table: StreamRowTable<JobView> | undefined;

  // Every GET of one job reads it here, and every read waiting for a job just submitted
  // (findRecent) reads it again at each projector commit: the reads in flight together share one
  // statement (while one runs, the next gathers; a lone read goes at once). Each caller passed its
  // own read barrier before asking, so the statement, sent after, sees what every one of them needs.
  private readonly byId = groupedReads<string, JobView | null>(async (ids) => {
    const rows = await this.rows().select(this.dataSource.manager, 'where id = any($1::uuid[])', [ids]);
    return new Map(rows.map((row) => [row.id, row]));
  }, null);

  // Null: no such job. An id is a UUID in any case, as Postgres compares them; one that is not a
  // UUID is no job's, and never reaches the statement that other reads share.
  findById(id: string): Promise<JobView | null> {
    const uuid = id.toLowerCase();
    return JOB_ID_PATTERN.test(uuid) ? this.byId(uuid) : Promise.resolve(null);
  }

  // Read your writes without a token: a submit answers as soon as the job is recorded, so a job
  // minted in the last `windowMs` (its UUIDv7 says when) may not be in the read model yet. Wait for
  // it until the window ends; any other unknown id is answered at once.
  async findRecent(id: string, windowMs = this.config.readYourWritesTimeoutMs): Promise<JobView | null> {
    const minted = uuidv7Time(id);
    const deadline = minted === null ? 0 : Math.min(minted + windowMs, Date.now() + windowMs);
    // Looked at again when a consumer (the projector) commits, not on a timer.
    return waitForChange(
      PgNotifications.of(this.dataSource),
      [NOTIFY_CHANNELS.consumed],
      () => this.findById(id),
      deadline - Date.now(),
    );
  }

  // Newest first, keyset by id: the same cost on page 1 and page 10 000, and no job is skipped or
  // repeated while new ones arrive (they land before the first page, not inside the walk).
  async list(filter: JobFilter, limit: number, after: string | null): Promise<NamedPage<JobView>> {
    const { where, parameters } = whereOf(filter, after);
    const rows = await this.rows().select(
      this.dataSource.manager,
      `${where} order by id desc limit $${parameters.length + 1}`,
      [...parameters, limit + 1],
    );
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items.at(-1)!.id : null };
  }

  // Offset pages, newest first after the `order` asked for (a job not yet started or ended sorts
  // last either way), for the dialects whose clients page that way (Mist, Ilum). The cost grows
  // with the offset; the native API's keyset pages do not.
  listAt(
    filter: JobFilter,
    limit: number,
    offset: number,
    order: readonly JobOrder[] = [],
  ): Promise<JobView[]> {
    const { where, parameters } = whereOf(filter, null);
    const n = parameters.length;
    const by = [...order.map((o) => `${o.column} ${o.ascending ? 'asc' : 'desc'} nulls last`), 'id desc'];
    return this.rows().select(
      this.dataSource.manager,
      `${where} order by ${by.join(', ')} limit $${n + 1} offset $${n + 2}`,
      [...parameters, limit, offset],
    );
  }

  // How many jobs match, all of them (not the size of one page).
  async count(filter: JobFilter): Promise<number> {
    const { where, parameters } = whereOf(filter, null);
    const [row] = await this.dataSource.query<{ n: number }[]>(
      `select count(*)::int as n from ${this.rows().qualifiedName} ${where}`,
      parameters,
    );
    return row?.n ?? 0;
  }

  // Plain statements through the entity's columns: pages are the hottest reads there are, and
  // TypeORM's query builder and hydration cost more than the query itself.
  private rows(): StreamRowTable<JobView> {
    this.table ??= StreamRowTable.of<JobView>(this.dataSource.manager, JobView);
    return this.table;
  }

  async countActiveOn(workerIds: readonly string[]): Promise<Map<string, number>> {
    if (workerIds.length === 0) return new Map();
    const rows: { worker_id: string; n: number }[] = await this.dataSource.query(
      `select worker_id, count(*)::int as n from ${this.rows().qualifiedName}
       where worker_id = any($1) and state = any($2::text[]) group by worker_id`,
      [workerIds, PLACED_JOB_STATES],
    );
    return new Map(rows.map((r) => [r.worker_id, Number(r.n)]));
  }

  waitForPosition(id: string, position: number, timeoutMs: number): Promise<boolean> {
    return waitForStreamPosition(this.dataSource, JobView, jobStreamId(id), position, timeoutMs);
  }
}

// The filter as a where clause with its $n parameters; every combination has an index that serves
// it in id order (jobs-v1.migration.ts).
function whereOf(filter: JobFilter, before: string | null): { where: string; parameters: unknown[] } {
  const conditions: string[] = [];
  const parameters: unknown[] = [];
  const add = (sql: (n: string) => string, value: unknown) => {
    parameters.push(value);
    conditions.push(sql(`$${parameters.length}`));
  };
  if (filter.states !== undefined) {
    if (filter.states.length === 0) conditions.push('false');
    else add((n) => `state = any(${n}::text[])`, filter.states);
  }
  if (filter.function !== undefined) add((n) => `function = ${n}`, filter.function);
  if (filter.context !== undefined) add((n) => `context = ${n}`, filter.context);
  if (filter.workerId !== undefined) add((n) => `worker_id = ${n}`, filter.workerId);
  if (filter.externalId !== undefined) add((n) => `external_id = ${n}`, filter.externalId);
  // strpos, not LIKE: `_` and `%` in what is searched for are plain characters.
  if (filter.search !== undefined)
    add(
      (n) => `(strpos(lower(function), lower(${n})) > 0 or strpos(id::text, lower(${n})) > 0)`,
      filter.search,
    );
  if (before !== null) add((n) => `id < ${n}::uuid`, before);
  return { where: conditions.length > 0 ? `where ${conditions.join(' and ')}` : '', parameters };
}

// Milliseconds since the epoch encoded in a UUIDv7, or null for any other UUID.
export function uuidv7Time(id: string): number | null {
  if (id.length !== 36 || id[14] !== '7') return null;
  const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  return Number.isFinite(ms) ? ms : null;
}
