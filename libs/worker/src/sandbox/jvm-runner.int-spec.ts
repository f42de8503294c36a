import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Jail } from './confinement';
import { Runner } from './runner';
import { CHECKOUT_RUNTIME_FILES, JVM_RUNNER_BUILD, jvmRunnerClassPath } from './runtime-files';
import { WorkerSandbox } from './worker-sandbox';
import type { RunningTask, TaskSpec } from './types';

jest.setTimeout(60_000);

// Programs the way an Ilum SCALA group's users write them (compiled here with javac, as they would
// be with scalac or javac): a class with run(spark, config), and Spindle's own run(args).
const SOURCES: Record<string, string> = {
  'demo/WordCount.java': `
package demo;
import java.util.Map;
public class WordCount {
  private static int calls = 0; // a warm JVM keeps it between requests
  public String run(Object spark, Map<String, Object> config) {
    calls++;
    String text = String.valueOf(config.get("text"));
    System.out.println("counting words of " + text);
    System.err.println("spark is " + spark);
    if (text.isBlank()) throw new IllegalStateException("nothing to count");
    return text.trim().split("\\\\s+").length + " words, call " + calls;
  }
}`,
  'demo/Context.java': `
package demo;
import io.spindle.runner.TaskContext;
import java.util.Map;
import java.util.Optional;
public class Context {
  public Optional<Map<String, Object>> run(Map<String, Object> args) throws Exception {
    Thread.sleep(((Number) args.getOrDefault("ms", 0L)).longValue());
    TaskContext task = TaskContext.current();
    System.out.println("I am " + task.jobId());
    return Optional.of(Map.of("jobId", task.jobId(), "variable", String.valueOf(task.env("SPINDLE_JOB_ID")),
        "workDir", task.workDir(), "n", ((Number) args.get("n")).longValue() + 1));
  }
}`,
  'demo/Partial.java': `
package demo;
import java.util.Map;
public class Partial {
  public int run(Map<String, Object> args) {
    System.out.print("no newline at the end");
    return 7;
  }
}`,
  'demo/Sleeper.java': `
package demo;
import java.util.Map;
public class Sleeper {
  public String run(Map<String, Object> args) throws InterruptedException {
    Thread.sleep(60_000);
    return "woke";
  }
}`,
};

// A library in a jar of its own, and a job in another jar that uses it (compiled against it).
const LIBRARY_SOURCES: Record<string, string> = {
  'lib/Greeter.java': `
package lib;
public class Greeter {
  private static int greetings = 0;
  public static String greet(String name) { return "hello " + name + " #" + (++greetings); }
}`,
};
const USER_SOURCES: Record<string, string> = {
  'demo/Greet.java': `
package demo;
import java.util.Map;
public class Greet {
  public String run(Object spark, Map<String, Object> config) { return lib.Greeter.greet(String.valueOf(config.get("name"))); }
}`,
  'demo/GreetMain.java': `
package demo;
public class GreetMain {
  public static void main(String[] args) { System.out.println(lib.Greeter.greet("main")); }
}`,
};

function compileJar(dir: string, name: string, sources: Record<string, string>, classPath: string): string {
  const src = join(dir, `${name}-src`);
  for (const [file, text] of Object.entries(sources)) {
    mkdirSync(join(src, file, '..'), { recursive: true });
    writeFileSync(join(src, file), text);
  }
  const classes = join(dir, `${name}-classes`);
  execFileSync('javac', ['-d', classes, '-cp', classPath, ...Object.keys(sources).map((f) => join(src, f))]);
  const jar = join(dir, `${name}.jar`);
  execFileSync('jar', ['--create', '--file', jar, '-C', classes, '.']);
  return jar;
}

