import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { DataSourceOptions, MixedList } from 'typeorm';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import {
  prepareServiceSchema,
  serviceDataSourceOptions,
  statementsSentBy,
} from '../database/service-data-source';
import { ManagedGrowingTableAnalyzer } from './managed';

export interface ServiceDatabaseModuleOptions {
  readonly name: string;
  readonly schema: string;
  readonly entities: MixedList<Function>;
  readonly migrations: MixedList<Function>;
  // Run this schema's migrations at start (the owner does; readers of another schema do not).
  readonly migrate: boolean;
}

// A named TypeORM connection to one service's schema, migrated before anything uses it. The
// schema's owner also keeps the planner's picture of its growing tables current (growing-tables.ts).
@Module({})
export class ServiceDatabaseModule {
  static forService(options: ServiceDatabaseModuleOptions): DynamicModule {
    const typeorm = TypeOrmModule.forRootAsync({
      name: options.name,
      inject: [SPINDLE_CONFIG],
      useFactory: (config: SpindleConfig) => {
        if (!config.databaseUrl) throw new Error('DATABASE_URL is not configured');
        return serviceDataSourceOptions({
          ...options,
          url: config.databaseUrl,
          poolSize: config.dbPoolSize,
          preparedStatements: config.dbPreparedStatements,
        });
      },
      dataSourceFactory: async (dsOptions?: DataSourceOptions) => {
        const dataSource = new DataSource(dsOptions!);
        await dataSource.initialize();
        if (options.migrate) await prepareServiceSchema(dataSource, options.schema);
        return dataSource;
      },
    });
    const analyzer = {
      provide: ManagedGrowingTableAnalyzer,
      inject: [getDataSourceToken(options.name)],
      useFactory: (dataSource: DataSource) =>
        new ManagedGrowingTableAnalyzer(dataSource, options.schema, statementsSentBy(dataSource)),
    };
    return {
      module: ServiceDatabaseModule,
      imports: [typeorm, TypeOrmModule.forFeature(options.entities as Function[], options.name)],
      providers: options.migrate ? [analyzer] : [],
      exports: [TypeOrmModule],
    };
  }
}
