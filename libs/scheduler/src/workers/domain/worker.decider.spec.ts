import type { NewEvent, WorkerRequestedV1 } from '@spindle/contracts';
import { decideWorker, evolveWorker, workerDecider } from './worker.decider';
import type { WorkerCommand, WorkerStatus } from './worker.decider';

const id = '0193a5b2-7c1e-7f00-8000-1234567890ab';
const worker: WorkerRequestedV1 = {
  id,
  context: 'etl',
  mode: 'shared',
  hostId: 'h1',
  hostIncarnation: 'i1',
  maxJobs: 2,
  runOptions: '',
};

// The envelope fields a decider's evolve reads past type and data.
const envelope = {
  id: '',
  streamId: `worker-${id}`,
  occurredAt: '2026-11-22T10:00:00.000Z',
  correlationId: 'c',
  causationId: null,
};

// Given the commands so far, when one more comes, then these events.
function run(...commands: WorkerCommand[]): { state: WorkerStatus; last: readonly NewEvent[] } {
  let state = workerDecider.initialState;
  let last: readonly NewEvent[] = [];
  let position = 0;
  for (const command of commands) {
    const decided = decideWorker(command, state);
    if (!Array.isArray(decided)) throw new Error(`refused: ${JSON.stringify(decided)}`);
    last = decided as readonly NewEvent[];
    for (const event of last) {
      state = evolveWorker(state, {
        ...envelope,
        ...event,
        streamId: `worker-${id}`,
        streamPosition: ++position,
      });
    }
  }
  return { state, last };
}

describe('worker decider', () => {
  const request: WorkerCommand = { kind: 'request', id, worker };

  it('starts a worker that has no process yet with no pid', () => {
    expect(run(request, { kind: 'started', id, pid: null }).last).toEqual([
      { type: 'WorkerStarted', version: 1, data: { id, pid: null } },
    ]);
  });

  it('records each fresh runner process as the worker’s pid, once', () => {
    const started: WorkerCommand = { kind: 'started', id, pid: null };
    const first: WorkerCommand = { kind: 'process-started', id, pid: 101 };
    expect(run(request, started, first).last).toEqual([
      { type: 'WorkerPidChanged', version: 1, data: { id, pid: 101 } },
    ]);
    expect(run(request, started, first, first).last).toEqual([]);
    const { state, last } = run(request, started, first, { kind: 'process-started', id, pid: 102 });
    expect(last).toEqual([{ type: 'WorkerPidChanged', version: 1, data: { id, pid: 102 } }]);
    expect(state).toEqual({ state: 'running', hostId: 'h1', pid: 102 });
  });

  it('carries the grace of a graceful stop to the agent, and nothing for a stop without one', () => {
    const started: WorkerCommand = { kind: 'started', id, pid: 5 };
    expect(run(request, started, { kind: 'stop', id, reason: 'by request', graceMs: 60_000 }).last).toEqual([
      {
        type: 'WorkerStopRequested',
        version: 1,
        data: { id, hostId: 'h1', reason: 'by request', graceMs: 60_000 },
      },
    ]);
    expect(run(request, started, { kind: 'stop', id, reason: 'idle' }).last).toEqual([
      { type: 'WorkerStopRequested', version: 1, data: { id, hostId: 'h1', reason: 'idle' } },
    ]);
    const stopping: WorkerCommand = { kind: 'stop', id, reason: 'by request', graceMs: null };
    expect(run(request, started, stopping, stopping).last).toEqual([]);
  });

  it('ignores a runner reported after the worker stopped', () => {
    const stopped: WorkerCommand = { kind: 'stopped', id, reason: 'idle' };
    expect(run(request, stopped, { kind: 'process-started', id, pid: 7 }).last).toEqual([]);
  });
});