describe('the JVM runner (jvm-runner tasks: Ilum SCALA groups)', () => {
  let dir: string;
  let jar: string;
  let libraryJar: string;
  let userJar: string;
  let sandbox: WorkerSandbox;
  let serial = 0;
  const started: number[] = [];

  beforeAll(() => {
    const classPath = jvmRunnerClassPath(CHECKOUT_RUNTIME_FILES);
    if (classPath === undefined) throw new Error(`the JVM runner is not built: ${JVM_RUNNER_BUILD}`);
    dir = mkdtempSync(join(tmpdir(), 'spindle-jvm-'));
    jar = compileJar(dir, 'demo', SOURCES, classPath);
    libraryJar = compileJar(dir, 'greeter', LIBRARY_SOURCES, classPath);
    userJar = compileJar(dir, 'greet', USER_SOURCES, `${classPath}:${libraryJar}`);
  });

  beforeEach(() => {
    sandbox = new WorkerSandbox({ workerId: `w${++serial}`, baseDir: join(dir, `worker-${serial}`) });
    started.length = 0;
    sandbox.onRunnerStart((pid) => started.push(pid));
  });

  afterEach(() => sandbox.stop());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function spec(entrypoint: string, args: Record<string, unknown>): TaskSpec {
    const jobId = `job-${serial}-${Math.random().toString(36).slice(2, 8)}`;
    return {
      jobId,
      runtime: 'jvm-runner',
      programPath: jar,
      entrypoint,
      args,
      workDir: join(dir, 'jobs', jobId),
      env: { SPINDLE_JOB_ID: jobId },
      performTimeoutMs: null,
    };
  }

  async function run(task: TaskSpec, on: WorkerSandbox = sandbox) {
    const lines: string[] = [];
    const running: RunningTask = await on.run(task, {
      line: (stream, text) => lines.push(`${stream}: ${text}`),
    });
    return { task, running, lines };
  }

  it("runs an Ilum job's run(spark, config) in one warm JVM: its static state lives on, each output line is its task's", async () => {
    const first = await run(spec('demo.WordCount', { spark: null, config: { text: 'to be or not' } }));
    expect(await first.running.done).toEqual({ outcome: 'succeeded', result: '4 words, call 1' });
    const second = await run(spec('demo.WordCount', { spark: null, config: { text: 'to be' } }));
    expect(await second.running.done).toEqual({ outcome: 'succeeded', result: '2 words, call 2' });
    expect(first.lines).toEqual(['stdout: counting words of to be or not', 'stderr: spark is null']);
    expect(second.lines).toEqual(['stdout: counting words of to be', 'stderr: spark is null']);
    expect(started).toHaveLength(1);
    expect(second.running.pid).toBe(first.running.pid);
    expect(sandbox.pid).toBe(first.running.pid);
  });

  it('fails a task whose run throws with the Java stack trace, the error on its first line; the JVM goes on', async () => {
    const failing = await run(spec('demo.WordCount', { spark: null, config: { text: ' ' } }));
    const result = await failing.running.done;
    expect(result.outcome).toBe('failed');
    expect(result.outcome === 'failed' && result.error).toMatch(
      /^java\.lang\.IllegalStateException: nothing to count\n\tat demo\.WordCount\.run/,
    );
    const unknown = await run(spec('demo.Missing', {}));
    expect(await unknown.running.done).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/^java\.lang\.ClassNotFoundException: demo\.Missing/),
    });
    const next = await run(spec('demo.WordCount', { spark: null, config: { text: 'still here' } }));
    expect(await next.running.done).toMatchObject({ outcome: 'succeeded', result: '2 words, call 2' }); // the failed call counted too
    expect(started).toHaveLength(1);
  });

  it('runs concurrent tasks apart: each sees its own job id and variables through TaskContext, and gets its own lines', async () => {
    const tasks = await Promise.all(
      [0, 1, 2, 3].map((n) => run(spec('demo.Context', { n, ms: 300 - n * 50 }))),
    );
    const results = await Promise.all(tasks.map((t) => t.running.done));
    tasks.forEach((t, n) => {
      expect(results[n]).toEqual({
        outcome: 'succeeded',
        result: { jobId: t.task.jobId, variable: t.task.jobId, workDir: t.task.workDir, n: n + 1 },
      });
      expect(t.lines).toEqual([`stdout: I am ${t.task.jobId}`]);
    });
    expect(new Set(tasks.map((t) => t.running.pid)).size).toBe(1);
  });

  it('keeps a last line printed without its newline, and answers a non-string result as JSON', async () => {
    const task = await run(spec('demo.Partial', {}));
    expect(await task.running.done).toEqual({ outcome: 'succeeded', result: 7 });
    expect(task.lines).toEqual(['stdout: no newline at the end']);
  });

  it('cancels a waiting task by interrupting it, and the JVM takes the next one', async () => {
    const sleeper = await run(spec('demo.Sleeper', {}));
    const bystander = await run(spec('demo.Context', { n: 1, ms: 1_000 }));
    await sleeper.running.started;
    sleeper.running.cancel('stopped by its user');
    expect(await sleeper.running.done).toEqual({ outcome: 'cancelled', error: 'stopped by its user' });
    expect(await bystander.running.done).toMatchObject({ outcome: 'succeeded' });
    const next = await run(spec('demo.WordCount', { config: { text: 'after' } }));
    expect(await next.running.done).toMatchObject({ outcome: 'succeeded' });
    expect(started).toHaveLength(1);
  });

  it('fails a task on a host where the JVM runner is not built, saying how to build it', async () => {
    const helpersDir = join(dir, 'no-helpers');
    mkdirSync(helpersDir, { recursive: true });
    const jail = new Jail(Jail.unconfined.policy, null, { ...CHECKOUT_RUNTIME_FILES, helpersDir });
    const runner = new Runner('jvm', { onExit: () => undefined }, 1_000, jail);
    runner.start(dir);
    const task = runner.run(spec('demo.WordCount', {}), { line: () => undefined });
    expect(await task.done).toEqual({
      outcome: 'failed',
      error: `the JVM runner is not built on this host: run ${JVM_RUNNER_BUILD} (it needs java, javac and mvn)`,
    });
    expect(await task.started).toBeNull();
  });

  it("loads a program's jar and its library jars in one class loader, kept warm for that set of jars", async () => {
    const withLibrary = (config: Record<string, unknown>): TaskSpec => ({
      ...spec('demo.Greet', { spark: null, config }),
      programPath: userJar,
      libraryPaths: [libraryJar],
    });
    const first = await run(withLibrary({ name: 'ada' }));
    expect(await first.running.done).toEqual({ outcome: 'succeeded', result: 'hello ada #1' });
    const second = await run(withLibrary({ name: 'bob' }));
    expect(await second.running.done).toEqual({ outcome: 'succeeded', result: 'hello bob #2' });
    // Without its library the program's class cannot link: the set is another loader.
    const alone = await run({
      ...spec('demo.Greet', { spark: null, config: { name: 'eve' } }),
      programPath: userJar,
    });
    expect(await alone.running.done).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/^java\.lang\.NoClassDefFoundError: lib\/Greeter/),
    });
    expect(started).toHaveLength(1);
  });

  it('puts the library jars on the class path of a jvm task (a process of its own)', async () => {
    const task = await run({
      ...spec('demo.GreetMain', {}),
      runtime: 'jvm',
      programPath: userJar,
      libraryPaths: [libraryJar],
    });
    expect(await task.running.done).toEqual({ outcome: 'succeeded', result: 'hello main #1' });
  });

  // Ilum's SCALA CODE groups: the Scala session jar (built by tools/jvm-runner/build.sh) asks for
  // the runner's Scala by its manifest; the group's jars are its libraries.
  it("gives a jar that asks for it by its manifest the runner's Scala 2.13: the Scala code session, warm between tasks", async () => {
    const session = join(CHECKOUT_RUNTIME_FILES.helpersDir, 'jvm', 'scala', 'spindle-scala-session.jar');
    const scala = (args: Record<string, unknown>): TaskSpec => ({
      ...spec('io.spindle.runner.scala.ScalaCodeSession', args),
      programPath: session,
      libraryPaths: [libraryJar],
    });
    const defined = await run(scala({ code: 'val n = 20; println("defined n")' }));
    expect(await defined.running.done).toEqual({ outcome: 'succeeded', result: 'val n: Int = 20' });
    expect(defined.lines).toEqual(['stdout: defined n']);
    const used = await run(scala({ code: 'lib.Greeter.greet("n" + (n + 1))' }));
    expect(await used.running.done).toEqual({
      outcome: 'succeeded',
      result: expect.stringMatching(/^val res\d+: String = hello n21 #1$/), // println's Unit was res0
    });
    const completed = await run(scala({ code: 'n.toSt', cursor: 6 }));
    expect(await completed.running.done).toEqual({ outcome: 'succeeded', result: ['toString'] });
    expect(started).toHaveLength(1);
  });

  it('fails a task whose jar asks for a library the runner does not have', async () => {
    const manifest = join(dir, 'asks.mf');
    writeFileSync(manifest, 'Spindle-Runner-Libraries: python\n');
    const asking = join(dir, 'asks.jar');
    execFileSync('jar', [
      '--create',
      '--file',
      asking,
      '--manifest',
      manifest,
      '-C',
      join(dir, 'demo-classes'),
      '.',
    ]);
    const task = await run({ ...spec('demo.Partial', {}), programPath: asking });
    expect(await task.running.done).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(
        /^java\.lang\.IllegalArgumentException: Spindle-Runner-Libraries: python is not a library of the runner \(scala is\)/,
      ),
    });
  });
});
