import { Module } from '@nestjs/common';
import { GatewayModule } from '../../gateway.module';
import { MistArtifactsController } from './mist-artifacts.controller';
import { MistContextsController } from './mist-contexts.controller';
import { MistFunctionsController } from './mist-functions.controller';
import { MistContexts } from './mist-contexts.service';
import { MistEventFeed } from './mist-event-feed';
import { MistJobList } from './mist-job-list.service';
import { MistJobsController } from './mist-jobs.controller';
import { MistKafkaTransport } from './mist-kafka.transport';
import { MistMqttTransport } from './mist-mqtt.transport';
import { MistNotFoundController } from './mist-not-found.controller';
import { MistStartRequests } from './mist-start-requests';
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
  providers: [
    MistJobList,
    MistContexts,
    // Mist's async interface: what requests mean and which events go out, then one transport each
    MistStartRequests,
    MistEventFeed,
    MistKafkaTransport,
    MistMqttTransport,
  ],
})
export class MistDialectModule {}
