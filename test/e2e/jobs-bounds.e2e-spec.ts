import { http } from '../support/http';
import { registerFunction, submit, upload, waitForState } from '../support/jobs';
import { spindleSuite } from '../support/spindle-suite';
import { SPINDLE_MODES } from '../support/spindle-modes';

jest.setTimeout(180_000);

const MAX_LOG_BYTES = 1024 * 1024;

const BIG = `
exports.bigResult = () => ({ text: 'r'.repeat(10 * 1024 * 1024), tail: 'end' });
exports.small = () => 'fine';
`;
// 1 GiB of output in lines of 8 KiB, then a result: the job must end, its log capped.
const FLOOD = `#!/bin/sh
line=$(head -c 8191 /dev/zero | tr '\\0' 'x')
yes "$line" | head -c 1073741824
echo done
`;

// Bounded inputs from jobs: a result too large for an event, and output without end, leave
// Spindle healthy and the job's end as docs/security.md says.
describe.each(SPINDLE_MODES)('job output bounds over %s', (_mode, env) => {
  const suite = spindleSuite({
    name: 'bounds',
    env: { ...env, SPINDLE_JOB_MAX_LOG_BYTES: String(MAX_LOG_BYTES) },
  });

  beforeAll(async () => {
    await upload(suite.url, 'big.js', BIG);
    await upload(suite.url, 'flood.sh', FLOOD);
    await registerFunction(suite.url, 'bigResult', 'big.js', 'node', 'bigResult');
    await registerFunction(suite.url, 'small', 'big.js', 'node', 'small');
    await registerFunction(suite.url, 'flood', 'flood.sh', 'exec');
  });

  it('moves a 10 MB result into the log and answers a reference to it', async () => {
    const job = await waitForState(suite.url, (await submit(suite.url, 'bigResult', {})).id);
    expect(job.state).toBe('succeeded');
    const ref = (job.result as { resultInLog: { bytes: number; from: number; lines: number } }).resultInLog;
    expect(ref.bytes).toBeGreaterThan(10 * 1024 * 1024);
    const page = await http(
      suite.url,
      'GET',
      `/api/v1/jobs/${job.id}/logs?from=${ref.from}&size=${ref.lines}`,
    );
    expect(page.status).toBe(200);
    const json = (page.body.items as { text: string }[]).map((l) => l.text).join('');
    expect(Buffer.byteLength(json)).toBe(ref.bytes);
    expect(JSON.parse(json)).toMatchObject({ tail: 'end' });
  });

  it('keeps the first bytes of 1 GB of output, ends the job, and runs the next one', async () => {
    const job = await waitForState(suite.url, (await submit(suite.url, 'flood', {})).id, undefined, 150_000);
    expect(job.state).toBe('succeeded');
    expect(job.result).toBe('done'); // the job ran to its end: its output was read, not kept
    const tail = await http(suite.url, 'GET', `/api/v1/jobs/${job.id}/logs?size=2`);
    const texts = (tail.body.items as { text: string }[]).map((l) => l.text);
    expect(texts.at(-1)).toContain('SPINDLE_JOB_MAX_LOG_BYTES');
    expect(tail.body.totalLines).toBeLessThanOrEqual(MAX_LOG_BYTES / 8192 + 1);
    const next = await waitForState(suite.url, (await submit(suite.url, 'small', {})).id);
    expect(next).toMatchObject({ state: 'succeeded', result: 'fine' });
  });
});
