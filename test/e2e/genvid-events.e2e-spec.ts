import { randomUUID } from 'node:crypto';
import { loadConfig } from '@spindle/platform';
import { bootServices } from '@spindle/runtime';
import { TEST_ADMIN_KEY } from '../support/auth';
import { http } from '../support/http';
import { registerFunction, submit, upload, waitForState } from '../support/jobs';
import { SPINDLE_MODES } from '../support/spindle-modes';
import { spindleSuite } from '../support/spindle-suite';

jest.setTimeout(90_000);

// A job that publishes events with the line protocol, among ordinary output.
const PUBLISHER = `
exports.publish = (args) => {
  const source = args.source ?? 'vote';
  for (const vote of args.votes) console.log('SPINDLE_EVENT ' + JSON.stringify({ source, data: vote }));
  console.log('an ordinary line');
  console.log('SPINDLE_EVENT this is not json');
  return args.votes.length;
};
`;

const RULES = {
  maps: [
    {
      id: 'votes',
      source: 'vote',
      where: { 'data.color': { $in: ['red', 'blue'] } },
      key: ['$data.color'],
      value: '$data.weight',
    },
  ],
  reductions: [{ id: 'perColor', source: 'votes', operations: ['count', 'sum', 'max'], period: 300 }],
};

interface Result {
  counter: number;
  type: 'map' | 'reduce';
  id: string;
  key: unknown[];
  value?: unknown;
  count?: number;
  sum?: number;
  max?: number;
}

