import type { EventEnvelope, FunctionDefinition, NewEvent } from '@spindle/contracts';
import { functionDecider } from './function.decider';
import type { FunctionCommand } from './function.decider';

const meta = { correlationId: 'c', issuedAt: '2026-11-22T10:00:00.000Z' };
const definition: FunctionDefinition = {
  artifact: 'sum.py',
  entrypoint: 'run',
  runtime: 'python',
  defaultContext: 'default',
  tags: [],
};

function given(...events: NewEvent[]): EventEnvelope[] {
  return events.map((e, i) => ({
    ...e,
    id: `e-${i}`,
    streamId: 'function-sum',
    streamPosition: i + 1,
    occurredAt: meta.issuedAt,
    correlationId: 'c',
    causationId: null,
  }));
}
function when(history: EventEnvelope[], command: FunctionCommand) {
  return functionDecider.decide(
    command,
    history.reduce(functionDecider.evolve, functionDecider.initialState),
  );
}
const registered: NewEvent = { type: 'FunctionRegistered', version: 1, data: { name: 'sum', ...definition } };

describe('function decisions', () => {
  it('registers a new function, once', () => {
    expect(when(given(), { kind: 'register', ...meta, name: 'sum', definition })).toEqual([registered]);
    expect(when(given(registered), { kind: 'register', ...meta, name: 'sum', definition })).toMatchObject({
      code: 'conflict',
    });
  });

  it('records a change only when something changed', () => {
    const next = { ...definition, tags: ['math'] };
    expect(when(given(registered), { kind: 'change', ...meta, name: 'sum', definition: next })).toEqual([
      { type: 'FunctionChanged', version: 1, data: { name: 'sum', ...next } },
    ]);
    expect(when(given(registered), { kind: 'change', ...meta, name: 'sum', definition })).toEqual([]);
  });

  it('deletes an existing function and refuses unknown ones', () => {
    const deleted: NewEvent = { type: 'FunctionDeleted', version: 1, data: { name: 'sum' } };
    expect(when(given(registered), { kind: 'delete', ...meta, name: 'sum' })).toEqual([deleted]);
    expect(when(given(registered, deleted), { kind: 'delete', ...meta, name: 'sum' })).toMatchObject({
      code: 'not_found',
    });
    expect(when(given(), { kind: 'change', ...meta, name: 'sum', definition })).toMatchObject({
      code: 'not_found',
    });
  });
});
