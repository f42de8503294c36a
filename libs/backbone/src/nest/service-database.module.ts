import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { DataSourceOptions, MixedList } from 'typeorm';
import { SPINDLE_CONFIG } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { prepareServiceSchema, serviceDataSourceOptions } from '../database/service-data-source';

export interface ServiceDatabaseModuleOptions {
  readonly name: string;
  readonly schema: string;
  readonly entities: MixedList<Function>;
  readonly migrations: MixedList<Function>;
  // Run this schema's migrations at start (the owner does; readers of another schema do not).
  readonly migrate: boolean;
}

// A named TypeORM connection to one service's schema, migrated before anything uses it.
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
    return {
      module: ServiceDatabaseModule,
      imports: [typeorm, TypeOrmModule.forFeature(options.entities as Function[], options.name)],
      exports: [TypeOrmModule],
    };
  }
}
