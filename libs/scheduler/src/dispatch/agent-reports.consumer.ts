import type { EntityManager } from 'typeorm';
import { EventTopics, isAgentReport } from '@spindle/contracts';
import type { MessageMetadata, SpindleEvent } from '@spindle/contracts';
import { commandFor } from '@spindle/backbone';
import type { BoundCommand, EventConsumer } from '@spindle/backbone';
import { jobCommands } from '../jobs/domain/job.decider';
import type { SchedulerCommandsService } from '../scheduler-commands.service';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';
import { workerCommands } from '../workers/domain/worker.decider';
import { mapReduceJobCommands } from '../mapreduce/domain/mapreduce-job.decider';
import { mapReduceCommandOf } from '../mapreduce/supervise/mapreduce-reports';

// Turns what worker agents report into job and worker events. The reports of a delivered batch
// become one batch of commands (the CommandEngine, in the consumer runner's transaction: the jobs'
// and workers' events commit with the checkpoint, each decided on its own stream in the order
// reported); a report delivered again finds the stream moved on and changes nothing (the deciders
// ignore what already happened). A task's start
// and end are the times its host stamped on them, so a job's startedAt and finishedAt measure the
// task itself on one clock, not how long the reports took to arrive.
// Once committed, whoever reacts to commits hears what the reports appended, not "anything": a
// batch of task starts alone changes no placement and wakes no dispatcher pass.
export function agentReportsConsumer(commands: SchedulerCommandsService): EventConsumer {
  // What each report's commands appended, by the report (the runner hands the same objects to
  // committed): right whatever transactions run or roll back in between.
  const appendedBy = new WeakMap<SpindleEvent, readonly SpindleEvent[]>();
  return {
    name: 'scheduler.agent-reports.v1',
    topics: [EventTopics.workerReport],
    async handle(events: readonly SpindleEvent[], manager: EntityManager): Promise<void> {
      const reports = events.filter(isAgentReport);
      const other = events.find((e) => !isAgentReport(e));
      if (other) throw new Error(`unexpected ${other.type} among agent reports`);
      // The jobs still on each worker whose process ended, read once for the batch. A job whose
      // finish comes earlier in the same batch is among them: its loss is decided after that
      // finish, on its stream, and changes nothing.
      const onExited = await jobsOn(
        manager,
        reports.flatMap((r) => (r.type === 'WorkerProcessExited' ? [r.data.workerId] : [])),
      );
      const batch: BoundCommand[] = [];
      // The report behind each command of the batch.
      const origins: SpindleEvent[] = [];
      for (const report of reports) {
        const first = batch.length;
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
            // Whatever it still ran and did not report went down with it.
            for (const jobId of onExited.get(workerId) ?? [])
              batch.push(
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
          case 'MapReduceProgressed':
            batch.push(commandFor(mapReduceJobCommands, mapReduceCommandOf(report.data), metadata));
            break;
          default: {
            const unknownReport: never = report;
            throw new Error(`unexpected agent report ${JSON.stringify(unknownReport)}`);
          }
        }
        for (let i = first; i < batch.length; i++) origins.push(report);
      }
      const results = await commands.runMany(batch, manager);
      const appended = new Map<SpindleEvent, SpindleEvent[]>(reports.map((r) => [r, []]));
      results.forEach((result, i) => {
        if (result.ok) appended.get(origins[i]!)!.push(...(result.events ?? []));
      });
      for (const [report, events] of appended) appendedBy.set(report, events);
    },
    // A report not known here (cannot be: the same objects) counts as anything.
    committed: (events) =>
      commands.committed(
        events.every((e) => appendedBy.has(e)) ? events.flatMap((e) => appendedBy.get(e)!) : undefined,
      ),
  };
}

function stamped(at: string | undefined): Date {
  return at === undefined ? new Date() : new Date(at);
}

async function jobsOn(manager: EntityManager, workerIds: readonly string[]): Promise<Map<string, string[]>> {
  const jobs = new Map<string, string[]>();
  if (workerIds.length === 0) return jobs;
  const rows: { id: string; worker_id: string }[] = await manager.query(
    `select id, worker_id from "${SCHEDULER_SCHEMA}".dispatch_jobs where worker_id = any($1::text[])`,
    [workerIds],
  );
  for (const row of rows) jobs.set(row.worker_id, [...(jobs.get(row.worker_id) ?? []), row.id]);
  return jobs;
}
