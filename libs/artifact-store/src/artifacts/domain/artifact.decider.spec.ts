import type { SpindleEvent, NewEvent } from '@spindle/contracts';
import { artifactDecider } from './artifact.decider';
import type { ArtifactCommand } from './artifact.decider';

const blob = { size: 3, sha256: 'a'.repeat(64), sha1: 'b'.repeat(40) };
const other = { size: 4, sha256: 'c'.repeat(64), sha1: 'd'.repeat(40) };

function given(...events: NewEvent[]): SpindleEvent[] {
  return events.map((e, i) => ({
    ...e,
    id: `e-${i}`,
    streamId: 'artifact-x.py',
    streamPosition: i + 1,
    occurredAt: '2026-11-22T10:00:00.000Z',
    correlationId: 'c',
    causationId: null,
  }));
}

function when(history: SpindleEvent[], command: ArtifactCommand) {
  return artifactDecider.decide(
    command,
    history.reduce(artifactDecider.evolve, artifactDecider.initialState),
  );
}

const stored = (b = blob): NewEvent => ({
  type: 'ArtifactStored',
  version: 1,
  data: {
    name: 'x.py',
    kind: 'python',
    size: b.size,
    sha256: b.sha256,
    sha1: b.sha1,
    contentType: 'text/x-python',
  },
});
const store = (b = blob, force = false): ArtifactCommand => ({
  kind: 'store',
  name: 'x.py',
  blob: b,
  contentType: 'text/x-python',
  force,
});

describe('artifact decisions', () => {
  it('stores a new artifact with its kind from the file name', () => {
    expect(when(given(), store())).toEqual([stored()]);
  });

  it('refuses the same name again without force', () => {
    expect(when(given(stored()), store(other))).toMatchObject({ code: 'conflict', field: 'name' });
  });

  it('replaces the content with force, and records nothing when the content is the same', () => {
    expect(when(given(stored()), store(other, true))).toEqual([stored(other)]);
    expect(when(given(stored()), store(blob, true))).toEqual([]);
  });

  it('deletes a stored artifact, and only a stored one', () => {
    const deleted: NewEvent = { type: 'ArtifactDeleted', version: 1, data: { name: 'x.py' } };
    expect(when(given(stored()), { kind: 'delete', name: 'x.py' })).toEqual([deleted]);
    expect(when(given(stored(), deleted), { kind: 'delete', name: 'x.py' })).toMatchObject({
      code: 'not_found',
    });
    expect(when(given(stored(), deleted), store())).toEqual([stored()]);
  });
});
