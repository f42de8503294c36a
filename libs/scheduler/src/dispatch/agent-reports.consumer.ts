import { EventTopics } from '@spindle/contracts';
import type { AgentReport, EventEnvelope, MessageMetadata } from '@spindle/contracts';
import type { EventConsumer } from '@spindle/backbone';
import { jobCommands } from '../jobs/domain/job.decider';
import type { SchedulerCommandsService } from '../scheduler-commands.service';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { workerCommands } from '../workers/domain/worker.decider';

// Turns what worker agents report into job and worker events. Each report becomes a command on
// its own stream in its own transaction; a redelivered report finds the stream moved on and
// changes nothing (the deciders ignore what already happened). A task's start and end are the
// times its host stamped on them, so a job's startedAt and finishedAt measure the task itself on
// one clock, not how long the reports took to arrive.
export function agentReportsConsumer(commands: SchedulerCommandsService): EventConsumer {
  return {
    name: 'scheduler.agent-reports.v1',
    topics: [EventTopics.workerReport],
    async handle(events: readonly EventEnvelope[]): Promise<void> {
      for (const envelope of events) {
        const report = envelope as AgentReport;
        const metadata: MessageMetadata = { correlationId: report.correlationId, causationId: report.id };
        switch (report.type) {
          case 'WorkerProcessStarted':
            await commands.run(
              workerCommands,
              { kind: 'started', id: report.data.workerId, pid: report.data.pid },
              metadata,
            );
            break;
          case 'WorkerRunnerStarted':
            await commands.run(
              workerCommands,
              { kind: 'process-started', id: report.data.workerId, pid: report.data.pid },
              metadata,
            );
            break;
          case 'WorkerProcessExited': {
            const { workerId, reason } = report.data;
            // Whatever it still ran and did not report went down with it.
            for (const jobId of await jobsOn(commands, workerId)) {
              await commands.run(
                jobCommands,
                { kind: 'lose', id: jobId, workerId, reason: `worker process ended: ${reason}` },
                metadata,
              );
            }
            await commands.run(workerCommands, { kind: 'stopped', id: workerId, reason }, metadata);
            break;
          }
          case 'TaskStarted':
            await commands.run(
              jobCommands,
              {
                kind: 'started',
                id: report.data.jobId,
                workerId: report.data.workerId,
                pid: report.data.pid,
              },
              metadata,
              stamped(report.data.startedAt),
            );
            break;
          case 'TaskFinished': {
            const d = report.data;
            await commands.run(
              jobCommands,
              {
                kind: 'finish',
                id: d.jobId,
                workerId: d.workerId,
                outcome: d.outcome,
                result: d.result,
                error: d.error,
                log: d.log,
              },
              metadata,
              stamped(d.finishedAt),
            );
            break;
          }
          default: {
            const unknownReport: never = report;
            throw new Error(`unexpected agent report ${JSON.stringify(unknownReport)}`);
          }
        }
      }
    },
  };
}

function stamped(at: string | undefined): Date {
  return at === undefined ? new Date() : new Date(at);
}

async function jobsOn(commands: SchedulerCommandsService, workerId: string): Promise<string[]> {
  const rows: { id: string }[] = await commands.query(
    `select id from "${SCHEDULER_SCHEMA}".dispatch_jobs where worker_id = $1`,
    [workerId],
  );
  return rows.map((r) => r.id);
}
