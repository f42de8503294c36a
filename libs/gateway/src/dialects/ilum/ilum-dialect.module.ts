import { Module } from '@nestjs/common';
import { GatewayModule } from '../../gateway.module';
import { IlumClustersController } from './ilum-clusters.controller';
import { IlumGroupJobsController } from './ilum-group-jobs.controller';
import { IlumGroupJobUpdates } from './ilum-group-job-updates';
import { IlumGroupJobs } from './ilum-group-jobs.service';
import { IlumGroupsController } from './ilum-groups.controller';
import { IlumJobSubmission } from './ilum-job-submission';
import { IlumJobUpdates } from './ilum-job-updates';
import { IlumJobsController } from './ilum-jobs.controller';
import { IlumLicenseController } from './ilum-license.controller';
import { IlumNotFoundController } from './ilum-not-found.controller';
import { IlumUpdateStreams } from './ilum-updates';

// Ilum's REST API (spec 1.3.0) as a thin mapping onto the core: served under /compat/ilum/api/v1
// on the gateway and, through the dialect port proxy, at /api/v1 on Ilum's own port (ILUM_PORT,
// 9888): clusters, groups (their definitions, scale and requests, with the results' SSE stream),
// single jobs with their logs and their SSE stream, and the licence (always GREEN).
@Module({
  imports: [GatewayModule],
  controllers: [
    IlumClustersController,
    IlumGroupsController,
    IlumGroupJobsController,
    IlumJobsController,
    IlumLicenseController,
    IlumNotFoundController, // last: only what no other route takes
  ],
  providers: [IlumGroupJobs, IlumGroupJobUpdates, IlumJobSubmission, IlumJobUpdates, IlumUpdateStreams],
})
export class IlumDialectModule {}
