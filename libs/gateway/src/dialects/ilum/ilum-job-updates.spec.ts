import type { FeedEntryView, JobView } from '@spindle/read-models';
import { jobInfoAt } from './ilum-job-updates';

const submitted = new Date('2026-12-01T10:00:00.000Z');
const started = new Date('2026-12-01T10:00:01.000Z');
const ended = new Date('2026-12-01T10:00:02.000Z');
// The row as it is once the job has ended: each change's jobInfo says what was true then.
const row = {
  id: '0193a5b2-7c1e-7f00-8000-1234567890ab',
  function: 'ilum-0123456789ab',
  name: 'streamed',
  cluster: 'default',
  tags: { stream: 'yes' },
  runtime: 'python',
  state: 'failed',
  error: 'boom',
  workerId: 'w-1',
  createdAt: submitted,
  startedAt: started,
  finishedAt: ended,
} as unknown as JobView;
const entry = (type: string, state: string, at: Date, workerId: string | null = 'w-1') =>
  ({ seq: '1', kind: 'job', type, state, subjectId: row.id, workerId, occurredAt: at }) as FeedEntryView;

describe("Ilum's job updates", () => {
  it('answers each change as the jobInfo of that moment', () => {
    expect(jobInfoAt(row, entry('JobSubmitted', 'queued', submitted, null))).toMatchObject({
      state: 'SUBMITTED',
      appId: null,
      startTime: null,
      endTime: null,
      error: null,
    });
    expect(jobInfoAt(row, entry('JobAssigned', 'starting', submitted))).toMatchObject({
      state: 'STARTING',
      appId: 'w-1',
      startTime: null,
    });
    expect(jobInfoAt(row, entry('JobStarted', 'running', started))).toMatchObject({
      state: 'BUSY',
      startTime: started.getTime(),
      endTime: null,
    });
    expect(jobInfoAt(row, entry('JobFailed', 'failed', ended))).toMatchObject({
      state: 'FAILED',
      startTime: started.getTime(),
      endTime: ended.getTime(),
      error: 'boom',
      jobName: 'streamed',
      tags: { stream: 'yes' },
    });
  });

  it('takes the start from the entry when the row was read before it', () => {
    const early = { ...row, startedAt: null, finishedAt: null } as JobView;
    expect(jobInfoAt(early, entry('JobStarted', 'running', started))).toMatchObject({
      startTime: started.getTime(),
    });
  });
});
