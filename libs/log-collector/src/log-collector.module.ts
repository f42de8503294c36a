import { Module } from '@nestjs/common';
import { ServiceDatabaseModule, backboneMigrations } from '@spindle/backbone';
import { LogIngestion } from './lines/log-ingestion';
import { LogLines1763900000500 } from './lines/log-lines.migration';
import { LogLinesStore } from './lines/log-lines.store';
import { LogsInternalController } from './lines/logs.internal-controller';
import { LOG_COLLECTOR_CONNECTION, LOG_COLLECTOR_SCHEMA } from './log-collector.tokens';

export { LOG_COLLECTOR_CONNECTION, LOG_COLLECTOR_SCHEMA };

// Owns the log lines of every job (schema `log_collector`): stores what worker agents ship on
// spindle.worker.log.v1 and serves it, by line and by byte, to the gateway.
@Module({
  imports: [
    ServiceDatabaseModule.forService({
      name: LOG_COLLECTOR_CONNECTION,
      schema: LOG_COLLECTOR_SCHEMA,
      entities: [],
      migrations: [...backboneMigrations(LOG_COLLECTOR_SCHEMA), LogLines1763900000500],
      migrate: true,
    }),
  ],
  controllers: [LogsInternalController],
  providers: [LogLinesStore, LogIngestion],
  exports: [LogLinesStore],
})
export class LogCollectorModule {}
