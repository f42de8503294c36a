import { DEFAULT_CONTEXT_SETTINGS } from '@spindle/contracts';
import type { SpindleEvent, NewEvent } from '@spindle/contracts';
import { contextDecider } from './context.decider';
import type { ContextCommand } from './context.decider';

// Given(events) / When(command) / Then(events or error), with no I/O and no clock.
const meta = { correlationId: 'c-1', issuedAt: '2026-11-22T10:00:00.000Z' };
const settings = { ...DEFAULT_CONTEXT_SETTINGS, maxJobs: 4 };

function given(...events: NewEvent[]): SpindleEvent[] {
  return events.map((e, i) => ({
    ...e,
    id: `e-${i}`,
    streamId: 'context-etl',
    streamPosition: i + 1,
    occurredAt: meta.issuedAt,
    correlationId: 'c-0',
    causationId: null,
  }));
}

function when(history: SpindleEvent[], command: ContextCommand) {
  const state = history.reduce(contextDecider.evolve, contextDecider.initialState);
  return contextDecider.decide(command, state);
}

const created: NewEvent = { type: 'ContextCreated', version: 1, data: { name: 'etl', settings } };
const deleted: NewEvent = { type: 'ContextDeleted', version: 1, data: { name: 'etl' } };

describe('context decisions', () => {
  it('creates a context that does not exist', () => {
    expect(when(given(), { kind: 'create', ...meta, name: 'etl', settings })).toEqual([created]);
  });

  it('refuses to create a context twice', () => {
    expect(when(given(created), { kind: 'create', ...meta, name: 'etl', settings })).toMatchObject({
      code: 'conflict',
      field: 'name',
    });
  });

  it('creates a context again after it was deleted', () => {
    expect(when(given(created, deleted), { kind: 'create', ...meta, name: 'etl', settings })).toEqual([
      created,
    ]);
  });

  it('changes settings of an existing context', () => {
    const next = { ...settings, workerMode: 'shared' as const };
    expect(when(given(created), { kind: 'update', ...meta, name: 'etl', settings: next })).toEqual([
      { type: 'ContextSettingsChanged', version: 1, data: { name: 'etl', settings: next } },
    ]);
  });

  it('records nothing when an update changes nothing', () => {
    expect(when(given(created), { kind: 'update', ...meta, name: 'etl', settings })).toEqual([]);
  });

  it('refuses to update or delete a context that does not exist', () => {
    expect(when(given(), { kind: 'update', ...meta, name: 'etl', settings })).toMatchObject({
      code: 'not_found',
    });
    expect(when(given(created, deleted), { kind: 'delete', ...meta, name: 'etl' })).toMatchObject({
      code: 'not_found',
    });
  });

  it('deletes an existing context', () => {
    expect(when(given(created), { kind: 'delete', ...meta, name: 'etl' })).toEqual([deleted]);
  });

  it("fills the settings a create leaves out with Mist's defaults", () => {
    expect(when(given(), { kind: 'create', ...meta, name: 'etl', settings: { maxJobs: 4 } })).toEqual([
      created,
    ]);
  });

  it('keeps the settings an update leaves out, and an infinite duration named as null', () => {
    const partial = { workerMode: 'shared' as const, downtimeMs: null, maxJobs: undefined };
    expect(when(given(created), { kind: 'update', ...meta, name: 'etl', settings: partial })).toEqual([
      {
        type: 'ContextSettingsChanged',
        version: 1,
        data: { name: 'etl', settings: { ...settings, workerMode: 'shared', downtimeMs: null } },
      },
    ]);
    expect(when(given(created), { kind: 'update', ...meta, name: 'etl', settings: {} })).toEqual([]);
  });

  it('never deletes the default context', () => {
    expect(when(given(), { kind: 'delete', ...meta, name: 'default' })).toMatchObject({ code: 'forbidden' });
  });
});
