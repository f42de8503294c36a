import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { NamedViewQuery } from '../named-view.query';
import { READ_MODELS_CONNECTION } from '../read-models.tokens';
import { MapReduceJobView } from './mapreduce-job.view';

@Injectable()
export class MapReduceJobsQuery extends NamedViewQuery<MapReduceJobView> {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) dataSource: DataSource) {
    super(dataSource, MapReduceJobView);
  }

  // The jobs not yet ended that run this program, at most `limit` (deleting it is refused then: a
  // job placed again on another host fetches its programs anew).
  async runningUsing(artifact: string, limit = 10): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(MapReduceJobView)
      .createQueryBuilder('j')
      .select('j.name', 'name')
      .where("j.state in ('running', 'stopping')")
      .andWhere("(j.mapper->>'artifact' = :artifact or j.reducer->>'artifact' = :artifact)", { artifact })
      .orderBy('j.name')
      .limit(limit)
      .getRawMany<{ name: string }>();
    return rows.map((r) => r.name);
  }
}
