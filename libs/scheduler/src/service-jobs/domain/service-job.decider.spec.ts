import type { NewEvent, SpindleEvent } from '@spindle/contracts';
import { serviceJobDecider } from './service-job.decider';
import type { ServiceJobCommand } from './service-job.decider';

// Given(events) / When(command) / Then(events or error), with no I/O and no clock.
const T0 = Date.parse('2026-12-03T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const program = {
  artifact: 'serve.js',
  sha256: 'a'.repeat(64),
  entrypoint: 'main',
  runtime: 'node' as const,
};
const front = {
  name: 'front',
  function: 'serve',
  context: 'default',
  args: {},
  program,
  countInit: 2,
  countMax: 3,
};
const meta = { correlationId: 'c-1', issuedAt: at(0) };
const A1 = '0193a5b2-7c1e-7f00-8000-c0ffee0000a1';
const A2 = '0193a5b2-7c1e-7f00-8000-c0ffee0000a2';
const A3 = '0193a5b2-7c1e-7f00-8000-c0ffee0000a3';

function given(...events: (NewEvent & { at?: number })[]): SpindleEvent[] {
  return events.map(({ at: ms = 0, ...e }, i) => ({
    ...e,
    id: `e-${i}`,
    streamId: 'service-job-web',
    streamPosition: i + 1,
    occurredAt: at(ms),
    correlationId: 'c-0',
    causationId: null,
  }));
}

function when(history: SpindleEvent[], command: ServiceJobCommand) {
  const state = history.reduce(serviceJobDecider.evolve, serviceJobDecider.initialState);
  return serviceJobDecider.decide(command, state);
}

const created: NewEvent = {
  type: 'ServiceJobCreated',
  version: 1,
  data: { name: 'web', taskGroups: [front] },
};
const started: NewEvent = { type: 'ServiceJobStarted', version: 1, data: { name: 'web' } };
const placed = (allocId: string): NewEvent => ({
  type: 'AllocationPlaced',
  version: 1,
  data: { name: 'web', taskGroup: 'front', allocId },
});
const running = (allocId: string): NewEvent => ({
  type: 'AllocationChanged',
  version: 1,
  data: { name: 'web', allocId, state: 'running' },
});
const failed = (allocId: string): NewEvent => ({
  type: 'AllocationEnded',
  version: 1,
  data: { name: 'web', allocId, outcome: 'failed', reason: 'exit code 1', stopped: false },
});
const scale = (mode: 'absolute' | 'delta', count: number): ServiceJobCommand => ({
  kind: 'scale',
  name: 'web',
  taskGroup: 'front',
  mode,
  count,
});
const countSet = (count: number): NewEvent => ({
  type: 'ServiceJobCountSet',
  version: 1,
  data: { name: 'web', taskGroup: 'front', count },
});
const place = (ms: number, ...ids: string[]): ServiceJobCommand => ({
  kind: 'place',
  name: 'web',
  at: at(ms),
  allocations: ids.map((id) => ({ id, taskGroup: 'front' })),
});

