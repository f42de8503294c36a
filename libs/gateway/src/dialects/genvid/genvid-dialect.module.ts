import { Module } from '@nestjs/common';
import { EventResultsQuery } from '@spindle/read-models';
import { GatewayModule } from '../../gateway.module';
import { GenvidJobsController } from './genvid-jobs.controller';
import { GenvidLogFsController } from './genvid-log-fs.controller';
import { GenvidAllocations } from './genvid-allocations';
import { GenvidEventsController } from './genvid-events.controller';
import { GenvidLoggersController } from './genvid-loggers.controller';
import { GenvidLogsController } from './genvid-logs.controller';
import { GenvidNotFoundController } from './genvid-not-found.controller';
import { GenvidSecretsController } from './genvid-secrets.controller';
import { GenvidSettingsController } from './genvid-settings.controller';

// The Genvid Cluster API as a thin mapping onto the core: served under /compat/genvid on the
// gateway and, through a small proxy, at /v1 and /secrets on Genvid's own port (GENVID_PORT, 8089).
@Module({
  imports: [GatewayModule],
  controllers: [
    GenvidSecretsController,
    GenvidSettingsController,
    GenvidJobsController,
    GenvidLogFsController,
    GenvidLogsController,
    GenvidLoggersController,
    GenvidEventsController,
    GenvidNotFoundController, // last: only what no other route takes
  ],
  providers: [GenvidAllocations, EventResultsQuery],
})
export class GenvidDialectModule {}
