import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { http } from '../support/http';
import { openSse } from '../support/sse';
import type { SseEvent } from '../support/sse';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';
import { waitUntil } from '../support/wait';

jest.setTimeout(240_000);

// Programs as an Ilum user writes them. `Hold` waits for its gate file, so the test (not the
// clock) decides when requests end, and sees which run at once and which wait.
const JOBS_PY = [
  'import os',
  'import time',
  'from ilum.api import IlumJob',
  '',
  'class Hello(IlumJob):',
  '    def run(self, spark, config):',
  "        return 'hello %s (spark %s)' % (config.get('n'), spark)",
  '',
  'class Hold(IlumJob):',
  '    def run(self, spark, config):',
  "        while not os.path.exists(config['gate']):",
  '            time.sleep(0.02)',
  "        return str(config['n'])",
  '',
  'class Fail(IlumJob):',
  '    def run(self, spark, config):',
  "        raise ValueError('no rows for %s' % config['table'])",
  '',
].join('\n');

// A SCALA group's job, as its user compiles it (javac here; scalac makes the same kind of class).
const WORD_COUNT_JAVA = `
package demo;
import java.util.Map;
public class WordCount {
  private static int calls = 0;
  public String run(Object spark, Map<String, Object> config) {
    calls++;
    String text = String.valueOf(config.get("text"));
    if (text.isBlank()) throw new IllegalStateException("nothing to count");
    return text.trim().split(" +").length + " words (spark " + spark + "), call " + calls;
  }
}`;

// A library jar and a job jar that uses it, as a SCALA group may bring them: one jar each.
const GREETER_JAVA = `
package lib;
public class Greeter {
  public static String greet(Object who) { return "hello " + who + " from the library jar"; }
}`;
const GREET_JAVA = `
package demo;
import java.util.Map;
public class Greet {
  public String run(Object spark, Map<String, Object> config) { return lib.Greeter.greet(config.get("who")); }
}`;

