import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS } from '@spindle/testing';

// About 70 s on a quiet 2-core machine; several times that when other suites share the cores.
jest.setTimeout(600_000);

// Keeps `npm run bench` working: its toy-sized run starts Spindle, drives it and the peers, and
// writes a result file of the documented shape. It checks the shape, never the speed.
describe('npm run bench -- --smoke', () => {
  const out = mkdtempSync(join(tmpdir(), 'spindle-bench-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('measures Spindle and the peers and writes JSON and Markdown results', async () => {
    const server = new URL(TEST_DATABASE_URL);
    server.pathname = '/postgres';
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '-r',
          '@swc-node/register',
          'bench/run.ts',
          '--smoke',
          '--only=submit,start-latency,noop,logs,rebuild,group',
          '--topologies=node,single',
          `--out=${out}`,
        ],
        {
          cwd: join(__dirname, '..', '..'),
          env: {
            ...process.env,
            KAFKA_BROKERS: TEST_KAFKA_BROKERS.join(','),
            BENCH_POSTGRES_URL: server.toString(),
            BENCH_SPINDLE_PORT: '29180', // below the ephemeral ports, as the default
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
      child.on('exit', (exit) => {
        if (exit !== 0) console.error(stderr);
        resolve(exit);
      });
    });
    expect(code).toBe(0);
    const files = readdirSync(out);
    // A run of some figures is named after them, so it never overwrites a whole run.
    const json = files.find((f) =>
      f.endsWith('-smoke-only-group-logs-noop-rebuild-start-latency-submit.json'),
    );
    expect(json).toBeDefined();
    expect(files).toContain(json!.replace(/\.json$/, '.md'));
    const result = JSON.parse(readFileSync(join(out, json!), 'utf8'));
    expect(result).toMatchObject({ mode: 'smoke', failures: [], machine: { cores: expect.any(Number) } });
    // The backbone figures once per topology (the peers beside the first), the others in the first.
    expect(
      result.figures.map((f: { figure: string; topology: string }) => `${f.figure} ${f.topology}`),
    ).toEqual([
      'submit node',
      'submit single',
      'start-latency node',
      'start-latency single',
      'noop node',
      'noop single',
      'logs node',
      'rebuild node',
      'group node',
    ]);
    for (const figure of result.figures) {
      expect(figure.rows.length).toBeGreaterThan(0);
      for (const row of figure.rows)
        expect(typeof row.spindle === 'number' || row.spindle === null).toBe(true);
    }
    const submit = result.figures[0];
    expect(submit.rows[0].spindle).toBeGreaterThan(0);
    expect(Object.keys(submit.rows[0].peers)).toEqual(['bullmq', 'pg-boss', 'graphile-worker']);
    // Beside them, the floor: the same hops with no work in them, printed as a column with its ratio.
    expect(submit.rows[0].floor).toBeGreaterThan(0);
    expect(readFileSync(join(out, json!.replace(/\.json$/, '.md')), 'utf8')).toMatch(
      /\| metric \| Spindle \| floor \(no work\) \| BullMQ \| pg-boss \| graphile-worker \| Spindle vs floor and peers \|/,
    );
    // Figure 2's floor: every floor job started, after a positive time.
    const start = result.figures[2];
    const startRow = (metric: string) => start.rows.find((r: { metric: string }) => r.metric === metric);
    expect(startRow('submit → start p50 @50/s').floor).toBeGreaterThan(0);
    expect(startRow('jobs not started @50/s').floor).toBe(0);
    expect(startRow('jobs not started @50/s').spindle).toBe(0);
    // What a submit costs, measured in Spindle's own processes and database.
    const cost = (metric: string) =>
      submit.rows.find((r: { metric: string }) => r.metric === `per submit: ${metric}`)?.spindle;
    expect(cost("CPU of Spindle's processes")).toBeGreaterThan(0);
    // ... and in the broker, which the tests run on this machine (the project's kafka-up.sh).
    expect(cost('CPU of the Kafka broker')).toBeGreaterThan(0);
    // ... and the round trips to it, by API: every submit's event is produced and fetched.
    const kafkaRow = submit.rows.find(
      (r: { metric: string }) => r.metric === 'per submit: Kafka requests (round trips)',
    );
    expect(kafkaRow.spindle).toBeGreaterThan(0);
    expect(kafkaRow.note).toMatch(/Produce \d+(\.\d+)?/);
    expect(kafkaRow.note).toMatch(/Fetch \d+(\.\d+)?/);
    // ... and where it went, process by process (the node topology's three).
    const cpuRow = submit.rows.find(
      (r: { metric: string }) => r.metric === "per submit: CPU of Spindle's processes",
    );
    expect(cpuRow.note).toMatch(/^\(control \d+(\.\d+)?, projection \d+(\.\d+)?, worker \d+(\.\d+)?\)$/);
    const statementsRow = submit.rows.find(
      (r: { metric: string }) => r.metric === 'per submit: Postgres statements (round trips)',
    );
    expect(statementsRow.note).toMatch(/\bscheduler \d+(\.\d+)?\b/);
    expect(statementsRow.note).toMatch(/\bread-models \d+(\.\d+)?\b/);
    expect(cost('Postgres transactions')).toBeGreaterThan(0);
    expect(cost('Postgres statements (round trips)')).toBeGreaterThan(0);
    expect(cost('Kafka messages published')).toBeGreaterThanOrEqual(1);
    // Nothing acknowledged is missing afterwards, in any figure.
    const lost = result.figures.flatMap((f: { rows: { metric: string; spindle: number }[] }) =>
      f.rows.filter((r) => /not found|not succeeded|missing/.test(r.metric)).map((r) => r.spindle),
    );
    expect(lost.every((n: number) => n === 0)).toBe(true);
    // The rebuild replayed what was seeded, and readers saw no error meanwhile.
    const rebuild = result.figures[7];
    const row = (metric: string) => rebuild.rows.find((r: { metric: string }) => r.metric.startsWith(metric));
    expect(row('events replayed').spindle).toBeGreaterThan(4_000);
    expect(row('page reads during the rebuild: errors').spindle).toBe(0);
    // A warm group and a cold job both answered every request, with the right result.
    const group = result.figures[8];
    const groupRow = (metric: string) =>
      group.rows.find((r: { metric: string }) => r.metric.startsWith(metric));
    expect(groupRow('warm group execute round trip p50').spindle).toBeGreaterThan(0);
    expect(groupRow('cold exclusive job round trip p50').spindle).toBeGreaterThan(0);
    // The figure's notes name the requests that got a wrong answer: shown here when any did.
    expect(group.notes.filter((n: string) => /^(group request|cold job) /.test(n))).toEqual([]);
    expect(groupRow('requests with a wrong answer').spindle).toBe(0);
  });
});
