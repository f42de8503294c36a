import type { SpindleEvent, FunctionDefinition, NewEvent } from '@spindle/contracts';
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

function given(...events: NewEvent[]): SpindleEvent[] {
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
function when(history: SpindleEvent[], command: FunctionCommand) {
  return functionDecider.decide(
    command,
    history.reduce(functionDecider.evolve, functionDecider.initialState),
  );
}
const registered: NewEvent = {
  type: 'FunctionRegistered',
  version: 1,
  data: { name: 'sum', ...definition, retries: 0 },
};

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
      { type: 'FunctionChanged', version: 1, data: { name: 'sum', ...next, retries: 0 } },
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

  it('records a retry policy, and keeps it through a change that names none', () => {
    const retrying = { ...definition, retries: 3 };
    const withRetries = when(given(), { kind: 'register', ...meta, name: 'sum', definition: retrying });
    expect(withRetries).toEqual([
      { type: 'FunctionRegistered', version: 1, data: { name: 'sum', ...retrying } },
    ]);
    const history = given(...(withRetries as NewEvent[]));
    expect(when(history, { kind: 'change', ...meta, name: 'sum', definition })).toEqual([]);
    const tagged = { ...definition, tags: ['math'] };
    expect(when(history, { kind: 'change', ...meta, name: 'sum', definition: tagged })).toEqual([
      { type: 'FunctionChanged', version: 1, data: { name: 'sum', ...tagged, retries: 3 } },
    ]);
    expect(
      when(history, { kind: 'change', ...meta, name: 'sum', definition: { ...definition, retries: 0 } }),
    ).toEqual([{ type: 'FunctionChanged', version: 1, data: { name: 'sum', ...definition, retries: 0 } }]);
  });

  it('fills what a register leaves out with the defaults, and leaves out no secrets', () => {
    expect(
      when(given(), {
        kind: 'register',
        ...meta,
        name: 'sum',
        definition: { artifact: 'sum.py', runtime: 'python', secrets: [] },
      }),
    ).toEqual([
      {
        type: 'FunctionRegistered',
        version: 1,
        data: {
          name: 'sum',
          artifact: 'sum.py',
          runtime: 'python',
          entrypoint: '',
          defaultContext: 'default',
          tags: [],
          retries: 0,
        },
      },
    ]);
  });

  it('keeps what a change leaves out (secrets too), and removes secrets a change names as none', () => {
    const secrets = [{ id: 'db' }];
    const history = given({
      type: 'FunctionRegistered',
      version: 1,
      data: { name: 'sum', ...definition, retries: 2, secrets },
    });
    expect(when(history, { kind: 'change', ...meta, name: 'sum', definition: { tags: ['math'] } })).toEqual([
      {
        type: 'FunctionChanged',
        version: 1,
        data: { name: 'sum', ...definition, tags: ['math'], retries: 2, secrets },
      },
    ]);
    expect(when(history, { kind: 'change', ...meta, name: 'sum', definition: { secrets: [] } })).toEqual([
      { type: 'FunctionChanged', version: 1, data: { name: 'sum', ...definition, retries: 2 } },
    ]);
    expect(when(history, { kind: 'change', ...meta, name: 'sum', definition: {} })).toEqual([]);
  });

  it('reads a function recorded before retry policies as one with none', () => {
    const old: NewEvent = { type: 'FunctionRegistered', version: 1, data: { name: 'sum', ...definition } };
    expect(
      when(given(old), { kind: 'change', ...meta, name: 'sum', definition: { ...definition, retries: 0 } }),
    ).toEqual([]);
  });

  it('records libraries with their file names, and leaves out none', () => {
    const libraries = [{ artifact: 'group-1-helpers.py', fileName: 'helpers.py' }, { artifact: 'util.py' }];
    expect(
      when(given(), { kind: 'register', ...meta, name: 'sum', definition: { ...definition, libraries } }),
    ).toEqual([
      {
        type: 'FunctionRegistered',
        version: 1,
        data: {
          name: 'sum',
          ...definition,
          retries: 0,
          libraries: [
            { artifact: 'group-1-helpers.py', fileName: 'helpers.py' },
            { artifact: 'util.py', fileName: 'util.py' },
          ],
        },
      },
    ]);
    const withLibrary = given({
      type: 'FunctionRegistered',
      version: 1,
      data: {
        name: 'sum',
        ...definition,
        retries: 0,
        libraries: [{ artifact: 'util.py', fileName: 'util.py' }],
      },
    });
    expect(when(withLibrary, { kind: 'change', ...meta, name: 'sum', definition: { tags: ['x'] } })).toEqual([
      {
        type: 'FunctionChanged',
        version: 1,
        data: {
          name: 'sum',
          ...definition,
          tags: ['x'],
          retries: 0,
          libraries: [{ artifact: 'util.py', fileName: 'util.py' }],
        },
      },
    ]);
    expect(
      when(withLibrary, { kind: 'change', ...meta, name: 'sum', definition: { libraries: [] } }),
    ).toEqual([{ type: 'FunctionChanged', version: 1, data: { name: 'sum', ...definition, retries: 0 } }]);
  });

  it('refuses two artifacts under one file name on the program path', () => {
    const clash = (libraries: FunctionDefinition['libraries']) =>
      when(given(), { kind: 'register', ...meta, name: 'sum', definition: { ...definition, libraries } });
    expect(clash([{ artifact: 'other.py', fileName: 'sum.py' }])).toMatchObject({
      code: 'invalid',
      field: 'libraries',
    });
    expect(clash([{ artifact: 'a.py' }, { artifact: 'b.py', fileName: 'a.py' }])).toMatchObject({
      code: 'invalid',
      field: 'libraries',
    });
    // A change that moves the main artifact onto a library's name is refused as well.
    const withLibrary = given({
      type: 'FunctionRegistered',
      version: 1,
      data: {
        name: 'sum',
        ...definition,
        retries: 0,
        libraries: [{ artifact: 'util.py', fileName: 'util.py' }],
      },
    });
    expect(
      when(withLibrary, { kind: 'change', ...meta, name: 'sum', definition: { artifact: 'util.py' } }),
    ).toMatchObject({ code: 'invalid', field: 'libraries' });
  });
});