// A Genvid client's view of events: definitions in, a results log polled by counter.
describe.each(SPINDLE_MODES)('Genvid events over %s', (_mode, env) => {
  // The log resets after 60 s without a request here, not Genvid's 5 s: a restart on a busy
  // machine may take longer than that. The last test shortens it.
  const suite = spindleSuite({ name: 'genvid-events', env: { ...env, GENVID_EVENTS_RESET_MS: '60000' } });
  const genvid = (method: string, path: string, body?: unknown) =>
    http(suite.spindle.dialectUrls['genvid']!, method, path, body);
  // A gateway process of its own on the suite's database (reads only: no Kafka reply consumer for
  // commands, which would still be joining its group when this gateway stops a moment later).
  const secondGateway = (overrides: Record<string, string> = {}) =>
    bootServices({
      config: {
        ...loadConfig(
          {
            ...env,
            DATABASE_URL: suite.databaseUrl,
            KAFKA_NAMESPACE: suite.kafkaNamespace,
            GATEWAY_PORT: '0',
            SPINDLE_HOST: '127.0.0.1',
            SPINDLE_DATA_DIR: suite.dataDir,
            SPINDLE_ADMIN_KEY: TEST_ADMIN_KEY,
            SPINDLE_DIALECT_AUTH: 'open',
            // As the suite's: with Genvid's 5 s, a second gateway that took longer than that to
            // start found the log reset by the spell its own start made.
            GENVID_EVENTS_RESET_MS: '60000',
            ...overrides,
          },
          'standalone',
        ),
        commands: 'in-process',
      },
      services: ['gateway'],
      name: 'second gateway',
      port: 0,
      logger: false,
    });
  // Polls the results after `counter` (as a Genvid client, from the counter it is given) until one
  // is a map result.
  const untilMapped = async (counter: number) => {
    let page: { counter: number; messages: Result[] } = { counter, messages: [] };
    for (let i = 0; i < 100 && !page.messages.some((r) => r.type === 'map'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      page = (await genvid('GET', `/v1/events/results/${counter}`)).body;
    }
    return page;
  };

  beforeAll(async () => {
    await upload(suite.url, 'publisher.js', PUBLISHER);
    await registerFunction(suite.url, 'publisher', 'publisher.js', 'node', 'publish');
  });

  it('replaces the definitions, and answers the rules it leaves out as errors', async () => {
    const broken = {
      maps: [...RULES.maps, { id: 'odd', source: 'vote', where: { data: { $bogus: 1 } } }],
      reductions: [{ id: 'lost', source: 'nothing', operations: ['count'], period: 1000 }],
    };
    const set = await genvid('POST', '/v1/events', broken);
    expect(set.status).toBe(200);
    expect(set.body.mapreduce).toEqual([broken]);
    expect(set.body.errors).toContain('(odd)');
    expect(set.body.errors).toContain('$bogus');
    expect(set.body.errors).toContain('source nothing is no map rule');
    expect((await genvid('GET', '/v1/events')).body).toEqual(set.body);

    // an array of events files replaces them all
    const replaced = await genvid('POST', '/v1/events', [RULES]);
    expect(replaced.body).toEqual({ mapreduce: [RULES], errors: '' });
    expect((await genvid('GET', '/v1/events')).body).toEqual({ mapreduce: [RULES], errors: '' });
  });

  it('refuses definitions of the wrong shape with a 400 {error} naming the field, and keeps those in force', async () => {
    expect((await genvid('POST', '/v1/events', RULES)).status).toBe(200);
    const bad = await genvid('POST', '/v1/events', {
      maps: RULES.maps,
      reductions: [{ ...RULES.reductions[0], operations: ['average'] }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('reductions.0.operations.0');
    const unknown = await genvid('POST', '/v1/events', { maps: [{ ...RULES.maps[0], colour: 'red' }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain('maps.0.colour');
    expect((await genvid('POST', '/v1/events', 'rules')).status).toBe(400);
    expect((await genvid('GET', '/v1/events')).body.mapreduce).toEqual([RULES]);

    const counter = await genvid('GET', '/v1/events/results/soon');
    expect(counter.status).toBe(400);
    expect(counter.body.error).toContain('counter');
  });

  it('maps and reduces what a job publishes into one durable results log: the same from any gateway process and after a restart', async () => {
    // A source of this run's own: on a shared broker the projector's group may read older runs' lines.
    const source = `vote-${randomUUID()}`;
    const rules = {
      maps: [{ ...RULES.maps[0]!, source }],
      reductions: RULES.reductions,
    };
    expect((await genvid('POST', '/v1/events', rules)).status).toBe(200);
    const start = await genvid('GET', '/v1/events/results/0');
    expect(start.status).toBe(200);
    let counter: number = start.body.counter;

    const votes = [
      { color: 'red', weight: 1 },
      { color: 'blue', weight: 5 },
      { color: 'red', weight: 4 },
      { color: 'green', weight: 9 },
    ];
    const job = await submit(suite.url, 'publisher', { args: { source, votes } });

    // Poll as a Genvid client does, each time from the counter it was given, until both colours
    // are reduced (in one period or two).
    const seen: Result[] = [];
    const reduced = () => seen.filter((r) => r.type === 'reduce');
    const total = (color: string, field: 'count' | 'sum') =>
      reduced()
        .filter((r) => r.key[0] === color)
        .reduce((n, r) => n + (r[field] ?? 0), 0);
    for (let i = 0; i < 150 && !(total('red', 'count') === 2 && total('blue', 'count') === 1); i++) {
      await new Promise((r) => setTimeout(r, 200));
      const page = await genvid('GET', `/v1/events/results/${counter}`);
      expect(page.status).toBe(200);
      for (const message of page.body.messages as Result[]) expect(message.counter).toBeGreaterThan(counter);
      seen.push(...page.body.messages);
      counter = page.body.counter;
    }

    expect((await genvid('GET', `/v1/events/results/${counter}`)).body).toEqual({ counter, messages: [] });
    expect((await waitForState(suite.url, job.id)).state).toBe('succeeded');
    const mapped = seen.filter((r) => r.type === 'map');
    expect(mapped.map((r) => [r.id, r.key, r.value])).toEqual([
      ['votes', ['red'], 1],
      ['votes', ['blue'], 5],
      ['votes', ['red'], 4],
    ]);
    expect(total('red', 'count')).toBe(2);
    expect(total('red', 'sum')).toBe(5);
    expect(total('blue', 'sum')).toBe(5);
    expect(reduced().every((r) => r.id === 'perColor')).toBe(true);
    expect(reduced().some((r) => r.key[0] === 'green')).toBe(false);
    // counters are the positions of the log, one after the other
    expect(seen.map((r) => r.counter)).toEqual(seen.map((_, i) => start.body.counter + i + 1));
    const log = { counter, messages: seen };
    // (a reduction with nothing to reduce adds nothing, so the log stays as it is from here)

    // another gateway process on the same database answers the same
    const other = await secondGateway();
    try {
      const there = await http(
        other.dialectUrls['genvid']!,
        'GET',
        `/v1/events/results/${start.body.counter}`,
      );
      expect(there.body).toEqual(log);
    } finally {
      await other.stop();
    }

    // a restart keeps the log, and the counter goes on from where it was
    await suite.restart();
    expect((await genvid('GET', `/v1/events/results/${start.body.counter}`)).body).toEqual(log);
    const again = await submit(suite.url, 'publisher', {
      args: { source, votes: [{ color: 'blue', weight: 2 }] },
    });
    expect((await waitForState(suite.url, again.id)).state).toBe('succeeded');
    const after = await untilMapped(counter);
    expect(after.messages.filter((r) => r.type === 'map').map((r) => [r.key, r.value, r.counter])).toEqual([
      [['blue'], 2, counter + 1],
    ]);
    expect(after.counter).toBeGreaterThan(counter);
  }, 240_000); // two jobs, a second gateway and a restart: over a minute on a busy 2-core machine

  it('resets the log when no request came for a while, as Genvid: what came before is gone, counters go on', async () => {
    const source = `vote-${randomUUID()}`;
    expect((await genvid('POST', '/v1/events', { maps: [{ ...RULES.maps[0]!, source }] })).status).toBe(200);
    const start = (await genvid('GET', '/v1/events/results/0')).body.counter as number;
    const job = await submit(suite.url, 'publisher', {
      args: { source, votes: [{ color: 'red', weight: 3 }] },
    });
    expect((await waitForState(suite.url, job.id)).state).toBe('succeeded');
    const before = await untilMapped(start);
    expect(before.messages.filter((r) => r.type === 'map').map((r) => r.value)).toEqual([3]);

    // a gateway whose spell is 1 s, after 1.5 s without a request: the log was reset
    const other = await secondGateway({ GENVID_EVENTS_RESET_MS: '1000' });
    try {
      await new Promise((r) => setTimeout(r, 1_500));
      const reset = await http(other.dialectUrls['genvid']!, 'GET', `/v1/events/results/${start}`);
      expect(reset.body).toEqual({ counter: before.counter, messages: [] });
    } finally {
      await other.stop();
    }
    // the reset is the installation's: every gateway answers so
    expect((await genvid('GET', '/v1/events/results/0')).body).toEqual({
      counter: before.counter,
      messages: [],
    });

    // what comes after the reset is in the log, at counters after the old ones
    const again = await submit(suite.url, 'publisher', {
      args: { source, votes: [{ color: 'blue', weight: 7 }] },
    });
    expect((await waitForState(suite.url, again.id)).state).toBe('succeeded');
    const after = await untilMapped(0);
    expect(after.messages.map((r) => [r.type, r.value, r.counter])).toEqual([['map', 7, before.counter + 1]]);
  });
});
