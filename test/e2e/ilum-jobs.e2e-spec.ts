import { http } from '../support/http';
import { openSse } from '../support/sse';
import type { SseEvent } from '../support/sse';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';
import { waitUntil } from '../support/wait';

jest.setTimeout(120_000);

// Prints `args[0]` numbered lines and answers the config's `mode`.
const REPORT_PY = `
def main(args, config):
    for i in range(int(args[0])):
        print("line %d" % i)
    return config.get("mode")
`;
// Waits until stopped (its signal) or a minute passes.
const SLEEPER_JS = `
module.exports = ({ args }, ctx) =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve('woke'), 60000);
    ctx.signal.addEventListener('abort', () => { clearTimeout(timer); resolve('stopped'); });
  });
`;

interface JobInfo {
  jobId: string;
  jobName: string;
  state: string;
  clusterName: string;
  tags: Record<string, string>;
  [field: string]: unknown;
}

const FINAL = ['FINISHED', 'FAILED'];

// An Ilum client changes only host and port: everything here talks to the Ilum port's own paths.
describe.each(SPINDLE_MODES)('Ilum single jobs over %s', (_mode, env) => {
  const suite = spindleSuite({ name: 'ilum-jobs', env });
  const base = () => suite.spindle.dialectUrls['ilum']!;
  const ilum = (method: string, path: string, body?: unknown) => http(base(), method, `/api/v1${path}`, body);

  const submit = async (fields: Record<string, string>, files: Record<string, [string, string]> = {}) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    for (const [name, [field, content]] of Object.entries(files))
      form.append(field, new Blob([content]), name);
    const response = await fetch(`${base()}/api/v1/job/submit`, { method: 'POST', body: form });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, string>) : undefined };
  };
  const report = (name: string, extra: Record<string, string> = {}) =>
    submit(
      { name, clusterName: 'default', language: 'PYTHON', jobClass: 'report', args: '3', ...extra },
      { 'report.py': ['pyFiles', REPORT_PY] },
    );
  const sleeper = (name: string, clusterName = 'default') =>
    submit(
      { name, clusterName, language: 'NODE', jobClass: 'sleeper' },
      { 'sleeper.js': ['files', SLEEPER_JS], 'notes.txt': ['files', 'stored beside the program'] },
    );

  const waitFor = async (id: string, states: readonly string[]): Promise<JobInfo> => {
    for (const deadline = Date.now() + 60_000; ;) {
      const job = (await ilum('GET', `/job/${id}`)).body as JobInfo;
      if (states.includes(job.state)) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${job.state}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('runs a submitted PYTHON job and answers its jobInfo', async () => {
    const submitted = await report('first', { tags: 'team=etl;env=test', jobConfig: 'mode=fast;spark.x=1' });
    expect(submitted).toEqual({ status: 200, body: { jobId: expect.any(String) } });
    const done = await waitFor(submitted.body!['jobId']!, FINAL);
    expect(done).toEqual({
      jobId: submitted.body!['jobId'],
      groupId: null,
      jobName: 'first',
      jobType: 'SINGLE',
      tags: { team: 'etl', env: 'test' },
      language: 'PYTHON',
      clusterName: 'default',
      appId: expect.any(String),
      state: 'FINISHED',
      error: null,
      submitTime: expect.any(Number),
      startTime: expect.any(Number),
      endTime: expect.any(Number),
    });
    expect(done['submitTime']).toBeLessThanOrEqual(done['startTime'] as number);
    expect(done['startTime']).toBeLessThanOrEqual(done['endTime'] as number);
    // The core ran it as a job of its own function, on the artifact the file became.
    const native = await http(suite.url, 'GET', `/api/v1/jobs/${done.jobId}`);
    expect(native.body).toMatchObject({ state: 'succeeded', result: 'fast' });
  });

  it('puts the other files sent beside the program: a PYTHON job imports its other pyFiles', async () => {
    const submitted = await submit(
      { name: 'with-util', language: 'PYTHON', jobClass: 'main_job' },
      {
        'main_job.py': ['pyFiles', 'import util\n\ndef main(args, config):\n    return util.answer()\n'],
        'util.py': ['pyFiles', 'def answer():\n    return "from util"\n'],
      },
    );
    expect(submitted.status).toBe(200);
    const done = await waitFor(submitted.body!['jobId']!, FINAL);
    expect(done).toMatchObject({ state: 'FINISHED', error: null });
    const native = await http(suite.url, 'GET', `/api/v1/jobs/${done.jobId}`);
    expect(native.body).toMatchObject({ state: 'succeeded', result: 'from util' });
  });

  it('pages a single job through its log, from a 0-based offset', async () => {
    const { body } = await report('logs', { args: '250' });
    const id = body!['jobId']!;
    await waitFor(id, FINAL);
    const first = await ilum('GET', `/job/${id}/logs?logSize=100&from=0`);
    expect(first.status).toBe(200);
    expect(first.body).toEqual([
      {
        name: expect.any(String),
        type: 'process',
        role: 'driver',
        state: 'FINISHED',
        from: 0,
        logSize: 100,
        fileName: `${id}.log`,
        log: Array.from({ length: 100 }, (_, i) => `line ${i}`),
      },
    ]);
    const lines: string[] = [];
    for (let from = 0; ;) {
      const page = (await ilum('GET', `/job/${id}/logs?logSize=100&from=${from}`)).body[0];
      expect(page.from).toBe(from);
      lines.push(...page.log);
      if (page.logSize < 100) break;
      from += page.logSize;
    }
    expect(lines).toEqual(Array.from({ length: 250 }, (_, i) => `line ${i}`));
    const defaults = (await ilum('GET', `/job/${id}/logs`)).body[0];
    expect(defaults).toMatchObject({ from: 0, logSize: 100 });
    const capped = (await ilum('GET', `/job/${id}/logs?logSize=90000`)).body[0];
    expect(capped.logSize).toBe(250);
    for (const bad of ['logSize=0', 'logSize=ten', 'from=-1']) {
      const refused = await ilum('GET', `/job/${id}/logs?${bad}`);
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({ message: expect.stringContaining(bad.split('=')[0]!) });
    }
    expect((await ilum('GET', '/job/0193a5b2-7c1e-7f00-8000-000000000000/logs')).status).toBe(404);
  });

  it('lists jobs with Ilum filters, sort and real totals', async () => {
    const created = await ilum('POST', '/cluster', { name: 'laptop', type: 'local', threads: 2 });
    expect(created.status).toBe(200);
    const ids: string[] = [];
    for (const [name, cluster, tag] of [
      ['list-b', 'laptop', 'a'],
      ['list-a', 'laptop', 'b'],
      ['list-c', 'default', 'a'],
    ] as const) {
      const { body } = await report(name, { clusterName: cluster, tags: `list=${tag}` });
      ids.push(body!['jobId']!);
    }
    for (const id of ids) await waitFor(id, FINAL);

    const laptop = await ilum('GET', '/job?clusterNames=laptop&sort=jobName,asc&size=1');
    expect(laptop.status).toBe(200);
    expect(laptop.body).toMatchObject({
      page: { number: 0, size: 1, offset: 0, paged: true },
      sort: ['jobName,asc'],
      totalElements: 2,
      totalPages: 2,
      first: true,
      last: false,
      empty: false,
    });
    expect(laptop.body.content.map((j: JobInfo) => j.jobName)).toEqual(['list-a']);
    const second = await ilum('GET', '/job?clusterNames=laptop&sort=jobName,asc&size=1&page=1');
    expect(second.body.content.map((j: JobInfo) => j.jobName)).toEqual(['list-b']);

    const tagged = await ilum('GET', '/job?tags=list=a&sort=jobName,desc');
    expect(tagged.body.content.map((j: JobInfo) => j.jobName)).toEqual(['list-c', 'list-b']);
    expect(tagged.body.totalElements).toBe(2);
    const both = await ilum(
      'GET',
      '/job?clusterNames=laptop&clusterNames=default&search=LIST-&jobStates=FINISHED',
    );
    expect(both.body.totalElements).toBe(3);
    // Newest first unless sorted.
    expect(both.body.content.map((j: JobInfo) => j.jobId)).toEqual([...ids].reverse());
    const none = await ilum('GET', '/job?search=list-&jobStates=FAILED,SUBMITTED');
    expect(none.body).toMatchObject({ totalElements: 0, empty: true, content: [] });
    const interactive = await ilum('GET', '/job?jobTypes=INTERACTIVE');
    expect(interactive.body).toMatchObject({ totalElements: 0, content: [] });
    const single = await ilum('GET', '/job?jobTypes[]=SINGLE&search=list-');
    expect(single.body.totalElements).toBe(3);

    for (const [query, word] of [
      ['jobStates=DONE', 'jobStates'],
      ['jobTypes=BATCH', 'jobTypes'],
      ['sort=secret,asc', 'sort'],
      ['size=0', 'size'],
      ['tags=novalue', 'tags'],
    ]) {
      const refused = await ilum('GET', `/job?${query}`);
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({ message: expect.stringContaining(word!) });
    }
  });

  it("lists a group's workers as its INTERACTIVE jobs, as Ilum lists a group's Spark jobs", async () => {
    const form = new FormData();
    form.append('name', 'listed');
    form.append('language', 'NODE');
    form.append('scale', '2');
    form.append('tags', 'team=ml');
    form.append('files', new Blob(['module.exports.hello = () => "hi";']), 'hello.js');
    const created = await ilum('POST', '/group', form);
    expect(created.status).toBe(200);
    const groupId = created.body.groupId as string;
    const interactive = async (query = ''): Promise<{ totalElements: number; content: JobInfo[] }> =>
      (await ilum('GET', `/job?jobTypes=INTERACTIVE${query}`)).body;
    await waitUntil(async () => {
      const page = await interactive('&jobStates=READY');
      return page.totalElements === 2;
    }, 60_000);

    // A worker may stop and be replaced meanwhile (seen once over Kafka on a loaded machine): what
    // is checked is read from the READY ones, and totals are compared once they hold still.
    const ready = await interactive('&jobStates=READY&sort=startTime,asc');
    const [first] = ready.content;
    expect(first).toEqual({
      jobId: expect.any(String),
      groupId,
      jobName: 'listed',
      jobType: 'INTERACTIVE',
      tags: { team: 'ml' },
      language: 'NODE',
      clusterName: 'default',
      appId: first!.jobId,
      state: 'READY',
      error: null,
      submitTime: expect.any(Number),
      startTime: expect.any(Number),
      endTime: null,
    });
    // The same jobInfo by id, and the same workers as the group's own `jobs`.
    const byId = (await ilum('GET', `/job/${first!.jobId}`)).body as JobInfo;
    expect(byId).toEqual({ ...first, state: byId.state, endTime: byId['endTime'] });
    const jobs = ((await ilum('GET', `/group/${groupId}`)).body.jobs as JobInfo[]).map((j) => j.jobId);
    expect(jobs).toEqual(expect.arrayContaining(ready.content.map((j) => j.jobId)));
    // Filters read the group's name, tags and cluster; both kinds in one list, with real totals.
    await waitUntil(async () => {
      const workers = (await interactive()).totalElements;
      const found = (await ilum('GET', '/job?search=LISTED&tags=team=ml&clusterNames=default')).body;
      const all = (await ilum('GET', '/job')).body.totalElements as number;
      const singles = (await ilum('GET', '/job?jobTypes=SINGLE')).body.totalElements as number;
      return workers >= 2 && found.totalElements === workers && all === singles + workers;
    }, 30_000);
    expect((await interactive('&jobStates=SUBMITTED,FAILED')).totalElements).toBe(0);
    expect((await ilum('GET', '/job?jobTypes=SHELL')).body.totalElements).toBe(0);

    // What only a single job takes is refused, naming the group and what to do instead.
    for (const [method, path] of [
      ['POST', `/job/${first!.jobId}/stop`],
      ['DELETE', `/job/${first!.jobId}`],
      ['GET', `/job/${first!.jobId}/logs`],
    ] as const) {
      const refused = await ilum(method, path);
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({ message: expect.stringContaining('interactive job of group listed') });
    }

    // A rescale down stops a worker: it stays listed, FINISHED, with its endTime.
    expect((await ilum('POST', `/group/${groupId}/rescale/1`)).status).toBe(200);
    await waitUntil(async () => (await interactive('&jobStates=FINISHED')).totalElements >= 1, 60_000);
    const [stopped] = (await interactive('&jobStates=FINISHED')).content;
    expect(stopped).toMatchObject({ groupId, state: 'FINISHED', endTime: expect.any(Number) });

    // Deleting the group takes its jobs with it.
    expect((await ilum('DELETE', `/group/${groupId}`)).status).toBe(200);
    expect((await interactive()).totalElements).toBe(0);
    expect((await ilum('GET', `/job/${first!.jobId}`)).status).toBe(404);
  });

  it('stops a job (FINISHED, as Ilum 1.3.0 says) and deletes one, with empty 200s', async () => {
    const { body } = await sleeper('sleepy');
    const id = body!['jobId']!;
    await waitFor(id, ['BUSY']);
    const stopped = await fetch(`${base()}/api/v1/job/${id}/stop`, { method: 'POST' });
    expect(stopped.status).toBe(200);
    expect(await stopped.text()).toBe('');
    expect(await waitFor(id, FINAL)).toMatchObject({ state: 'FINISHED', endTime: expect.any(Number) });

    const fn = (await http(suite.url, 'GET', `/api/v1/jobs/${id}`)).body.function as string;
    expect((await http(suite.url, 'GET', `/api/v1/functions/${fn}`)).status).toBe(200);
    const stored = (await http(suite.url, 'GET', '/api/v1/artifacts?limit=500')).text;
    expect(stored).toContain(`${fn}-sleeper.js`);
    expect(stored).toContain(`${fn}-notes.txt`);
    const deleted = await fetch(`${base()}/api/v1/job/${id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(await deleted.text()).toBe('');
    // Its program is gone, and so is the job, to Ilum's clients; its record stays in the core's
    // history.
    expect((await http(suite.url, 'GET', `/api/v1/functions/${fn}`)).status).toBe(404);
    const artifacts = (await http(suite.url, 'GET', '/api/v1/artifacts?limit=500')).text;
    expect(artifacts).not.toContain(`${fn}-`);
    expect((await ilum('GET', `/job/${id}`)).status).toBe(404);
    expect((await ilum('GET', '/job?search=sleepy')).body.totalElements).toBe(0);
    expect((await ilum('DELETE', `/job/${id}`)).status).toBe(404);
    expect((await http(suite.url, 'GET', `/api/v1/jobs/${id}`)).body).toMatchObject({ state: 'cancelled' });

    // A running job is stopped, then deleted.
    const running = (await sleeper('sleepy-running')).body!['jobId']!;
    await waitFor(running, ['BUSY']);
    expect((await ilum('DELETE', `/job/${running}`)).status).toBe(200);
    expect((await ilum('GET', `/job/${running}`)).status).toBe(404);
    expect((await ilum('GET', '/job?search=sleepy')).body.totalElements).toBe(0);

    for (const path of ['/job/0193a5b2-7c1e-7f00-8000-000000000000/stop', '/job/nope/stop']) {
      const missing = await ilum('POST', path);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ message: expect.stringContaining('not found') });
    }
  });

  it('refuses bad submits with a message naming the field, and keeps nothing', async () => {
    const before = (await http(suite.url, 'GET', '/api/v1/artifacts?limit=500')).body;
    const cases: [Promise<{ status: number; body?: Record<string, string> }>, number, string][] = [
      [report('x', { clusterName: 'nowhere' }), 404, 'Cluster nowhere not found'],
      [report('', {}), 409, 'name is required'],
      [report('x', { tags: 'oops' }), 409, 'tags must be key=value'],
      [report('x', { language: 'COBOL' }), 409, 'language must be one of'],
      [report('x', { jobClass: 'other' }), 409, 'jobClass names other.py'],
      [report('x', { pyRequirements: 'pandas==2.0.0' }), 409, 'pyRequirements'],
    ];
    for (const [answer, status, message] of cases) {
      const { status: got, body } = await answer;
      expect({ got, body }).toEqual({ got: status, body: { message: expect.stringContaining(message) } });
    }
    await ilum('POST', '/cluster', { name: 'remote', type: 'k8s', url: 'https://k8s.example:6443' });
    const k8s = await report('x', { clusterName: 'remote' });
    expect(k8s.status).toBe(409);
    expect(k8s.body!['message']).toContain('Spindle has no k8s executor yet');
    const files = Object.fromEntries(
      Array.from({ length: 21 }, (_, i): [string, [string, string]] => [`f${i}.py`, ['files', REPORT_PY]]),
    );
    const tooMany = await submit({ name: 'x', language: 'PYTHON', jobClass: 'f0' }, files);
    expect(tooMany).toEqual({ status: 409, body: { message: expect.stringContaining('multipart') } });
    const notMultipart = await ilum('POST', '/job/submit', { name: 'x' });
    expect(notMultipart.status).toBe(409);
    expect((await http(suite.url, 'GET', '/api/v1/artifacts?limit=500')).body).toEqual(before);
  });

  it('refuses to delete a cluster while a job uses it', async () => {
    const created = await ilum('POST', '/cluster', { name: 'busy', type: 'local', threads: 1 });
    const clusterId = created.body.clusterId as string;
    const { body } = await sleeper('holds-busy', 'busy');
    const id = body!['jobId']!;
    const refused = await ilum('DELETE', `/cluster/${clusterId}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ message: expect.stringContaining(`cluster busy is used by job ${id}`) });
    expect((await ilum('GET', `/cluster/${clusterId}`)).status).toBe(200);
    expect((await ilum('POST', `/job/${id}/stop`)).status).toBe(200);
    await waitFor(id, FINAL);
    const removed = await ilum('DELETE', `/cluster/${clusterId}`);
    expect(removed.status).toBe(200);
  });

  it('streams each change of the wanted jobs once, as whole jobInfos, resumable with Last-Event-ID', async () => {
    const stream = await openSse(`${base()}/api/v1/job/updates?tags=stream=yes`);
    const wanted = (await report('streamed', { tags: 'stream=yes' })).body!['jobId']!;
    const other = (await report('unwanted', { tags: 'stream=no' })).body!['jobId']!;
    const ofWanted = (events: SseEvent[]) => events.map((e) => JSON.parse(e.data) as JobInfo);
    const events = await stream.until((all) => ofWanted(all).some((j) => FINAL.includes(j.state)));
    stream.close();
    await waitFor(other, FINAL);
    const infos = ofWanted(events);
    expect(infos.every((j) => j.jobId === wanted)).toBe(true);
    expect(events.map((e) => e.event)).toEqual(['JobSubmitted', 'JobAssigned', 'JobStarted', 'JobSucceeded']);
    expect(infos.map((j) => j.state)).toEqual(['SUBMITTED', 'STARTING', 'BUSY', 'FINISHED']);
    expect(infos[0]).toMatchObject({
      jobName: 'streamed',
      tags: { stream: 'yes' },
      startTime: null,
      endTime: null,
    });
    expect(infos[2]!['startTime']).toEqual(expect.any(Number));
    expect(infos[3]).toEqual((await ilum('GET', `/job/${wanted}`)).body);
    const ids = events.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));

    // Resumed after the first event: the rest, each once; filtered by job id and cluster as well.
    const resumed = await openSse(`${base()}/api/v1/job/updates?jobIds=${wanted}&clusterNames=default`, {
      'Last-Event-ID': events[0]!.id,
    });
    const rest = await resumed.until((all) => all.length >= 3);
    resumed.close();
    expect(rest.map((e) => e.id)).toEqual(events.slice(1).map((e) => e.id));
    expect(rest.map((e) => e.data)).toEqual(events.slice(1).map((e) => e.data));

    const badResume = await ilum('GET', '/job/updates?lastEventId=abc');
    expect(badResume.status).toBe(409);
  });
});
