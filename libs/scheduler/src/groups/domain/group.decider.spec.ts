import type { NewEvent, SpindleEvent } from '@spindle/contracts';
import { groupDecider } from './group.decider';
import type { GroupCommand } from './group.decider';

// Given(events) / When(command) / Then(events or error), with no I/O and no clock.
const meta = { correlationId: 'c-1', issuedAt: '2026-12-03T10:00:00.000Z' };
const definition = {
  clusterName: 'default',
  description: '',
  kind: 'JOB' as const,
  language: 'PYTHON' as const,
  tags: {},
  jobConfig: {},
  jars: [],
  files: [],
  pyFiles: ['group-g1-jobs.py'],
  pyRequirements: [],
};
const create: GroupCommand = { kind: 'create', ...meta, id: 'g1', name: 'analytics', scale: 2, definition };

function given(...events: NewEvent[]): SpindleEvent[] {
  return events.map((e, i) => ({
    ...e,
    id: `e-${i}`,
    streamId: 'group-analytics',
    streamPosition: i + 1,
    occurredAt: meta.issuedAt,
    correlationId: 'c-0',
    causationId: null,
  }));
}

function when(history: SpindleEvent[], command: GroupCommand) {
  const state = history.reduce(groupDecider.evolve, groupDecider.initialState);
  return groupDecider.decide(command, state);
}

const created: NewEvent = {
  type: 'GroupCreated',
  version: 1,
  data: { id: 'g1', name: 'analytics', scale: 2, definition },
};
const stopped: NewEvent = { type: 'GroupStopped', version: 1, data: { id: 'g1', name: 'analytics' } };
const deleted: NewEvent = { type: 'GroupDeleted', version: 1, data: { id: 'g1', name: 'analytics' } };
const named = (kind: 'stop' | 'delete'): GroupCommand => ({ kind, ...meta, name: 'analytics' });
const rescale = (scale: number): GroupCommand => ({ kind: 'rescale', ...meta, name: 'analytics', scale });

describe('group decider', () => {
  it('creates a group, and refuses a second one of the same name, active or archived', () => {
    expect(when(given(), create)).toEqual([created]);
    expect(when(given(created), create)).toEqual({
      code: 'conflict',
      message: 'group analytics already exists',
      field: 'name',
    });
    expect(when(given(created, stopped), create)).toMatchObject({ code: 'conflict' });
  });

  it('lets a deleted group’s name be taken again', () => {
    expect(when(given(created, deleted), { ...create, id: 'g2' })).toEqual([
      { ...created, data: { ...created.data, id: 'g2' } },
    ]);
  });

  it('rescales to an absolute count, records nothing when it is already there', () => {
    expect(when(given(created), rescale(3))).toEqual([
      { type: 'GroupRescaled', version: 1, data: { id: 'g1', name: 'analytics', scale: 3 } },
    ]);
    expect(when(given(created), rescale(2))).toEqual([]);
    const rescaled: NewEvent = {
      type: 'GroupRescaled',
      version: 1,
      data: { id: 'g1', name: 'analytics', scale: 1 },
    };
    expect(when(given(created, rescaled), rescale(1))).toEqual([]);
  });

  it('refuses to rescale a stopped group, or one that does not exist', () => {
    expect(when(given(created, stopped), rescale(3))).toEqual({
      code: 'conflict',
      message: 'group analytics is stopped (ARCHIVED)',
      field: 'groupId',
    });
    expect(when(given(), rescale(3))).toMatchObject({ code: 'not_found', field: 'name' });
    expect(when(given(created, deleted), rescale(3))).toMatchObject({ code: 'not_found' });
  });

  it('stops (archives) once; a second stop records nothing', () => {
    expect(when(given(created), named('stop'))).toEqual([stopped]);
    expect(when(given(created, stopped), named('stop'))).toEqual([]);
    expect(when(given(), named('stop'))).toMatchObject({ code: 'not_found' });
  });

  it('deletes an active or an archived group, never a missing one', () => {
    expect(when(given(created), named('delete'))).toEqual([deleted]);
    expect(when(given(created, stopped), named('delete'))).toEqual([deleted]);
    expect(when(given(created, deleted), named('delete'))).toEqual({
      code: 'not_found',
      message: 'group analytics does not exist',
      field: 'name',
    });
  });
});
