import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { NamedViewQuery } from '../named-view.query';
import { PROJECTOR_SCHEMA, READ_MODELS_CONNECTION } from '../read-models.tokens';
import { ServiceJobView } from './service-job.view';

export interface ServiceJobsAt {
  readonly index: number; // the change index these rows are at
  readonly rows: ServiceJobView[];
}

@Injectable()
export class ServiceJobsQuery extends NamedViewQuery<ServiceJobView> {
  constructor(@InjectDataSource(READ_MODELS_CONNECTION) dataSource: DataSource) {
    super(dataSource, ServiceJobView);
  }

  // Every live service job by name, with the change index, in one statement (one snapshot).
  async allWithIndex(limit: number): Promise<ServiceJobsAt> {
    const raw: {
      index: string;
      stream_id: string | null;
      stream_position: number;
      name: string;
      status: ServiceJobView['status'];
      job: ServiceJobView['job'];
      created_at: Date;
      updated_at: Date;
    }[] = await this.dataSource.query(
      `select i.value as index, v.stream_id, v.stream_position, v.name, v.status, v.job, v.created_at, v.updated_at
       from "${PROJECTOR_SCHEMA}".service_jobs_v1_index i
       left join lateral (select * from "${PROJECTOR_SCHEMA}".service_jobs_v1
                          where deleted_at is null order by name limit $1) v on true`,
      [limit],
    );
    const rows = raw
      .filter((r) => r.stream_id !== null)
      .map((r) =>
        Object.assign(new ServiceJobView(), {
          streamId: r.stream_id!,
          streamPosition: r.stream_position,
          name: r.name,
          status: r.status,
          job: r.job,
          createdAt: r.created_at,
          updatedAt: r.updated_at,
          deletedAt: null,
        }),
      );
    return { index: Number(raw[0]?.index ?? 1), rows };
  }

  async currentIndex(): Promise<number> {
    const [row] = await this.dataSource.query<{ value: string }[]>(
      `select value from "${PROJECTOR_SCHEMA}".service_jobs_v1_index`,
    );
    return Number(row?.value ?? 1);
  }
}
