import { Module } from '@nestjs/common';
import { GatewayModule } from '../../gateway.module';
import { ApolloArtifactsController } from './apollo-artifacts.controller';
import { ApolloJobsController } from './apollo-jobs.controller';
import { ApolloNotFoundController } from './apollo-not-found.controller';

// Apollo's coordinator API as a thin mapping onto the core: served under /compat/apollo/api/v1 on
// the gateway and, through a small proxy, at /api/v1 on Apollo's own port (APOLLO_PORT, 4750).
@Module({
  imports: [GatewayModule],
  controllers: [
    ApolloArtifactsController,
    ApolloJobsController,
    ApolloNotFoundController, // last: only what no other route takes
  ],
})
export class ApolloDialectModule {}
