import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { writersHorizonSql } from '@spindle/backbone';
import { PROJECTOR_SCHEMA, READ_MODELS_CONNECTION } from '../read-models.tokens';
import { FeedEntryView } from './feed-entry.view';

// Sequence numbers are drawn when a row is written but become visible when its transaction
// commits, which may be out of order. Only rows older than every transaction still running that may
// write the projector's schema are served (writer-horizon.ts), so a reader that moved past seq N
// never misses a later-committed row below N.
const SETTLED = `f.tx < ${writersHorizonSql(PROJECTOR_SCHEMA)}`;

@Injectable()
export class FeedQuery {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource) {}

  // Entries after `seq`, oldest first; only those of one job or worker when `subjectId` is given.
  after(seq: string, limit: number, subjectId?: string): Promise<FeedEntryView[]> {
    const query = this.entries()
      .where('f.seq > :seq', { seq })
      .andWhere(SETTLED)
      .orderBy('f.seq', 'ASC')
      .limit(limit);
    if (subjectId !== undefined) query.andWhere('f.subject_id = :subjectId', { subjectId });
    return query.getMany();
  }

  // The newest entry of one job or worker that has committed, settled or not: once a finished job's
  // row shows it finished, its last entry is this one (both commit in one transaction).
  async lastSeqOf(subjectId: string): Promise<string | null> {
    const row = await this.entries()
      .select('max(f.seq)::text', 'seq')
      .where('f.subject_id = :subjectId', { subjectId })
      .getRawOne<{ seq: string | null }>();
    return row?.seq ?? null;
  }

  async lastSeq(): Promise<string> {
    const row = await this.entries()
      .select('max(f.seq)::text', 'seq')
      .where(SETTLED)
      .getRawOne<{ seq: string | null }>();
    return row?.seq ?? '0';
  }

  private entries() {
    return this.dataSource.getRepository(FeedEntryView).createQueryBuilder('f');
  }
}
