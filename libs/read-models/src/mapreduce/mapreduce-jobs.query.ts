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

  // Whether a job not yet ended runs this program (Apollo's DELETE artifact answers 409 then).
  async usedByRunningJob(artifact: string): Promise<boolean> {
    const [row] = await this.dataSource.query<{ used: boolean }[]>(
      `select exists (select 1 from ${this.dataSource.getRepository(MapReduceJobView).metadata.tablePath}
         where state in ('running', 'stopping')
           and (mapper->>'artifact' = $1 or reducer->>'artifact' = $1)) as used`,
      [artifact],
    );
    return row?.used ?? false;
  }
}
