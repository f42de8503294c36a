import { Module } from '@nestjs/common';
import { GatewayModule } from '../../gateway.module';
import { MistArtifactsController } from './mist-artifacts.controller';
import { MistContextsController } from './mist-contexts.controller';
import { MistFunctionsController } from './mist-functions.controller';
import { MistAsyncInterface } from './mist-async.interface';
import { MistContexts } from './mist-contexts.service';
import { MistJobList } from './mist-job-list.service';
import { MistJobsController } from './mist-jobs.controller';
import { MistNotFoundController } from './mist-not-found.controller';
import { MistStatusController } from './mist-status.controller';
import { MistWorkersController } from './mist-workers.controller';

// Hydrosphere Mist's HTTP API v2 as a thin mapping onto the core: served under /compat/mist/v2/api
// on the gateway and, through a small proxy, at /v2/api on Mist's own port (MIST_PORT, 2004).
@Module({
  imports: [GatewayModule],
  controllers: [
    MistFunctionsController,
    MistJobsController,
    MistContextsController,
    MistWorkersController,
    MistArtifactsController,
    MistStatusController,
    MistNotFoundController, // last: only what no other route takes
  ],
  providers: [MistJobList, MistContexts, MistAsyncInterface],
})
export class MistDialectModule {}
