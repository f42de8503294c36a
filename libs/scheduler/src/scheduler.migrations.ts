import { backboneMigrations } from '@spindle/backbone';
import { SchedulerDispatchJobCauses1796400000100 } from './dispatch/dispatch-job-causes.migration';
import { SchedulerDispatchJobsPlacedIndex1796600000100 } from './dispatch/dispatch-jobs-placed-index.migration';
import { SchedulerDispatchTables1763900000100 } from './dispatch/dispatch-tables.migration';
import { SchedulerHostsHeardUntil1796900000100 } from './dispatch/hosts-heard-until.migration';
import { SchedulerMapReduceJobs1796300000100 } from './mapreduce/supervise/mapreduce-jobs-table.migration';
import { SchedulerMapReduceTasks1796700000100 } from './mapreduce/supervise/mapreduce-tasks-table.migration';
import { SchedulerPlacementLock1796800000100 } from './dispatch/placement-lock.migration';
import { SchedulerServiceJobs1764900000100 } from './service-jobs/supervise/service-jobs-table.migration';
import { SCHEDULER_SCHEMA } from './scheduler.tokens';

// The scheduler schema's migrations, in order: the backbone's tables, then the scheduler's own
// state beside its streams. The service and its integration tests migrate with the same list.
export const SCHEDULER_MIGRATIONS = [
  ...backboneMigrations(SCHEDULER_SCHEMA),
  SchedulerDispatchTables1763900000100,
  SchedulerServiceJobs1764900000100,
  SchedulerMapReduceJobs1796300000100,
  SchedulerDispatchJobCauses1796400000100,
  SchedulerDispatchJobsPlacedIndex1796600000100,
  SchedulerMapReduceTasks1796700000100,
  SchedulerPlacementLock1796800000100,
  SchedulerHostsHeardUntil1796900000100,
];
