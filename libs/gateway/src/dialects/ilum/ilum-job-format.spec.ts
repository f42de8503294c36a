import { JOB_STATES } from '@spindle/contracts';
import type { JobView } from '@spindle/read-models';
import {
  coreStatesOf,
  ilumJobInfo,
  ilumJobState,
  ilumProgram,
  parseArgs,
  parsePairs,
} from './ilum-job-format';

describe("Ilum's single jobs", () => {
  it('maps every core state to one Ilum state; a stopped job is FINISHED (1.3.0)', () => {
    expect(Object.fromEntries(JOB_STATES.map((s) => [s, ilumJobState(s)]))).toEqual({
      queued: 'SUBMITTED',
      starting: 'STARTING',
      running: 'BUSY',
      cancelling: 'BUSY',
      succeeded: 'FINISHED',
      failed: 'FAILED',
      cancelled: 'FINISHED',
      timed_out: 'FAILED',
    });
  });

  it('reads an Ilum state filter as the core states it stands for', () => {
    expect(coreStatesOf(['FINISHED', 'SUBMITTED'])).toEqual(['queued', 'succeeded', 'cancelled']);
    expect(coreStatesOf(['BUSY'])).toEqual(['running', 'cancelling']);
    expect(coreStatesOf(['READY', 'UNKNOWN'])).toEqual([]);
  });

  it('parses k=v;k2=v2 pairs and a;b;c arguments', () => {
    expect(parsePairs('tags', 'team=etl; env = prod;;x=a=b')).toEqual({
      ok: true,
      value: { team: 'etl', env: 'prod', x: 'a=b' },
    });
    expect(parsePairs('tags', undefined)).toEqual({ ok: true, value: {} });
    // A key that names an object's prototype is a key like any other.
    const proto = parsePairs('tags', '__proto__=x;constructor=y');
    expect(proto.ok && Object.keys(proto.value)).toEqual(['__proto__', 'constructor']);
    expect(proto.ok && JSON.stringify(proto.value)).toBe('{"__proto__":"x","constructor":"y"}');
    const bad = parsePairs('jobConfig', 'spark.a=1;oops');
    expect(bad).toEqual({ ok: false, message: expect.stringContaining('jobConfig must be key=value pairs') });
    expect(parsePairs('tags', 'a=1;b=2;c=3', 2)).toEqual({
      ok: false,
      message: 'tags holds at most 2 pairs',
    });
    expect(parseArgs('a;b;;c')).toEqual(['a', 'b', '', 'c']);
    expect(parseArgs('')).toEqual([]);
  });

  it('finds the program jobClass names, per language, the other files its libraries', () => {
    expect(ilumProgram('PYTHON', 'report', ['util.py', 'report.py', 'data.zip'])).toEqual({
      ok: true,
      value: { file: 'report.py', libraries: ['util.py', 'data.zip'], entrypoint: 'main', runtime: 'python' },
    });
    expect(ilumProgram('PYTHON', 'report.run', ['report.py'])).toMatchObject({
      value: { entrypoint: 'run' },
    });
    expect(ilumProgram('NODE', 'job', ['job.mjs'])).toEqual({
      ok: true,
      value: { file: 'job.mjs', libraries: [], entrypoint: '', runtime: 'node' },
    });
    expect(ilumProgram('SCALA', 'com.example.Main', ['app.jar'])).toEqual({
      ok: true,
      value: { file: 'app.jar', libraries: [], entrypoint: 'com.example.Main', runtime: 'jvm' },
    });
    // Every jar on the class path: the first the program, the class in any of them.
    expect(ilumProgram('SCALA', 'com.example.Main', ['a.jar', 'notes.txt', 'b.jar'])).toEqual({
      ok: true,
      value: { file: 'a.jar', libraries: ['b.jar'], entrypoint: 'com.example.Main', runtime: 'jvm' },
    });
    expect(ilumProgram('PYTHON', 'missing', ['report.py'])).toEqual({
      ok: false,
      message: 'jobClass names missing.py, which is not among the files sent',
    });
    expect(ilumProgram('SCALA', 'Main', ['notes.txt'])).toEqual({
      ok: false,
      message: 'jars must hold a jar for a SCALA job',
    });
    expect(ilumProgram('PYTHON', undefined, ['report.py'])).toEqual({
      ok: false,
      message: 'jobClass is required',
    });
    expect(ilumProgram('PYTHON', '../x', ['report.py'])).toMatchObject({ ok: false });
  });

  it("answers a job as Ilum's jobInfo", () => {
    const at = new Date('2026-12-01T10:00:00.000Z');
    const job = {
      id: '0193a5b2-7c1e-7f00-8000-1234567890ab',
      function: 'ilum-0123456789ab',
      name: 'nightly',
      cluster: 'default',
      tags: { team: 'etl' },
      runtime: 'python',
      state: 'failed',
      error: 'boom',
      workerId: 'w-1',
      createdAt: at,
      startedAt: new Date(at.getTime() + 10),
      finishedAt: new Date(at.getTime() + 20),
    } as unknown as JobView;
    expect(ilumJobInfo(job)).toEqual({
      jobId: job.id,
      groupId: null,
      jobName: 'nightly',
      jobType: 'SINGLE',
      tags: { team: 'etl' },
      language: 'PYTHON',
      clusterName: 'default',
      appId: 'w-1',
      state: 'FAILED',
      error: 'boom',
      submitTime: at.getTime(),
      startTime: at.getTime() + 10,
      endTime: at.getTime() + 20,
    });
  });
});
