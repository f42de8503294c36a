import { partExecArgv } from './topology-processes';

describe("a topology part's V8 flags", () => {
  it("give its young generation 32 MB a semi-space, beside the supervisor's own flags", () => {
    expect(partExecArgv(['-r', '@swc-node/register'], '')).toEqual([
      '--max-semi-space-size=32',
      '-r',
      '@swc-node/register',
    ]);
  });

  it('pass on a size the supervisor was given instead, on its command line or in NODE_OPTIONS', () => {
    expect(partExecArgv(['--max-semi-space-size=64'], '')).toEqual(['--max-semi-space-size=64']);
    expect(partExecArgv(['--max-semi-space-size', '8'], '')).toEqual(['--max-semi-space-size', '8']);
    expect(partExecArgv([], '--inspect --max-semi-space-size=8')).toEqual([]);
    // A flag that only starts alike is another flag.
    expect(partExecArgv(['--max-semi-space-size-x'], '')).toEqual([
      '--max-semi-space-size=32',
      '--max-semi-space-size-x',
    ]);
  });
});
