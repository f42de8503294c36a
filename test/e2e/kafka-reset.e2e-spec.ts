import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { PROGRAMS } from '../fixtures/programs';
import { http } from '../support/http';
import { createContext, registerFunction, submit, upload, waitForState } from '../support/jobs';
import { spindleSuite } from '../support/spindle-suite';

jest.setTimeout(120_000);

// What a developer does with `npm run infra:down && npm run infra:up`, and a broker restore in
// production: the database is kept, the broker starts on empty data (with the same cluster id).
// A broker of this suite's own, so restarting it disturbs no other suite.
const ROOT = resolve(__dirname, '../..');
const PORT = process.env['KAFKA_RESET_TEST_PORT'] ?? '19294';
const brokerEnv = {
  ...process.env,
  KAFKA_STATE_DIR: join(ROOT, '.kafka', `reset-test-${PORT}`),
  KAFKA_PORT: PORT,
  KAFKA_CONTROLLER_PORT: String(Number(PORT) + 1),
};

function broker(script: 'kafka-up.sh' | 'kafka-down.sh'): void {
  execFileSync('bash', [join(ROOT, 'tools/kafka', script)], { env: brokerEnv, stdio: 'ignore' });
}

describe('Spindle after its Kafka broker was reset, its database kept', () => {
  // Started by the test, once the broker is up.
  const suite = spindleSuite({
    name: 'kafka-reset',
    env: {
      MIST_PORT: '0',
      ILUM_PORT: '0',
      GENVID_PORT: '0',
      APOLLO_PORT: '0',
      KAFKA_BROKERS: `127.0.0.1:${PORT}`,
      KAFKA_TOPIC_PARTITIONS: '1',
    },
    start: false,
  });
  const start = async (): Promise<string> => {
    await suite.start();
    return suite.url;
  };

  beforeAll(() => broker('kafka-up.sh'));
  afterAll(() => broker('kafka-down.sh'));

  async function runJobs(url: string, n: number): Promise<string[]> {
    const jobs = await Promise.all(
      Array.from({ length: n }, (_, i) => submit(url, 'add', { args: { a: i, b: 1 } })),
    );
    for (const [i, job] of jobs.entries())
      expect(await waitForState(url, job.id)).toMatchObject({ state: 'succeeded', result: i + 1 });
    return jobs.map((j) => j.id);
  }

  async function listed(url: string): Promise<string[]> {
    const page = await http<{ items: { id: string }[] }>(url, 'GET', '/api/v1/jobs?function=add&limit=100');
    return page.body.items.map((j) => j.id);
  }

  it('runs jobs to their end and lists them, before and after', async () => {
    let url = await start();
    await upload(url, 'sum.js', PROGRAMS['sum.js']);
    await registerFunction(url, 'add', 'sum.js', 'node', 'sum');
    const before = await runJobs(url, 3);
    await suite.stop();

    broker('kafka-down.sh');
    broker('kafka-up.sh');
    url = await start();

    // Read your writes needs the projector: it must apply the new topic's messages.
    await createContext(url, 'after-reset', {});
    // The scheduler must apply the agents' reports: the jobs end.
    const after = await runJobs(url, 3);
    expect((await listed(url)).sort()).toEqual([...before, ...after].sort());
  });

  // A part of a topology that has not stopped 10 s after SIGTERM is killed by its supervisor
  // (topology-processes.ts), and a service manager does the same: its shutdown must not wait for a
  // broker that is gone. The worker host's last heartbeat did, through the producer's retries
  // (about 25 s).
  it('stops promptly while its broker is down', async () => {
    await suite.restart();
    broker('kafka-down.sh');
    try {
      const began = Date.now();
      await suite.stop();
      expect(Date.now() - began).toBeLessThan(8_000);
    } finally {
      broker('kafka-up.sh');
    }
  });
});