// Compiles the sources (file name → text) against `classPath` into a jar of its own.
function compiledJar(sources: Record<string, string>, classPath: readonly Buffer[] = []): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'ilum-jar-'));
  try {
    const jars = classPath.map((content, i) => {
      writeFileSync(join(dir, `dependency-${i}.jar`), content);
      return join(dir, `dependency-${i}.jar`);
    });
    const files = Object.entries(sources).map(([file, text]) => {
      mkdirSync(join(dir, 'src', file, '..'), { recursive: true });
      writeFileSync(join(dir, 'src', file), text);
      return join(dir, 'src', file);
    });
    const cp = jars.length > 0 ? ['-cp', jars.join(':')] : [];
    execFileSync('javac', ['-d', join(dir, 'classes'), ...cp, ...files]);
    execFileSync('jar', ['--create', '--file', join(dir, 'out.jar'), '-C', join(dir, 'classes'), '.']);
    return readFileSync(join(dir, 'out.jar'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Instance {
  jobInstanceId: string;
  jobId: string | null;
  groupId: string;
  startTime: number | null;
  endTime: number | null;
  jobClass: string;
  jobConfig: Record<string, unknown>;
  result: string | null;
  error: { message: string; stackTrace: string } | null;
}

interface Worker {
  jobId: string;
  state: string;
}

// An Ilum client changes only host and port: everything here talks to the Ilum port's paths.
describe.each(SPINDLE_MODES)('Ilum group requests over %s', (_mode, env) => {
  // Starting a Scala interpreter takes both cores for seconds; on a loaded CI machine that delayed
  // the host's heartbeats past the 5 s silence limit, and the host was taken for lost mid-request.
  const suite = spindleSuite({
    name: 'ilum-group-jobs',
    env: { WORKER_SLOTS: '8', ...env, HOST_SILENCE_LIMIT_MS: '60000' },
  });
  const ilum = (method: string, path: string, body?: unknown) =>
    http(suite.spindle.dialectUrls['ilum']!, method, `/api/v1${path}`, body);
  // Job users read the gates: in the job tree (<data dir>/worker), which they may enter and see in
  // their read-only view of the file system (the rest of the host's /tmp is hidden from them).
  let gateCount = 0;
  const newGate = () => join(suite.dataDir, 'worker', `gate-${++gateCount}`);
  const open = (gate: string) => writeFileSync(gate, '');

  let groupId = '';
  const workers = async (): Promise<Worker[]> => (await ilum('GET', `/group/${groupId}`)).body.jobs;
  const instances = async (): Promise<Instance[]> => {
    const page = await ilum('GET', `/group/${groupId}/job/result?size=1000`);
    expect(page.status).toBe(200);
    return page.body.content;
  };
  const execute = (jobClass: string, jobConfig: Record<string, unknown>) =>
    ilum('POST', `/group/${groupId}/job/execute`, { type: 'interactive_job_execute', jobClass, jobConfig });
  const submit = (jobClass: string, jobConfig: Record<string, unknown>) =>
    ilum('POST', `/group/${groupId}/job/submit`, { type: 'interactive_job_execute', jobClass, jobConfig });
  // Until `count` requests run at once: they run on distinct workers and the rest wait.
  const running = async (ids: readonly string[], count: number): Promise<Instance[]> => {
    let now: Instance[] = [];
    await waitUntil(async () => {
      now = (await instances()).filter((i) => ids.includes(i.jobInstanceId) && i.startTime !== null);
      return now.length >= count;
    }, 60_000);
    return now;
  };

  it('keeps scale workers up from the start', async () => {
    groupId = await createGroup({ name: 'warm', language: 'PYTHON', scale: '2', tags: 'team=data' }, [
      ['pyFiles', JOBS_PY, 'jobs.py'],
    ]);
    await waitUntil(async () => {
      const now = await workers();
      return now.length === 2 && now.every((w) => w.state === 'READY');
    }, 60_000);
  });

  it('executes 20 requests and answers each finished instance; one per worker, the rest queued', async () => {
    const gate = newGate();
    const answers = Array.from({ length: 20 }, (_, n) => execute('jobs.Hold', { gate, n }));
    const ids = (await waitForSubmitted(20)).map((i) => i.jobInstanceId);
    const first = await running(ids, 2);
    // Both workers are busy, each with one request; the other 18 wait for them.
    expect(first).toHaveLength(2);
    expect(new Set(first.map((i) => i.jobId)).size).toBe(2);
    expect((await workers()).map((w) => w.state)).toEqual(['BUSY', 'BUSY']);
    // Ilum's job list shows them the same: the group's interactive jobs, busy.
    const busy = await ilum('GET', `/job?jobTypes=INTERACTIVE&jobStates=BUSY&search=warm`);
    expect(busy.body.content.map((j: Worker & { groupId: string }) => [j.groupId, j.state])).toEqual([
      [groupId, 'BUSY'],
      [groupId, 'BUSY'],
    ]);
    // and the group list narrows by its workers' states
    const groupsIn = async (jobStates: string): Promise<string[]> =>
      (await ilum('GET', `/group?jobStates=${jobStates}&size=100`)).body.content.map(
        (g: { name: string }) => g.name,
      );
    expect(await groupsIn('BUSY')).toContain('warm');
    expect(await groupsIn('READY,STARTING,FAILED')).not.toContain('warm');
    open(gate);
    const done = await Promise.all(answers);
    for (const [n, answer] of done.entries()) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        jobInstanceId: expect.any(String),
        jobId: expect.any(String),
        groupId,
        startTime: expect.any(Number),
        endTime: expect.any(Number),
        jobClass: 'jobs.Hold',
        jobConfig: { gate, n },
        result: String(n),
        error: null,
      });
      expect(answer.body.endTime).toBeGreaterThanOrEqual(answer.body.startTime);
    }
    expect(await groupsIn('READY')).toContain('warm');
    const used = new Set(done.map((a) => a.body.jobId));
    expect(used).toEqual(new Set((await workers()).map((w) => w.jobId)));
  });

  // The instances sent so far, once they are all recorded.
  async function waitForSubmitted(count: number): Promise<Instance[]> {
    let all: Instance[] = [];
    await waitUntil(async () => {
      all = (await instances()).filter((i) => i.endTime === null);
      return all.length >= count;
    }, 60_000);
    return all;
  }

  it('submits 20 requests at once and pages their results', async () => {
    const gate = newGate();
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) {
      const answer = await submit('jobs.Hold', { gate, n });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ jobInstanceId: expect.any(String) });
      ids.push(answer.body.jobInstanceId);
    }
    const first = await running(ids, 2);
    expect(new Set(first.map((i) => i.jobId)).size).toBe(2);
    open(gate);
    await waitUntil(
      async () => (await instances()).filter((i) => ids.includes(i.jobInstanceId) && i.endTime).length === 20,
      60_000,
    );
    const mine = (await instances()).filter((i) => ids.includes(i.jobInstanceId));
    expect(mine.map((i) => i.result).sort()).toEqual(ids.map((_, n) => String(n)).sort());
    expect(new Set(mine.map((i) => i.jobId)).size).toBe(2);

    // A Spring page: newest first, real totals.
    const page = await ilum('GET', `/group/${groupId}/job/result?page=1&size=15`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({
      page: { number: 1, size: 15, offset: 15, paged: true },
      totalElements: 40,
      totalPages: 3,
      first: false,
      last: false,
      empty: false,
    });
    expect(page.body.content).toHaveLength(15);

    // search: part of an instance's id or jobClass, any case, taken literally; sort: then newest first.
    const found = async (query: string): Promise<Instance[]> => {
      const answer = await ilum('GET', `/group/${groupId}/job/result?size=100&${query}`);
      expect(answer.status).toBe(200);
      expect(answer.body.totalElements).toBe(answer.body.content.length);
      return answer.body.content as Instance[];
    };
    expect(await found('search=HOLD')).toHaveLength(40);
    expect((await found(`search=${ids[3]!.slice(-12)}`)).map((i) => i.jobInstanceId)).toEqual([ids[3]]);
    expect(await found('search=jobs.Hello')).toEqual([]);
    expect(await found('search=%25')).toEqual([]);
    const byStart = (await found('sort=startTime,asc')).map((i) => i.startTime!);
    expect(byStart).toHaveLength(40);
    expect(byStart).toEqual([...byStart].sort((a, b) => a - b));
    const byId = (await found('sort=jobInstanceId,asc')).map((i) => i.jobInstanceId);
    expect(byId).toEqual([...byId].sort());
    const refused = await ilum('GET', `/group/${groupId}/job/result?sort=result,asc`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('sort must be field,asc|desc with field one of startTime');
  });

  it('runs a plain request, with spark None', async () => {
    const answer = await execute('jobs.Hello', { n: 7 });
    expect(answer.status).toBe(200);
    expect(answer.body.result).toBe('hello 7 (spark None)');
  });

  it('answers a failing run with its error and trace', async () => {
    const answer = await execute('jobs.Fail', { table: 'sales' });
    expect(answer.status).toBe(200);
    expect(answer.body.result).toBeNull();
    expect(answer.body.error.message).toBe('ValueError: no rows for sales');
    expect(answer.body.error.stackTrace).toContain('Traceback');
    expect(answer.body.error.stackTrace).toContain("raise ValueError('no rows for %s' % config['table'])");
  });

  it('streams each change of the wanted instances once, whole, resumable with Last-Event-ID', async () => {
    const base = `${suite.spindle.dialectUrls['ilum']!}/api/v1/group/job/result/updates`;
    const stream = await openSse(`${base}?groupNames=warm&tags=team=data`);
    const ok = (await submit('jobs.Hello', { n: 11 })).body.jobInstanceId as string;
    const failed = (await submit('jobs.Fail', { table: 'orders' })).body.jobInstanceId as string;
    const of = (events: SseEvent[], id: string) =>
      events.filter((e) => (JSON.parse(e.data) as Instance).jobInstanceId === id);
    const ended = (events: SseEvent[], id: string) =>
      of(events, id).some((e) => (JSON.parse(e.data) as Instance).endTime !== null);
    const events = await stream.until((all) => ended(all, ok) && ended(all, failed));
    stream.close();
    expect(events.map((e) => (JSON.parse(e.data) as Instance).groupId)).toEqual(events.map(() => groupId));
    const mine = of(events, ok);
    expect(mine.map((e) => e.event)).toEqual(['JobSubmitted', 'JobAssigned', 'JobStarted', 'JobSucceeded']);
    const infos = mine.map((e) => JSON.parse(e.data) as Instance);
    expect(infos[0]).toMatchObject({
      jobClass: 'jobs.Hello',
      jobConfig: { n: 11 },
      jobId: null,
      result: null,
    });
    expect(infos[1]!.jobId).toEqual(expect.any(String));
    expect(infos[2]).toMatchObject({ startTime: expect.any(Number), endTime: null, result: null });
    const listed = (await instances()).find((i) => i.jobInstanceId === ok);
    expect(infos[3]).toEqual(listed);
    expect(infos[3]!.result).toBe('hello 11 (spark None)');
    const failure = of(events, failed).map((e) => JSON.parse(e.data) as Instance);
    expect(failure[failure.length - 1]!.error!.message).toBe('ValueError: no rows for orders');
    const ids = events.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));

    // Resumed after the first event, filtered to one instance: the rest of its changes, each once.
    const resumed = await openSse(`${base}?jobIds=${ok}&groupIds=${groupId}`, {
      'Last-Event-ID': events[0]!.id,
    });
    const rest = await resumed.until((all) => all.length >= 3);
    resumed.close();
    expect(rest.map((e) => e.id)).toEqual(mine.slice(1).map((e) => e.id));
    expect(rest.map((e) => e.data)).toEqual(mine.slice(1).map((e) => e.data));

    // The worker's id (the instance's jobId) selects what it ran; another group's name nothing.
    const byWorker = await openSse(`${base}?jobIds=${infos[3]!.jobId}&lastEventId=${events[0]!.id}`);
    const ran = await byWorker.until((all) => all.some((e) => e.id === mine[3]!.id));
    byWorker.close();
    expect(ran.every((e) => (JSON.parse(e.data) as Instance).jobId === infos[3]!.jobId)).toBe(true);

    const badTags = await ilum('GET', '/group/job/result/updates?tags=novalue');
    expect(badTags.status).toBe(409);
    expect((await ilum('GET', '/group/job/result/updates?lastEventId=abc')).status).toBe(409);
  });

  it("streams its interactive jobs' changes on /job/updates: started, busy with a request, ready again", async () => {
    const base = `${suite.spindle.dialectUrls['ilum']!}/api/v1/job/updates`;
    // From the feed's start: the workers' starts, then every request they ran.
    const stream = await openSse(`${base}?groupIds=${groupId}&lastEventId=0`);
    const answer = await execute('jobs.Hello', { n: 7 });
    expect(answer.status).toBe(200);
    const worker = answer.body.jobId as string;
    type Info = Worker & { jobId: string; groupId: string; jobType: string; startTime: number | null };
    const infos = (events: SseEvent[]) => events.map((e) => JSON.parse(e.data) as Info);
    // every request this worker ran so far, this one the last: each made it busy, then ready
    const ran = (await instances()).filter((i) => i.jobId === worker).length;
    const events = await stream.until((all) => {
      const states = infos(all)
        .filter((i) => i.jobId === worker)
        .map((i) => i.state);
      return (
        states.filter((state) => state === 'BUSY').length >= ran && states[states.length - 1] === 'READY'
      );
    });
    stream.close();
    const all = infos(events);
    expect(all.every((i) => i.groupId === groupId && i.jobType === 'INTERACTIVE')).toBe(true);
    expect(new Set(all.map((i) => i.jobId)).size).toBeGreaterThanOrEqual(2); // both workers
    const mine = all.filter((i) => i.jobId === worker);
    expect(mine.slice(0, 2).map((i) => i.state)).toEqual(['STARTING', 'READY']);
    expect(mine[0]!.startTime).toBeNull();
    expect(mine[1]!.startTime).toEqual(expect.any(Number));
    expect(mine.slice(2).map((i) => i.state)).toEqual(
      mine.slice(2).map((_, n) => (n % 2 === 0 ? 'BUSY' : 'READY')),
    );
    // the last change is the one the list shows now
    expect(mine[mine.length - 1]).toEqual(
      (await ilum('GET', `/job?jobTypes=INTERACTIVE&search=warm&size=10`)).body.content.find(
        (j: Info) => j.jobId === worker,
      ),
    );
    // single jobs are in no group; another group's id selects nothing of this one
    const other = await openSse(`${base}?groupIds=${randomUUID()}&lastEventId=0`);
    const none = await Promise.race([
      other.until((got) => got.length > 0),
      new Promise<SseEvent[]>((resolve) => setTimeout(() => resolve([]), 1_500)),
    ]);
    other.close();
    expect(none).toEqual([]);
  });

  it('refuses what it cannot run with a 409 naming the field, and an unknown group with a 404', async () => {
    const noFile = await execute('other.Hello', {});
    expect(noFile.status).toBe(409);
    expect(noFile.body).toEqual({
      message: 'jobClass: the group has no file other.py (in pyFiles or files)',
    });
    const badClass = await execute('Hello', {});
    expect(badClass.status).toBe(409);
    expect(badClass.body.message).toMatch(/^jobClass must be module\.Name/);
    const badConfig = await execute('jobs.Hello', 'x' as unknown as Record<string, unknown>);
    expect(badConfig.status).toBe(409);
    expect(badConfig.body.message).toBe('jobConfig must be an object');
    const unknown = await ilum('POST', '/group/no-such-group/job/execute', {
      type: 'interactive_job_execute',
      jobClass: 'jobs.Hello',
      jobConfig: {},
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ message: expect.stringContaining('no-such-group') });
  });

  it('rescales to 1, then to 3, and runs on what it has', async () => {
    expect((await ilum('POST', `/group/${groupId}/rescale/1`)).status).toBe(200);
    await waitUntil(async () => (await workers()).length === 1, 60_000);
    const [kept] = await workers();
    const one = await Promise.all([execute('jobs.Hello', { n: 1 }), execute('jobs.Hello', { n: 2 })]);
    expect(one.map((a) => a.body.jobId)).toEqual([kept!.jobId, kept!.jobId]);

    expect((await ilum('POST', `/group/${groupId}/rescale/3`)).status).toBe(200);
    await waitUntil(async () => (await workers()).filter((w) => w.state === 'READY').length === 3, 60_000);
    const gate = newGate();
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) ids.push((await submit('jobs.Hold', { gate, n })).body.jobInstanceId);
    const first = await running(ids, 3);
    expect(new Set(first.map((i) => i.jobId))).toEqual(new Set((await workers()).map((w) => w.jobId)));
    open(gate);
    await waitUntil(
      async () => (await instances()).filter((i) => ids.includes(i.jobInstanceId) && i.endTime).length === 6,
      60_000,
    );
  });

  // POST /group as a client sends it: its text fields, then its files as [field, content, name].
  const createGroup = async (
    fields: Record<string, string>,
    files: [string, string | Buffer, string][] = [],
  ): Promise<string> => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    for (const [field, content, name] of files) form.append(field, new Blob([content]), name);
    const created = await ilum('POST', '/group', form);
    expect(created.status).toBe(200);
    return created.body.groupId as string;
  };
  const code = async (id: string, text: string) => {
    const answer = await ilum('POST', `/group/${id}/job/execute`, {
      type: 'interactive_code_execute',
      code: text,
    });
    expect(answer.status).toBe(200);
    return answer.body as Instance;
  };
  const complete = async (id: string, text: string, cursor: number) => {
    const answer = await ilum('POST', `/group/${id}/job/execute`, {
      type: 'interactive_code_complete',
      code: text,
      cursor,
    });
    expect(answer.status).toBe(200);
    return answer.body as Instance;
  };

  const refused = async (id: string, body: Record<string, unknown>, message: string) => {
    const answer = await ilum('POST', `/group/${id}/job/execute`, body);
    expect(answer.status).toBe(409);
    expect(answer.body).toEqual({ message });
  };

  it('runs code on a CODE group in a session per worker: the last expression is the answer', async () => {
    const native = (path: string) => http(suite.url, 'GET', `/api/v1${path}`);
    for (const language of ['PYTHON', 'NODE']) {
      const python = language === 'PYTHON';
      const id = await createGroup(
        { name: `repl-${language.toLowerCase()}`, kind: 'CODE', language },
        python
          ? [['pyFiles', 'def double(x):\n    return 2 * x\n', 'helpers.py']]
          : [['files', 'exports.double = (x) => 2 * x;\n', 'helpers.js']],
      );
      // What one request defines, the next sees (one worker: one session).
      expect(
        await code(id, python ? 'rows = [3, 4]\ntotal = sum(rows)' : 'const rows = [3, 4]; var total = 7;'),
      ).toMatchObject({
        jobClass: null,
        jobConfig: {},
        result: '',
        error: null,
      });
      const answer = await code(id, python ? 'total * 6' : 'total * 6');
      expect(answer).toMatchObject({ groupId: id, result: '42', error: null, jobId: expect.any(String) });
      expect(answer.endTime).toBeGreaterThanOrEqual(answer.startTime!);
      expect((await code(id, python ? "'%s rows' % len(rows)" : '`${rows.length} rows`')).result).toBe(
        python ? "'2 rows'" : "'2 rows'",
      );
      expect((await code(id, python ? 'spark is None' : 'spark === null')).result).toBe(
        python ? 'True' : 'true',
      );
      // The group's files lie beside the session, as beside a JOB group's program.
      expect(
        (await code(id, python ? 'import helpers\nhelpers.double(21)' : "require('./helpers.js').double(21)"))
          .result,
      ).toBe('42');
      const failed = await code(id, 'missing + 1');
      expect(failed.result).toBeNull();
      expect(failed.error!.message).toMatch(
        python ? /^NameError: name 'missing' is not defined/ : /missing is not defined/,
      );
      // Completion of the dotted word before the cursor, against the session: a JSON array
      // (python imports the cell's own imports for it, without running the cell).
      const cell = python ? 'import os\nos.pa' : 'Math.ma';
      const completed = await complete(id, cell, cell.length);
      expect(completed).toMatchObject({ jobClass: null, error: null });
      expect(JSON.parse(completed.result!)).toEqual(
        expect.arrayContaining(python ? ['os.path', 'os.pathsep'] : ['Math.max']),
      );
      // ... what the session defined (a python list has no `le...`), and a cursor inside the code.
      expect(JSON.parse((await complete(id, 'rows.le', 7)).result!)).toEqual(python ? [] : ['rows.length']);
      expect(JSON.parse((await complete(id, 'tot + 1', 3)).result!)).toEqual(['total']);
      await refused(
        id,
        { type: 'interactive_code_complete', code: 'os.pa', cursor: 6 },
        "cursor must be an integer from 0 to the code's length (5)",
      );
      // The kinds do not mix: a CODE group takes code, a JOB group a jobClass.
      await refused(
        id,
        { type: 'interactive_job_execute', jobClass: 'jobs.Hello', jobConfig: {} },
        'type: a CODE group takes interactive_code_execute or interactive_code_complete, not interactive_job_execute',
      );
      const listed = await ilum('GET', `/group/${id}/job/result?size=100`);
      expect(listed.body.totalElements).toBe(9);
      expect((await native(`/functions/group-${id}--code`)).status).toBe(200);
      expect((await ilum('DELETE', `/group/${id}`)).status).toBe(200);
      expect((await native(`/functions/group-${id}--code`)).status).toBe(404);
      expect((await native(`/artifacts/group-${id}--code.${python ? 'py' : 'cjs'}`)).status).toBe(404);
    }
    await refused(
      groupId,
      { type: 'interactive_code_execute', code: '1' },
      'type: a JOB group takes interactive_job_execute, not interactive_code_execute',
    );
    await refused(
      groupId,
      { type: 'interactive_code_complete', code: 'x.', cursor: 2 },
      'type: a JOB group takes interactive_job_execute, not interactive_code_complete',
    );
  });

  it("runs Scala on a SCALA CODE group in its worker's warm interpreter, with the group's jars on its class path", async () => {
    const jar = compiledJar({ 'lib/Greeter.java': GREETER_JAVA });
    const id = await createGroup({ name: 'repl-scala', kind: 'CODE', language: 'SCALA' }, [
      ['jars', jar, 'greeter.jar'],
    ]);
    // The first request starts the interpreter (seconds); the others reuse it.
    expect(await code(id, 'val x = 21')).toMatchObject({
      jobClass: null,
      result: 'val x: Int = 21',
      error: null,
    });
    expect((await code(id, 'x * 2')).result).toMatch(/^val res\d+: Int = 42$/);
    expect((await code(id, 'lib.Greeter.greet("ada")')).result).toMatch(
      /^val res\d+: String = hello ada from the library jar$/,
    );
    expect((await code(id, 'def twice(n: Int) = n * 2')).result).toBe('def twice(n: Int): Int');
    const notCompiled = await code(id, 'y + 1');
    expect(notCompiled.result).toBeNull();
    expect(notCompiled.error!.message).toBe('error: not found: value y');
    const thrown = await code(id, 'throw new IllegalStateException("no rows")');
    expect(thrown.error!.message).toBe('java.lang.IllegalStateException: no rows');
    // The session survives its errors.
    expect((await code(id, 'twice(x)')).result).toMatch(/^val res\d+: Int = 42$/);
    // Completion: the names that may stand for the word at the cursor.
    expect(JSON.parse((await complete(id, 'x.toSt', 6)).result!)).toEqual(['toString']);
    expect(JSON.parse((await complete(id, 'List(1).ma', 10)).result!)).toEqual(
      expect.arrayContaining(['map', 'max']),
    );
    const native = (path: string) => http(suite.url, 'GET', `/api/v1${path}`);
    expect((await native(`/functions/group-${id}--code`)).body).toMatchObject({
      runtime: 'jvm-runner',
      artifact: `group-${id}--code.jar`,
      libraries: [{ artifact: `group-${id}-greeter.jar`, fileName: 'greeter.jar' }],
    });
    expect((await ilum('DELETE', `/group/${id}`)).status).toBe(200);
    expect((await native(`/artifacts/group-${id}--code.jar`)).status).toBe(404);
  });

  it("runs a SCALA group's requests in its workers' warm JVM: run(spark, config) from the group's jar", async () => {
    const jar = compiledJar({ 'demo/WordCount.java': WORD_COUNT_JAVA });
    const id = await createGroup({ name: 'jvm', language: 'SCALA' }, [['jars', jar, 'wordcount.jar']]);
    const run = async (jobConfig: Record<string, unknown>) => {
      const answer = await ilum('POST', `/group/${id}/job/execute`, {
        type: 'interactive_job_execute',
        jobClass: 'demo.WordCount',
        jobConfig,
      });
      expect(answer.status).toBe(200);
      return answer.body as Instance;
    };
    expect(await run({ text: 'to be or not' })).toMatchObject({
      groupId: id,
      jobClass: 'demo.WordCount',
      jobConfig: { text: 'to be or not' },
      result: '4 words (spark null), call 1',
      error: null,
    });
    // The same JVM: the class's static state lives on between requests.
    expect((await run({ text: 'to be' })).result).toBe('2 words (spark null), call 2');
    const failed = await run({ text: ' ' });
    expect(failed.result).toBeNull();
    expect(failed.error!.message).toBe('java.lang.IllegalStateException: nothing to count');
    expect(failed.error!.stackTrace).toContain('at demo.WordCount.run(WordCount.java');
    const missing = await ilum('POST', `/group/${id}/job/execute`, {
      jobClass: 'demo.Missing',
      jobConfig: {},
    });
    expect(missing.body.error.message).toBe('java.lang.ClassNotFoundException: demo.Missing');
    expect((await ilum('DELETE', `/group/${id}`)).status).toBe(200);
  });

  it("puts all of a SCALA group's jars on its requests' class path: a job class using a library jar", async () => {
    const library = compiledJar({ 'lib/Greeter.java': GREETER_JAVA });
    const job = compiledJar({ 'demo/Greet.java': GREET_JAVA }, [library]);
    // The library first: the job's class may be in any of the group's jars.
    const id = await createGroup({ name: 'jvm-two', language: 'SCALA' }, [
      ['jars', library, 'greeter.jar'],
      ['jars', job, 'greet.jar'],
    ]);
    const answer = await ilum('POST', `/group/${id}/job/execute`, {
      type: 'interactive_job_execute',
      jobClass: 'demo.Greet',
      jobConfig: { who: 'ada' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ result: 'hello ada from the library jar', error: null });
    const fn = await http(suite.url, 'GET', `/api/v1/functions/group-${id}-demo.Greet`);
    expect(fn.body).toMatchObject({
      artifact: `group-${id}-greeter.jar`,
      runtime: 'jvm-runner',
      libraries: [{ artifact: `group-${id}-greet.jar`, fileName: 'greet.jar' }],
    });
    expect((await ilum('DELETE', `/group/${id}`)).status).toBe(200);
    expect((await http(suite.url, 'GET', `/api/v1/artifacts/group-${id}-greet.jar`)).status).toBe(404);
  });

  it("puts a PYTHON group's other pyFiles on the path of its requests: a module imports another", async () => {
    const jobs = [
      'import helpers',
      'from ilum.api import IlumJob',
      '',
      'class Main(IlumJob):',
      '    def run(self, spark, config):',
      "        return helpers.greeting(config['who'])",
      '',
    ].join('\n');
    const id = await createGroup({ name: 'py-modules', language: 'PYTHON' }, [
      ['pyFiles', "def greeting(who):\n    return 'hello %s from helpers' % who\n", 'helpers.py'],
      ['pyFiles', jobs, 'jobs.py'],
    ]);
    const answer = await ilum('POST', `/group/${id}/job/execute`, {
      type: 'interactive_job_execute',
      jobClass: 'jobs.Main',
      jobConfig: { who: 'bob' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ result: 'hello bob from helpers', error: null });
    // The core's function: the module's file, and the group's other file beside it by its own name.
    const fn = await http(suite.url, 'GET', `/api/v1/functions/group-${id}-jobs.Main`);
    expect(fn.body).toMatchObject({
      artifact: `group-${id}-jobs.py`,
      libraries: [{ artifact: `group-${id}-helpers.py`, fileName: 'helpers.py' }],
    });
    // The library is in use as the program is: the native API refuses to delete it.
    const inUse = await http(suite.url, 'DELETE', `/api/v1/artifacts/group-${id}-helpers.py`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.detail).toContain(`group-${id}-jobs.Main`);
    expect((await ilum('DELETE', `/group/${id}`)).status).toBe(200);
    expect((await http(suite.url, 'GET', `/api/v1/artifacts/group-${id}-helpers.py`)).status).toBe(404);
  });

  it('stops: the workers go, and the group takes no more requests', async () => {
    expect((await ilum('POST', `/group/${groupId}/stop`)).status).toBe(200);
    await waitUntil(async () => (await workers()).length === 0, 60_000);
    const refused = await execute('jobs.Hello', { n: 0 });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ message: 'group warm is stopped: it runs no requests' });
    // Its instances stay readable.
    expect((await ilum('GET', `/group/${groupId}/job/result?size=1`)).body.totalElements).toBe(53);
  });

  it('deletes the group with the functions its requests ran as and its uploads', async () => {
    const native = (path: string) => http(suite.url, 'GET', `/api/v1${path}`);
    expect((await native(`/functions/group-${groupId}-jobs.Hello`)).status).toBe(200);
    expect((await ilum('DELETE', `/group/${groupId}`)).status).toBe(200);
    for (const jobClass of ['jobs.Hello', 'jobs.Hold', 'jobs.Fail'])
      expect((await native(`/functions/group-${groupId}-${jobClass}`)).status).toBe(404);
    expect((await native(`/artifacts/group-${groupId}-jobs.py`)).status).toBe(404);
  });
});
