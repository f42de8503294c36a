import { EventTopics } from '@spindle/contracts';
import type { AgentReport, EventEnvelope, MessageMetadata } from '@spindle/contracts';
import type { EventConsumer } from '@spindle/backbone';
import { jobCommands } from '../jobs/domain/job.decider';
import { commandFor } from '../scheduler-commands.service';
import type { BoundCommand, SchedulerCommandsService } from '../scheduler-commands.service';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { workerCommands } from '../workers/domain/worker.decider';

// Turns what worker agents report into job and worker events. The reports of a delivered batch
// become one batch of commands (SchedulerCommandsService.runMany: one transaction for all of
// them, each decided on its own stream in the order reported); a redelivered report finds the
// stream moved on and changes nothing (the deciders ignore what already happened). A task's start
// and end are the times its host stamped on them, so a job's startedAt and finishedAt measure the
// task itself on one clock, not how long the reports took to arrive.
export function agentReportsConsumer(commands: SchedulerCommandsService): EventConsumer {
  return {
    name: 'scheduler.agent-reports.v1',
    topics: [EventTopics.workerReport],
    async handle(events: readonly EventEnvelope[]): Promise<void> {
      let batch: BoundCommand[] = [];
      for (const envelope of events) {
        const report = envelope as AgentReport;
        const metadata: MessageMetadata = { correlationId: report.correlationId, causationId: report.id };
        switch (report.type) {
          case 'WorkerProcessStarted':
            batch.push(
              commandFor(
                workerCommands,
                { kind: 'started', id: report.data.workerId, pid: report.data.pid },
                metadata,
              ),
            );
            break;
          case 'WorkerRunnerStarted':
            batch.push(
              commandFor(
                workerCommands,
                { kind: 'process-started', id: report.data.workerId, pid: report.data.pid },
                metadata,
              ),
            );
            break;
          case 'WorkerProcessExited': {
            const { workerId, reason } = report.data;
            // Whatever it still ran and did not report went down with it: what the reports before
            // this one did is committed first, so the jobs still on it are the ones to lose.
            await commands.runMany(batch);
            batch = (await jobsOn(commands, workerId)).map((jobId) =>
              commandFor(
                jobCommands,
                { kind: 'lose', id: jobId, workerId, reason: `worker process ended: ${reason}` },
                metadata,
              ),
            );
            batch.push(commandFor(workerCommands, { kind: 'stopped', id: workerId, reason }, metadata));
            break;
          }
          case 'TaskStarted':
            batch.push(
              commandFor(
                jobCommands,
                {
                  kind: 'started',
                  id: report.data.jobId,
                  workerId: report.data.workerId,
                  pid: report.data.pid,
                },
                metadata,
                stamped(report.data.startedAt),
              ),
            );
            break;
          case 'TaskFinished': {
            const d = report.data;
            batch.push(
              commandFor(
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
              ),
            );
            break;
          }
          default: {
            const unknownReport: never = report;
            throw new Error(`unexpected agent report ${JSON.stringify(unknownReport)}`);
          }
        }
      }
      await commands.runMany(batch);
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
