import { randomUUID } from 'node:crypto';
import { commandFor } from '@spindle/backbone';
import type { BoundCommand } from '@spindle/backbone';
import { EventTopics } from '@spindle/contracts';
import { readKafkaTopic } from '@spindle/testing';
import { SchedulerCommandsService, groupCommands } from '@spindle/scheduler';
import type { GroupCommand } from '@spindle/scheduler';
import { http } from '../support/http';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { expectRebuildRestores } from '../support/rebuild';
import { spindleSuite } from '../support/spindle-suite';
import { waitUntil } from '../support/wait';

interface GroupInfo {
  id: string;
  name: string;
  state: string;
  kind: string;
  scale: number;
  clusterName: string;
  createdTime: number;
  archivedTime: number | null;
  tags: Record<string, string>;
}

const JOB_PY = [
  'from ilum.api import IlumJob',
  '',
  'class Hello(IlumJob):',
  '    def run(self, spark, config):',
  "        return 'hello ' + config.get('who', 'world')",
  '',
].join('\n');

function groupForm(fields: Record<string, string>, files: [string, string, string][] = []): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  for (const [field, fileName, content] of files) form.append(field, new Blob([content]), fileName);
  return form;
}

// An Ilum client changes only host and port: everything Ilum here talks to the Ilum port's paths.
describe.each(SPINDLE_MODES)('Ilum groups over %s', (mode, env) => {
  const suite = spindleSuite({ name: 'ilum-groups', env });
  const ilum = (method: string, path: string, body?: unknown) =>
    http(suite.spindle.dialectUrls['ilum']!, method, `/api/v1${path}`, body);
  const native = (method: string, path: string, body?: unknown) =>
    http(suite.url, method, `/api/v1${path}`, body);
  const groupCount = async () => (await ilum('GET', '/group?size=1')).body.totalElements as number;
  const artifactNames = async () =>
    ((await native('GET', '/artifacts?limit=500')).body.items as { name: string }[]).map((a) => a.name);

  let groupId = '';

  it('creates a group from the multipart form; its file becomes an artifact', async () => {
    const created = await ilum(
      'POST',
      '/group',
      groupForm(
        {
          name: 'analytics',
          description: 'warm python workers',
          kind: 'JOB',
          language: 'PYTHON',
          tags: 'team=data;env=test',
          jobConfig: 'spark.executor.memory=1g;spark.opts=-Da=b',
          pyRequirements: '',
          scale: '2',
        },
        [['pyFiles', 'jobs.py', JOB_PY]],
      ),
    );
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ groupId: expect.any(String) });
    groupId = created.body.groupId;

    // Read at once: a client that creates and reads back never sees a 404.
    const got = await ilum('GET', `/group/${groupId}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({
      id: groupId,
      name: 'analytics',
      description: 'warm python workers',
      kind: 'JOB',
      tags: { team: 'data', env: 'test' },
      language: 'PYTHON',
      clusterName: 'default',
      state: 'ACTIVE',
      scale: 2,
      jobConfig: { 'spark.executor.memory': '1g', 'spark.opts': '-Da=b' },
      createdTime: expect.any(Number),
      archivedTime: null,
      jobs: expect.any(Array), // its workers, starting (ilum-group-jobs.e2e-spec.ts follows them)
    });
    expect(Math.abs(got.body.createdTime - Date.now())).toBeLessThan(10 * 60_000);
    // The same group by name (its workers may have moved on from starting meanwhile).
    const byName = (await ilum('GET', '/group/name/analytics')).body;
    expect({ ...byName, jobs: [] }).toEqual({ ...got.body, jobs: [] });

    const native_ = await native('GET', `/groups/${groupId}`);
    expect(native_.body).toMatchObject({
      pyFiles: [`group-${groupId}-jobs.py`],
      pyRequirements: [],
      scale: 2,
      state: 'ACTIVE',
    });
    expect(await artifactNames()).toContain(`group-${groupId}-jobs.py`);
  });

  it("takes Ilum's defaults: cluster default, kind JOB, language SCALA, scale 1", async () => {
    const created = await ilum('POST', '/group', groupForm({ name: 'plain' }));
    expect(created.status).toBe(200);
    expect((await ilum('GET', '/group/name/plain')).body).toMatchObject({
      clusterName: 'default',
      kind: 'JOB',
      language: 'SCALA',
      scale: 1,
      tags: {},
      jobConfig: {},
    });
  });

  it('refuses bad forms with 409 {message}, an unknown cluster with 404, and changes nothing', async () => {
    const k8s = await ilum('POST', '/cluster', { name: 'far-k8s', type: 'k8s', url: 'https://k8s:6443' });
    expect(k8s.status).toBe(200);
    const before = await groupCount();
    const artifactsBefore = await artifactNames();
    const file: [string, string, string][] = [['pyFiles', 'left.py', 'x = 1\n']];
    const cases: [Record<string, string>, number, string][] = [
      [{ name: 'a', clusterName: 'nowhere' }, 404, 'cluster nowhere does not exist'],
      [{ name: 'b', clusterName: 'far-k8s' }, 409, 'no k8s executor yet'],
      [{ name: 'analytics' }, 409, 'group analytics already exists'],
      [{ name: 'c', scale: '0' }, 409, 'scale must be a whole number from 1 to 64'],
      [{ name: 'c', scale: 'many' }, 409, 'scale must be a whole number'],
      [{ name: 'c', kind: 'SHELL' }, 409, 'kind must be one of JOB, CODE'],
      [{ name: 'c', language: 'RUBY' }, 409, 'language must be one of SCALA, PYTHON, NODE'],
      [{ name: 'c', tags: 'team' }, 409, 'tags must be key=value pairs'],
      [{ name: 'c', jobConfig: '=1' }, 409, 'jobConfig must be key=value pairs'],
      [{ name: '../c' }, 409, 'name must start with a letter or digit'],
      [{ description: 'no name' }, 409, 'name is required'],
      // Spindle installs no packages: refused, not recorded and ignored.
      [{ name: 'c', pyRequirements: 'pandas==2.0.0;numpy' }, 409, 'pyRequirements: not supported'],
    ];
    for (const [fields, status, message] of cases) {
      const res = await ilum('POST', '/group', groupForm(fields, file));
      expect({ fields, status: res.status }).toEqual({ fields, status });
      expect(res.body).toEqual({ message: expect.stringContaining(message) });
    }
    const unsafe = await ilum('POST', '/group', groupForm({ name: 'd' }, [['files', '../evil.py', 'x']]));
    expect(unsafe.status).toBe(409);
    expect(unsafe.body.message).toContain('files: the file name must be a plain name');
    // one form reader for groups and jobs (ilum-form.ts): each of its refusals names the field
    const twice = groupForm({ name: 'd' }, [['files', 'a.py', 'x']]);
    twice.append('name', 'd2');
    const formCases: [FormData, string][] = [
      [groupForm({ name: 'd' }, [['program', 'x.py', 'x']]), 'program is not a file field'],
      [twice, 'name may be given once'],
      [
        groupForm({ name: 'd' }, [
          ['files', 'a.py', 'x'],
          ['pyFiles[]', 'a.py', 'y'],
        ]),
        'pyFiles: a.py is sent twice',
      ],
    ];
    for (const [form, message] of formCases) {
      const res = await ilum('POST', '/group', form);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 409,
        body: { message: expect.stringContaining(message) },
      });
    }
    const json = await ilum('POST', '/group', { name: 'e' });
    expect(json.status).toBe(409);
    expect(json.body).toEqual({ message: expect.stringContaining('multipart/form-data') });

    expect(await groupCount()).toBe(before);
    // The refused forms' files were stored while the form streamed in, and removed again.
    await waitUntil(async () => (await artifactNames()).length === artifactsBefore.length, 10_000);
    expect(await artifactNames()).toEqual(artifactsBefore);
  });

  it('rescales to an absolute count, refusing what is out of range', async () => {
    for (const scale of [1, 3]) {
      const res = await ilum('POST', `/group/${groupId}/rescale/${scale}`);
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expect((await ilum('GET', `/group/${groupId}`)).body.scale).toBe(scale);
    }
    for (const scale of ['0', '65', 'x']) {
      const res = await ilum('POST', `/group/${groupId}/rescale/${scale}`);
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ message: expect.stringContaining('scale must be') });
    }
    expect((await ilum('POST', `/group/nope/rescale/2`)).status).toBe(404);
    expect((await ilum('GET', `/group/${groupId}`)).body.scale).toBe(3);
  });

  it('keeps a cluster that groups use from being deleted', async () => {
    const onLaptop = await ilum('POST', '/cluster', { name: 'laptop', type: 'local', threads: 2 });
    const made = await ilum('POST', '/group', groupForm({ name: 'on-laptop', clusterName: 'laptop' }));
    expect(made.status).toBe(200);
    const refused = await ilum('DELETE', `/cluster/${onLaptop.body.clusterId}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ message: expect.stringContaining('group on-laptop') });
    expect((await ilum('DELETE', `/group/${made.body.groupId}`)).status).toBe(200);
    expect((await ilum('DELETE', `/cluster/${onLaptop.body.clusterId}`)).status).toBe(200);
  });

  it('stops a group: ARCHIVED with its archivedTime; a stopped group is not rescaled', async () => {
    const stopped = await ilum('POST', `/group/${groupId}/stop`);
    expect(stopped.status).toBe(200);
    expect(stopped.text).toBe('');
    const got = await ilum('GET', `/group/${groupId}`);
    expect(got.body).toMatchObject({ state: 'ARCHIVED', archivedTime: expect.any(Number) });
    expect(got.body.archivedTime).toBeGreaterThanOrEqual(got.body.createdTime);
    expect((await ilum('POST', `/group/${groupId}/stop`)).status).toBe(200);
    const rescale = await ilum('POST', `/group/${groupId}/rescale/2`);
    expect(rescale.status).toBe(409);
    expect(rescale.body).toEqual({
      message: expect.stringContaining('group analytics is stopped (ARCHIVED)'),
    });
    const archived = await ilum('GET', '/group?groupStates=ARCHIVED');
    expect(archived.body.content.map((g: GroupInfo) => g.name)).toEqual(['analytics']);
  });

  it('deletes a group with an empty 200, and the files it brought', async () => {
    const del = await ilum('DELETE', `/group/${groupId}`);
    expect(del.status).toBe(200);
    expect(del.text).toBe('');
    for (const path of [`/group/${groupId}`, '/group/name/analytics']) {
      const res = await ilum('GET', path);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ message: expect.any(String) });
    }
    expect((await ilum('DELETE', `/group/${groupId}`)).status).toBe(404);
    expect((await ilum('POST', `/group/${groupId}/stop`)).status).toBe(404);
    expect(await artifactNames()).not.toContain(`group-${groupId}-jobs.py`);
    // The name is free again.
    expect((await ilum('POST', '/group', groupForm({ name: 'analytics' }))).status).toBe(200);
  });

  it('serves the same groups natively, with problem+json errors', async () => {
    const created = await native('POST', '/groups', {
      name: 'native-one',
      kind: 'CODE',
      language: 'NODE',
      tags: { team: 'web' },
      scale: 2,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/v1/groups/${created.body.id}`);
    expect(created.body).toMatchObject({ name: 'native-one', kind: 'CODE', language: 'NODE', scale: 2 });
    const again = await native('POST', '/groups', { name: 'native-one' });
    expect(again.status).toBe(409);
    // With an Idempotency-Key a retry gets the first answer; the key still checks the cluster.
    const keyed = { name: 'keyed', scale: 2 };
    const headers = { 'idempotency-key': `k-${randomUUID()}` };
    const first = await http(suite.url, 'POST', '/api/v1/groups', keyed, headers);
    const retry = await http(suite.url, 'POST', '/api/v1/groups', keyed, headers);
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.body.id).toBe(first.body.id);
    const far = await http(
      suite.url,
      'POST',
      '/api/v1/groups',
      { name: 'far', clusterName: 'far-k8s' },
      {
        'idempotency-key': `k-${randomUUID()}`,
      },
    );
    expect(far.status).toBe(409);
    expect(far.body.detail).toContain('no k8s executor yet');
    const bad = await native('POST', '/groups', { name: 'x', scale: 99, pyFiles: ['missing.py'] });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'scale', rule: 'too_big' })]);
    const packages = await native('POST', '/groups', { name: 'x', pyRequirements: ['pandas==2.0.0'] });
    expect(packages.status).toBe(400);
    expect(packages.body.errors).toEqual([
      expect.objectContaining({ field: 'pyRequirements', message: expect.stringContaining('not supported') }),
    ]);
    const missing = await native('POST', '/groups', { name: 'x', pyFiles: ['missing.py'] });
    expect(missing.status).toBe(404);
    expect(missing.body.errors).toEqual([expect.objectContaining({ field: 'pyFiles' })]);

    const rescaled = await native('POST', `/groups/${created.body.id}/rescale`, { scale: 4 });
    expect(rescaled.body).toMatchObject({ scale: 4 });
    expect((await native('POST', `/groups/${created.body.id}/rescale`, { scale: 0 })).status).toBe(400);
    const codeGroups = await native('GET', '/groups?kind=CODE');
    expect(codeGroups.body.items.map((g: { name: string }) => g.name)).toEqual(['native-one']);
    const stopped = await native('POST', `/groups/${created.body.id}/stop`);
    expect(stopped.body).toMatchObject({ state: 'ARCHIVED', archivedAt: expect.any(String) });
    expect((await native('DELETE', `/groups/${created.body.id}`)).status).toBe(204);
    expect((await native('GET', `/groups/${created.body.id}`)).status).toBe(404);
  });

  it('serves its group routes in both OpenAPI documents', async () => {
    const ilumDoc = await http(suite.spindle.dialectUrls['ilum']!, 'GET', '/openapi.json');
    expect(Object.keys(ilumDoc.body.paths)).toEqual(
      expect.arrayContaining([
        '/compat/ilum/api/v1/group',
        '/compat/ilum/api/v1/group/{groupId}',
        '/compat/ilum/api/v1/group/name/{groupName}',
        '/compat/ilum/api/v1/group/{groupId}/stop',
        '/compat/ilum/api/v1/group/{groupId}/rescale/{scale}',
      ]),
    );
    const nativeDoc = await http(suite.url, 'GET', '/api/openapi.json');
    expect(Object.keys(nativeDoc.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/groups', '/api/v1/groups/{id}', '/api/v1/groups/{id}/rescale']),
    );
  });

  it("rebuilds groups_v1 from the scheduler's event store into the same rows", async () => {
    const rows = await expectRebuildRestores(suite.databaseUrl, 'groups', 'groups_v1', "name = 'plain'");
    expect(rows.length).toBeGreaterThanOrEqual(5); // Ilum's and native groups, tombstones too
  });

  // Standalone has no broker: its events stay in-process.
  (mode === 'Kafka' ? it : it.skip)(
    "publishes a group's life on its topic, keyed by its stream",
    async () => {
      const records = await readKafkaTopic(suite.kafkaTopic(EventTopics.schedulerGroup), (rs) =>
        rs.some((r) => r.value.includes('"GroupDeleted"') && r.value.includes('native-one')),
      );
      const life = records
        .filter((r) => r.key === 'group-native-one')
        .map((r) => (JSON.parse(r.value) as { type: string }).type);
      expect(life).toEqual(['GroupCreated', 'GroupRescaled', 'GroupStopped', 'GroupDeleted']);
    },
  );

  describe('a page of 10 000 groups', () => {
    const COUNT = 10_000;
    const clusters = ['default', 'east', 'west'];
    // Group i: kind CODE when i % 4 == 0, archived when i % 10 == 0, cluster i % 3, tag shard=i % 7.
    const nameOf = (i: number) => `bulk-${String(i).padStart(5, '0')}`;

    beforeAll(async () => {
      for (const name of ['east', 'west'])
        expect((await ilum('POST', '/cluster', { name, type: 'local', threads: 1 })).status).toBe(200);
      // Seeded through the scheduler's command engine, many per transaction, as the gateway would.
      const commands = suite.spindle.app.get(SchedulerCommandsService);
      const meta = { correlationId: `seed-${randomUUID()}`, causationId: null };
      for (let from = 0; from < COUNT; from += 500) {
        const batch: BoundCommand[] = [];
        for (let i = from; i < Math.min(COUNT, from + 500); i++) {
          const base = {
            correlationId: meta.correlationId,
            issuedAt: new Date().toISOString(),
            name: nameOf(i),
          };
          const create: GroupCommand = {
            kind: 'create',
            ...base,
            id: randomUUID(),
            scale: 1 + (i % 5),
            definition: {
              clusterName: clusters[i % 3]!,
              description: i % 1000 === 0 ? `the needle ${i}` : 'hay',
              kind: i % 4 === 0 ? 'CODE' : 'JOB',
              language: 'PYTHON',
              tags: { shard: String(i % 7), bulk: 'yes' },
              jobConfig: {},
              jars: [],
              files: [],
              pyFiles: [],
              pyRequirements: [],
            },
          };
          batch.push(commandFor(groupCommands, create, meta));
          if (i % 10 === 0) batch.push(commandFor(groupCommands, { kind: 'stop', ...base }, meta));
        }
        const results = await commands.runMany(batch);
        expect(results.filter((r) => !r.ok)).toEqual([]);
      }
      await waitUntil(
        async () =>
          (await ilum('GET', '/group?size=1&tags=bulk=yes')).body.totalElements === COUNT &&
          (await ilum('GET', '/group?size=1&groupStates=ARCHIVED&tags=bulk=yes')).body.totalElements ===
            COUNT / 10,
        120_000,
      );
    }, 240_000);

    const expected = (keep: (i: number) => boolean) =>
      Array.from({ length: COUNT }, (_, i) => i).filter(keep);
    const names = (body: { content: GroupInfo[] }) => body.content.map((g) => g.name);

    it('counts every filter truly and pages in the order asked', async () => {
      const code = await ilum('GET', '/group?groupKinds=CODE&tags=bulk=yes&size=5&sort=name,desc');
      const codeIds = expected((i) => i % 4 === 0);
      expect(code.body).toMatchObject({
        totalElements: codeIds.length,
        totalPages: Math.ceil(codeIds.length / 5),
        first: true,
        last: false,
      });
      expect(names(code.body)).toEqual(codeIds.reverse().slice(0, 5).map(nameOf));

      const east = expected((i) => i % 3 === 1 && i % 7 === 3 && i % 10 !== 0);
      const eastPage = await ilum(
        'GET',
        '/group?clusterNames=east&tags=shard=3;bulk=yes&groupStates=ACTIVE&size=20&page=2&sort=name,asc',
      );
      expect(eastPage.body.totalElements).toBe(east.length);
      expect(names(eastPage.body)).toEqual(east.slice(40, 60).map(nameOf));

      const twice = await ilum('GET', '/group?tags=shard=3&tags=bulk=yes&clusterNames=east&size=1');
      expect(twice.body.totalElements).toBe(expected((i) => i % 3 === 1 && i % 7 === 3).length);
      const both = await ilum('GET', '/group?clusterNames=east,west&groupKinds=CODE&groupKinds=JOB&size=1');
      expect(both.body.totalElements).toBe(expected((i) => i % 3 !== 0).length);

      const needles = await ilum('GET', '/group?search=needle&sort=name,asc&size=100');
      expect(names(needles.body)).toEqual(expected((i) => i % 1000 === 0).map(nameOf));

      const byScale = await ilum('GET', '/group?tags=bulk=yes&sort=scale,desc&sort=name,asc&size=3');
      expect(byScale.body.content.map((g: GroupInfo) => [g.name, g.scale])).toEqual([
        [nameOf(4), 5],
        [nameOf(9), 5],
        [nameOf(14), 5],
      ]);

      const last = await ilum('GET', `/group?tags=bulk=yes&size=1000&page=9&sort=name,asc`);
      expect(last.body).toMatchObject({ last: true, first: false, totalPages: 10 });
      expect(names(last.body).at(-1)).toBe(nameOf(COUNT - 1));
      const beyond = await ilum('GET', '/group?tags=bulk=yes&size=1000&page=10');
      expect(beyond.body).toMatchObject({ empty: true, content: [], totalElements: COUNT });
    });

    it('refuses malformed filters with 409 {message}', async () => {
      for (const [query, word] of [
        ['groupStates=GONE', 'groupStates'],
        ['groupKinds=SHELL', 'groupKinds'],
        ['jobStates=SLEEPING', 'jobStates'],
        ['tags=shard', 'tags'],
        ['sort=secret,asc', 'sort'],
        ['size=0', 'size'],
      ]) {
        const res = await ilum('GET', `/group?${query}`);
        expect({ query, status: res.status }).toEqual({ query, status: 409 });
        expect(res.body.message).toContain(word);
      }
    });
  });
});
