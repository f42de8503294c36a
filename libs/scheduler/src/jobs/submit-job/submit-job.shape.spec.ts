import type { SubmitJobCommand } from '@spindle/contracts';
import type { FunctionState } from '../../functions/domain/function.decider';
import { shapeSubmit } from './submit-job.shape';

const sha = (c: string) => c.repeat(64);
const fn: FunctionState = {
  status: 'registered',
  definition: {
    artifact: 'group-1-jobs.py',
    entrypoint: 'Main',
    runtime: 'python',
    defaultContext: 'default',
    tags: [],
    libraries: [{ artifact: 'group-1-helpers.py', fileName: 'helpers.py' }],
  },
};
const command: SubmitJobCommand = {
  correlationId: 'c',
  issuedAt: '2026-12-04T10:00:00.000Z',
  id: '0193a5e0-0000-7000-8000-000000000001',
  function: 'group-1-jobs.Main',
  args: {},
  artifact: 'group-1-jobs.py',
  artifactSha256: sha('a'),
  libraries: [{ artifact: 'group-1-helpers.py', sha256: sha('b') }],
};
const refs = { fn, contextLive: () => true };

describe('shaping a submit', () => {
  it("pins the function's libraries with the content the gateway found and their file names", () => {
    expect(shapeSubmit(command, refs)).toMatchObject({
      kind: 'submit',
      job: {
        program: {
          artifact: 'group-1-jobs.py',
          sha256: sha('a'),
          libraries: [{ artifact: 'group-1-helpers.py', sha256: sha('b'), fileName: 'helpers.py' }],
        },
      },
    });
  });

  it('refuses a submit whose libraries are not the function’s (it changed meanwhile)', () => {
    for (const libraries of [undefined, [], [{ artifact: 'other.py', sha256: sha('b') }]])
      expect(shapeSubmit({ ...command, libraries }, refs)).toMatchObject({
        ok: false,
        error: { code: 'conflict' },
      });
  });

  it('records no libraries for a function without any', () => {
    const plain: FunctionState = {
      status: 'registered',
      definition: { ...fn.definition, libraries: undefined },
    };
    const shaped = shapeSubmit({ ...command, libraries: undefined }, { ...refs, fn: plain });
    expect(shaped).toMatchObject({ kind: 'submit' });
    expect('job' in shaped && shaped.job.program).not.toHaveProperty('libraries');
  });
});
