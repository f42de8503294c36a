import type { NewEvent } from '@spindle/contracts';
import { isCommandError } from '@spindle/backbone';
import { runDecider } from '@spindle/testing';
import { jobDecider } from './job.decider';
import type { JobCommand, SubmittedJob } from './job.decider';

const id = '0193a5b2-7c1e-7f00-8000-1234567890ab';
const job: SubmittedJob = {
  id,
  function: 'sum',
  context: 'default',
  args: { a: 1 },
  program: { artifact: 'sum.js', sha256: 'a'.repeat(64), entrypoint: 'sum', runtime: 'node' },
  externalId: null,
  startTimeoutMs: null,
  performTimeoutMs: null,
};
const task = {
  function: 'sum',
  context: 'default',
  args: { a: 1 },
  program: job.program,
  performTimeoutMs: null,
};
const log = { lines: 2, bytes: 10 };

// Runs commands one after the other, folding what each decided into the state.
const run = (...commands: JobCommand[]) => runDecider(jobDecider, commands);

const submit: JobCommand = { kind: 'submit', id, job };
const assign: JobCommand = { kind: 'assign', id, workerId: 'w1', hostId: 'h1' };
const started: JobCommand = { kind: 'started', id, workerId: 'w1', pid: 42 };

describe('job decider', () => {
  it('gives the worker the task the job was submitted with', () => {
    expect(run(submit, assign).last).toEqual([
      { type: 'JobAssigned', version: 1, data: { id, workerId: 'w1', hostId: 'h1', task } },
    ]);
  });

  it('assigns a job as it is submitted when the submit brings its placement', () => {
    const placed = run({ ...submit, placement: { workerId: 'w1', hostId: 'h1' } });
    expect(placed.last).toEqual([
      { type: 'JobSubmitted', version: 1, data: job },
      { type: 'JobAssigned', version: 1, data: { id, workerId: 'w1', hostId: 'h1', task } },
    ]);
    expect(placed.state).toMatchObject({ state: 'starting', workerId: 'w1', hostId: 'h1' });
  });

  it('walks queued → starting → running → succeeded', () => {
    expect(run(submit).state).toMatchObject({ state: 'queued' });
    expect(run(submit, assign).state).toMatchObject({ state: 'starting', workerId: 'w1', hostId: 'h1' });
    expect(run(submit, assign, started).state).toMatchObject({ state: 'running' });
    const done = run(submit, assign, started, {
      kind: 'finish',
      id,
      workerId: 'w1',
      outcome: 'succeeded',
      result: 3,
      error: null,
      log,
    });
    expect(done.state).toMatchObject({ state: 'succeeded' });
    expect(done.last).toEqual([{ type: 'JobSucceeded', version: 1, data: { id, result: 3, log } }]);
  });

  it('records where the job came from on JobSubmitted', () => {
    const fromKafka: JobCommand = { kind: 'submit', id, job: { ...job, source: 'kafka' } };
    expect(run(fromKafka).last).toEqual([
      { type: 'JobSubmitted', version: 1, data: { ...job, source: 'kafka' } },
    ]);
  });

  it('leaves the source out when the submit names none (a sender older than sources)', () => {
    const [submitted] = run(submit).last as NewEvent[];
    expect(submitted!.data).not.toHaveProperty('source');
  });

  it('refuses a second submit of the same id', () => {
    expect(isCommandError(run(submit, submit).last)).toBe(true);
  });

  it('cancels a queued job at once, a running one through cancelling, a finished one not at all', () => {
    expect(run(submit, { kind: 'cancel', id }).state).toMatchObject({ state: 'cancelled' });
    const running = run(submit, assign, started, { kind: 'cancel', id });
    expect(running.state).toMatchObject({ state: 'cancelling' });
    expect(running.last).toEqual([
      { type: 'JobCancelRequested', version: 1, data: { id, workerId: 'w1', hostId: 'h1' } },
    ]);
    const twice = run(submit, assign, started, { kind: 'cancel', id }, { kind: 'cancel', id });
    expect(twice.last).toEqual([]);
    const finished = run(submit, { kind: 'cancel', id }, { kind: 'cancel', id });
    expect(finished.last).toEqual([]);
  });

  it('expires only a queued job at its start deadline', () => {
    expect(run(submit, { kind: 'expire-start', id }).state).toMatchObject({ state: 'timed_out' });
    expect(run(submit, assign, { kind: 'expire-start', id }).last).toEqual([]);
  });

  it('ignores reports from another worker and reports after the end', () => {
    const other = run(submit, assign, { kind: 'started', id, workerId: 'w2', pid: 1 });
    expect(other.last).toEqual([]);
    const late = run(
      submit,
      assign,
      started,
      { kind: 'expire-perform', id },
      { kind: 'finish', id, workerId: 'w1', outcome: 'succeeded', result: 1, error: null, log },
    );
    expect(late.state).toMatchObject({ state: 'timed_out' });
    expect(late.last).toEqual([]);
  });

  it('fails a job whose worker was lost, and only on that worker', () => {
    expect(
      run(submit, assign, started, { kind: 'lose', id, workerId: 'w1', reason: 'host gone' }).state,
    ).toMatchObject({
      state: 'failed',
    });
    expect(run(submit, assign, { kind: 'lose', id, workerId: 'w9', reason: 'x' }).last).toEqual([]);
  });

  it('puts a job whose host died back in its queue while its retry policy allows, then fails it', () => {
    const lost = (retries: number): JobCommand => ({
      kind: 'lose',
      id,
      workerId: 'w1',
      reason: 'host gone',
      retries,
    });
    const once = run(submit, assign, started, lost(2));
    expect(once.last).toEqual([
      { type: 'JobRequeued', version: 1, data: { id, attempt: 2, reason: 'host gone', workerId: 'w1' } },
    ]);
    expect(once.state).toEqual({ state: 'queued', workerId: null, hostId: null, attempt: 2, task });
    const again: JobCommand = { kind: 'assign', id, workerId: 'w2', hostId: 'h2' };
    const lostOnW2: JobCommand = { kind: 'lose', id, workerId: 'w2', reason: 'host gone', retries: 2 };
    const twice = run(submit, assign, started, lost(2), again, lostOnW2);
    expect(twice.last).toMatchObject([{ type: 'JobRequeued', data: { attempt: 3, workerId: 'w2' } }]);
    const third: JobCommand = { kind: 'assign', id, workerId: 'w3', hostId: 'h3' };
    const lostOnW3: JobCommand = { kind: 'lose', id, workerId: 'w3', reason: 'host gone', retries: 2 };
    expect(run(submit, assign, started, lost(2), again, lostOnW2, third, lostOnW3).last).toEqual([
      { type: 'JobFailed', version: 1, data: { id, error: 'host gone', log: null } },
    ]);
    // No policy, or a loss that is not the host's: it fails as before.
    expect(run(submit, assign, started, lost(0)).last).toMatchObject([{ type: 'JobFailed' }]);
    expect(run(submit, assign, { kind: 'lose', id, workerId: 'w1', reason: 'x' }).last).toMatchObject([
      { type: 'JobFailed' },
    ]);
  });

  it('does not run again a job whose cancel was in flight when its host died', () => {
    const cancel: JobCommand = { kind: 'cancel', id };
    expect(
      run(submit, assign, started, cancel, { kind: 'lose', id, workerId: 'w1', reason: 'gone', retries: 3 })
        .last,
    ).toMatchObject([{ type: 'JobFailed' }]);
  });

  it('ignores what the lost attempt’s worker reports after the job was put back', () => {
    const requeued = [
      submit,
      assign,
      started,
      { kind: 'lose', id, workerId: 'w1', reason: 'gone', retries: 1 },
    ];
    const late: JobCommand = {
      kind: 'finish',
      id,
      workerId: 'w1',
      outcome: 'succeeded',
      result: 1,
      error: null,
      log,
    };
    expect(run(...(requeued as JobCommand[]), late).last).toEqual([]);
    expect(run(...(requeued as JobCommand[]), { kind: 'started', id, workerId: 'w1', pid: 1 }).last).toEqual(
      [],
    );
  });

  it('does not assign a job twice', () => {
    expect(isCommandError(run(submit, assign, assign).last)).toBe(true);
  });

  it('deletes only an ended job, once', () => {
    const remove: JobCommand = { kind: 'delete', id };
    const cancel: JobCommand = { kind: 'cancel', id };
    const running = run(submit, assign, started, remove).last;
    expect(isCommandError(running) && running.message).toBe(
      `job ${id} is running: only an ended job is deleted`,
    );
    const deleted = run(submit, cancel, remove);
    expect(deleted.last).toEqual([{ type: 'JobDeleted', version: 1, data: { id } }]);
    expect(deleted.state).toMatchObject({ state: 'cancelled', deleted: true });
    expect(run(submit, cancel, remove, remove).last).toEqual([]);
    expect(isCommandError(run(remove).last)).toBe(true);
  });
});