describe('service job decisions', () => {
  it('creates a service job once, with distinct groups whose countInit fits countMax', () => {
    const create = { kind: 'create' as const, ...meta, name: 'web', taskGroups: [front] };
    expect(when(given(), create)).toEqual([created]);
    expect(when(given(created), create)).toMatchObject({ code: 'conflict', field: 'name' });
    expect(when(given(), { ...create, taskGroups: [front, front] })).toMatchObject({ code: 'invalid' });
    expect(when(given(), { ...create, taskGroups: [{ ...front, countInit: 4 }] })).toMatchObject({
      code: 'invalid',
      field: 'taskGroups.0.countInit',
    });
  });

  it('starts at countInit, places what the count misses, and no more', () => {
    expect(when(given(created), { kind: 'start', name: 'web' })).toEqual([started]);
    expect(when(given(created, started), { kind: 'start', name: 'web' })).toEqual([]);
    expect(when(given(created, started), place(0, A1, A2, A3))).toEqual([placed(A1), placed(A2)]);
    expect(when(given(created, started, placed(A1), placed(A2)), place(0, A3))).toEqual([]);
  });

  it('places nothing for a job that is not started', () => {
    expect(when(given(created), place(0, A1))).toEqual([]);
  });

  it('sets an absolute count within [0, countMax] and refuses one outside', () => {
    expect(when(given(created, started), scale('absolute', 3))).toEqual([countSet(3)]);
    expect(when(given(created, started), scale('absolute', 4))).toMatchObject({
      code: 'invalid',
      field: 'count',
    });
    expect(when(given(created, started), scale('absolute', 2))).toEqual([]);
  });

  it("takes Genvid's delta, clamped to [0, countMax], and stops the group on a delta of 0", () => {
    expect(when(given(created, started), scale('delta', 5))).toEqual([countSet(3)]);
    expect(when(given(created, started), scale('delta', -1))).toEqual([countSet(1)]);
    expect(when(given(created, started), scale('delta', -9))).toEqual([countSet(0)]);
    expect(when(given(created, started), scale('delta', 0))).toEqual([countSet(0)]);
  });

  it('refuses to scale a job that is not started, or a group it does not have', () => {
    expect(when(given(created), scale('delta', 1))).toMatchObject({ code: 'conflict' });
    expect(
      when(given(created, started), { ...scale('delta', 1), taskGroup: 'back' } as ServiceJobCommand),
    ).toMatchObject({
      code: 'not_found',
      field: 'taskGroup',
    });
  });

  it('restarts an instance that ended only after a back-off that grows while instances keep failing', () => {
    const history = given(created, started, placed(A1), placed(A2), { ...failed(A1), at: 1000 });
    expect(when(history, place(1000, A3))).toEqual([]);
    expect(when(history, place(1500, A3))).toEqual([placed(A3)]);
    const twice = given(created, started, placed(A1), placed(A2), { ...failed(A1), at: 1000 }, placed(A3), {
      ...failed(A3),
      at: 2000,
    });
    expect(when(twice, place(2500, A1))).toEqual([]);
    expect(when(twice, place(3000, A1))).toEqual([placed(A1)]);
  });

  it('restarts at once after an instance that had run for a while', () => {
    const history = given(
      created,
      started,
      placed(A1),
      placed(A2),
      { ...running(A1), at: 0 },
      {
        ...failed(A1),
        at: 60_000,
      },
    );
    expect(when(history, place(60_500, A3))).toEqual([placed(A3)]);
  });

  it('records a change or an end of an instance once, and ignores unknown instances', () => {
    const history = given(created, started, placed(A1));
    expect(when(history, { kind: 'change', name: 'web', allocId: A1, state: 'running' })).toEqual([
      running(A1),
    ]);
    expect(
      when(given(created, started, placed(A1), running(A1)), {
        kind: 'change',
        name: 'web',
        allocId: A1,
        state: 'running',
      }),
    ).toEqual([]);
    const end = {
      kind: 'end' as const,
      name: 'web',
      allocId: A1,
      outcome: 'failed' as const,
      reason: 'exit code 1',
      stopped: false,
    };
    expect(when(history, end)).toEqual([failed(A1)]);
    expect(when(given(created, started, placed(A1), failed(A1)), end)).toEqual([]);
  });

  it('stops and deletes a job that exists, and refuses one that does not', () => {
    expect(when(given(created, started), { kind: 'stop', name: 'web' })).toEqual([
      { type: 'ServiceJobStopped', version: 1, data: { name: 'web' } },
    ]);
    expect(when(given(created), { kind: 'stop', name: 'web' })).toEqual([]);
    expect(when(given(created), { kind: 'delete', name: 'web' })).toEqual([
      { type: 'ServiceJobDeleted', version: 1, data: { name: 'web' } },
    ]);
    expect(when(given(), { kind: 'start', name: 'web' })).toMatchObject({ code: 'not_found' });
  });
});
