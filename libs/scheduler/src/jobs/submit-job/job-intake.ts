import { Injectable } from '@nestjs/common';
import { functionStreamId, jobStreamId } from '@spindle/contracts';
import type { CommandResult, SpindleEvent, SubmitJobCommand } from '@spindle/contracts';
import { commandFor } from '@spindle/backbone';
import type { BoundCommand, Decider, GroupCommit, Idempotency, Preparation } from '@spindle/backbone';
import { placeOnSubmit, readSubmitContexts, takePlacementLock } from '../../dispatch/submit-placement';
import type { Placement } from '../../dispatch/placement';
import { functionDecider } from '../../functions/domain/function.decider';
import type { FunctionState } from '../../functions/domain/function.decider';
import { SchedulerCommandsService } from '../../scheduler-commands.service';
import { jobCommands } from '../domain/job.decider';
import type { JobCommand } from '../domain/job.decider';
import { shapeSubmit } from './submit-job.shape';

// Accepts submitted jobs into their queues through the CommandEngine's group commit: every submit
// waiting when a transaction starts is decided and appended in it (one batch at a time, at most
// 500), with one statement per table for the whole batch. Each submit gets the answer it would
// have had alone: the same decider, the same checks, the same idempotency rules.
//
// One batch at a time, not two: a batch that places holds the placement lock to its commit, so a
// second one in flight only waited for it (holding a connection), then placed behind it, and a
// submit's job could be placed before one sent earlier. One at a time the next batch gathers
// everything that arrived meanwhile, and jobs are placed in the order they came. At 100 submits/s
// (figure 2, node topology) a job started two to three times sooner: submit → start p50 339-411
// ms before, 131-206 after, with fewer statements per submit and the same submits per second at
// 32 in flight. The `all` topology, whose figure 1 places nothing (so no batch took the lock and
// the second was pure overlap), lost 12 % of its submits (BENCHMARKS.md, 2026-12-07).
//
// When no transaction is running, the next starts one turn of the event loop after its first
// submit (`gather: 'when-idle'`), so the submits that arrive in the same turn share it: the
// commands of a fetched Kafka batch reach the intake within one turn, and without the wait the
// first went alone while the rest waited for the next (when two were allowed at once, the first
// two: 3.7 submits per transaction in the `all` topology, against 20 for the node topology's HTTP
// submits). Waiting before every transaction instead (`each-batch`) adds that turn under load too,
// where the next batch has gathered during the commit anyway.
@Injectable()
export class JobIntake {
  private readonly submits: GroupCommit<BoundCommand, CommandResult>;

  constructor(commands: SchedulerCommandsService) {
    this.submits = commands.groupCommit({
      maxInFlight: 1,
      gather: 'when-idle',
      preparation: submitReferences(),
    });
  }

  submit(command: SubmitJobCommand, idempotency: Idempotency | undefined): Promise<CommandResult> {
    // Bound to the job's stream as it came; shaped into the decider's command once its function
    // and context are read (below).
    return this.submits.add({
      streamId: jobStreamId(command.id),
      topic: jobCommands.topic,
      decider: jobCommands.decider as unknown as Decider<unknown, unknown>,
      command,
      metadata: { correlationId: command.correlationId, causationId: null },
      now: new Date(command.issuedAt),
      ...(idempotency ? { idempotency } : {}),
    });
  }
}

// The functions the batch names are read with the jobs' streams, the live contexts in one query;
// then each submit is checked against the scheduler's own state (shapeSubmit), and placed at once
// where its context's pool has room (submit-placement.ts).
//
// A batch that places nothing runs without a transaction (CommandEngine.attempt): its reads and
// one append statement. One that may place needs one for the placement lock: it is begun before
// the contexts' read when the last batch could place (the lock taken in that read, as many
// batches in a row place while a pool has room), else once the read says one may (the lock then
// a statement of its own).
function submitReferences(): Preparation {
  let lastMayPlace = false;
  return {
    streamsOf: (batch) => [...new Set(submitsOf(batch).map((c) => functionStreamId(c.function)))],
    async prepare(manager, batch, streams, transaction) {
      const submits = submitsOf(batch);
      const functions = new Map(
        submits.map((c) => [c.function, fold(streams.get(functionStreamId(c.function)) ?? [])]),
      );
      if (lastMayPlace) await transaction.begin();
      const contexts = await readSubmitContexts(
        manager,
        submits.map((c) => {
          const fn = functions.get(c.function)!;
          return c.context ?? (fn.status === 'registered' ? fn.definition.defaultContext : '');
        }),
        transaction.active,
      );
      lastMayPlace = contexts.mayPlace;
      let placing = contexts.placing;
      if (contexts.mayPlace && !transaction.active) {
        await transaction.begin();
        placing = await takePlacementLock(manager);
      }
      const shaped = submits.map((submit) =>
        shapeSubmit(submit, {
          fn: functions.get(submit.function)!,
          contextLive: (name) => contexts.live.has(name),
        }),
      );
      const accepted = shaped.filter((s): s is Extract<JobCommand, { kind: 'submit' }> => !('ok' in s));
      const placements = placing
        ? await placeOnSubmit(
            manager,
            accepted.map((s) => s.job),
          )
        : new Map<string, Placement>();
      return batch.map((bound, i) => {
        const command = shaped[i]!;
        if ('ok' in command) return command;
        const placement = placements.get(command.id);
        return commandFor(
          jobCommands,
          placement
            ? { ...command, placement: { workerId: placement.workerId, hostId: placement.hostId } }
            : command,
          bound.metadata,
          bound.now,
          bound.idempotency,
        );
      });
    },
  };
}

function submitsOf(batch: readonly BoundCommand[]): SubmitJobCommand[] {
  return batch.map((bound) => bound.command as SubmitJobCommand);
}

function fold(history: readonly SpindleEvent[]): FunctionState {
  return history.reduce(functionDecider.evolve, functionDecider.initialState);
}
