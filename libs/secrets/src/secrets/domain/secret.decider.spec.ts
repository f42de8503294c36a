import type { NewEvent, SpindleEvent } from '@spindle/contracts';
import { secretDecider } from './secret.decider';
import type { SecretCommand } from './secret.decider';

// Given(events) / When(command) / Then(events or error), with no I/O and no clock.
const actor = { principal: 'anonymous', source: '127.0.0.1' };
const K1 = 'aaaaaaaaaaaaaaaa';
const K2 = 'bbbbbbbbbbbbbbbb';

function given(...events: NewEvent[]): SpindleEvent[] {
  return events.map((e, i) => ({
    ...e,
    id: `e-${i}`,
    streamId: 'secret-db',
    streamPosition: i + 1,
    occurredAt: `2026-12-03T10:00:0${i}.000Z`,
    correlationId: 'c-0',
    causationId: null,
  }));
}

function when(history: SpindleEvent[], command: SecretCommand) {
  const state = history.reduce(secretDecider.evolve, secretDecider.initialState);
  return secretDecider.decide(command, state);
}

const written = (version: number, keys: string[]): NewEvent => ({
  type: 'SecretWritten',
  version: 1,
  data: { id: 'db', version, keys, masterKeyId: K1, actor },
});
const deleted = (version: number): NewEvent => ({
  type: 'SecretDeleted',
  version: 1,
  data: { id: 'db', version, actor },
});
const read = (version: number, keys: string[]): NewEvent => ({
  type: 'SecretRead',
  version: 1,
  data: { id: 'db', version, keys, actor },
});

describe('secret decisions', () => {
  it('writes version 1 of a new secret, naming its keys (sorted), never a value', () => {
    expect(
      when(given(), { kind: 'write', id: 'db', keys: ['USER', 'PASSWORD'], masterKeyId: K1, actor }),
    ).toEqual([written(1, ['PASSWORD', 'USER'])]);
  });

  it('makes every write a new version, numbered on across a delete', () => {
    const write: SecretCommand = { kind: 'write', id: 'db', keys: ['A'], masterKeyId: K1, actor };
    expect(when(given(written(1, ['A'])), write)).toEqual([written(2, ['A'])]);
    expect(when(given(written(1, ['A']), written(2, ['A']), deleted(2)), write)).toEqual([written(3, ['A'])]);
  });

  it('records a read of the latest version with the keys handed out', () => {
    const history = given(written(1, ['A', 'B']), written(2, ['A', 'B', 'C']));
    expect(when(history, { kind: 'read', id: 'db', actor })).toEqual([read(2, ['A', 'B', 'C'])]);
    expect(when(history, { kind: 'read', id: 'db', keys: ['B'], actor })).toEqual([read(2, ['B'])]);
  });

  it('refuses a read of a missing secret or key, naming the id or the key', () => {
    expect(when(given(), { kind: 'read', id: 'db', actor })).toMatchObject({
      code: 'not_found',
      field: 'id',
    });
    expect(when(given(written(1, ['A']), deleted(1)), { kind: 'read', id: 'db', actor })).toMatchObject({
      code: 'not_found',
      field: 'id',
    });
    expect(when(given(written(1, ['A'])), { kind: 'read', id: 'db', keys: ['A', 'NOPE'], actor })).toEqual({
      code: 'not_found',
      message: 'secret db has no key NOPE',
      field: 'keys',
    });
  });

  it('deletes a live secret, and refuses to delete what is not there', () => {
    expect(when(given(written(1, ['A']), read(1, ['A'])), { kind: 'delete', id: 'db', actor })).toEqual([
      deleted(1),
    ]);
    expect(when(given(written(1, ['A']), deleted(1)), { kind: 'delete', id: 'db', actor })).toMatchObject({
      code: 'not_found',
    });
  });

  it('records a re-wrap of the versions it moved, and nothing when there are none or the secret is gone', () => {
    const versions = [{ version: 1, fromKeyId: K1 }];
    expect(when(given(written(1, ['A'])), { kind: 'rewrap', id: 'db', versions, toKeyId: K2 })).toEqual([
      { type: 'SecretRewrapped', version: 1, data: { id: 'db', versions, toKeyId: K2 } },
    ]);
    expect(when(given(written(1, ['A'])), { kind: 'rewrap', id: 'db', versions: [], toKeyId: K2 })).toEqual(
      [],
    );
    expect(
      when(given(written(1, ['A']), deleted(1)), { kind: 'rewrap', id: 'db', versions, toKeyId: K2 }),
    ).toEqual([]);
  });

  it('keeps the creation time of the first version since the secret was (re)created', () => {
    const state = given(written(1, ['A']), written(2, ['A'])).reduce(
      secretDecider.evolve,
      secretDecider.initialState,
    );
    expect(state).toEqual({
      status: 'active',
      version: 2,
      keys: ['A'],
      createdAt: '2026-12-03T10:00:00.000Z',
    });
  });
});
