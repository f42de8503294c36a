import { chmod } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import type { TaskJail } from '../sandbox/task-jail';
import { invokeMapper, invokeReducer } from './apollo-invocation';
import type { ApolloPair, InvocationContext } from './apollo-invocation';

// A map or reduce task in Apollo's protocol: the program is run once per input line (mapper) or
// once per key (reducer), many invocations at once, each in its own private /tmp. The first
// failing invocation fails the task and stops the others (the engine retries the task).

export interface ApolloTaskRun {
  readonly programPath: string;
  readonly jail: TaskJail; // its directory (jail.workDir) is the program's working directory
  readonly env?: Readonly<Record<string, string>>;
  // Invocations at once; Apollo's own reducer runs up to 50.
  readonly concurrency?: number;
  // Where the invocations' private /tmp directories are made; the system's temporary directory
  // unless given (it must be short: socket paths are).
  readonly scratchRoot?: string;
  readonly signal?: AbortSignal;
  readonly output?: (stream: 'stdout' | 'stderr', text: string) => void;
  // Called as each invocation ends: the task shows life (its timeout counts from the last call).
  readonly progress?: () => void;
}

export interface ApolloGroup {
  readonly key: unknown;
  readonly values: readonly unknown[];
}

export const defaultApolloConcurrency = (): number => Math.max(2, availableParallelism() * 2);

// Runs the mapper on every line (numbered from 0 within the task, as Apollo does; a trailing "\r"
// dropped), handing each line's pairs to `emit` as they come. Answers the number of lines.
export async function runApolloMap(
  task: ApolloTaskRun,
  lines: AsyncIterable<string> | Iterable<string>,
  emit: (pairs: ApolloPair[], lineNumber: number) => void | Promise<void>,
): Promise<number> {
  let lineNumber = 0;
  await pool(task, lines, async (line, context) => {
    const n = lineNumber++;
    const pairs = await invokeMapper(context(), n, line.endsWith('\r') ? line.slice(0, -1) : line);
    task.progress?.();
    await emit(pairs, n);
  });
  return lineNumber;
}

// Runs the reducer once per group, `order` being the group's place in the task's input; answers
// the reduced pairs in that order.
export async function runApolloReduce(
  task: ApolloTaskRun,
  groups: AsyncIterable<ApolloGroup> | Iterable<ApolloGroup>,
): Promise<ApolloPair[]> {
  const reduced: ApolloPair[] = [];
  let order = 0;
  await pool(task, groups, async (group, context) => {
    const n = order++;
    reduced[n] = await invokeReducer(context(), n, group.key, group.values);
    task.progress?.();
  });
  return reduced;
}

// Up to `concurrency` items in flight; reading the input waits while the pool is full, so a large
// split is never held in memory. The first failure aborts the rest and is thrown.
async function pool<T>(
  task: ApolloTaskRun,
  items: AsyncIterable<T> | Iterable<T>,
  each: (item: T, context: () => InvocationContext) => Promise<void>,
): Promise<void> {
  const limit = Math.max(1, task.concurrency ?? defaultApolloConcurrency());
  // Uploaded programs are files like any other until made executable (Apollo writes them 0744).
  await chmod(task.programPath, 0o755).catch(() => undefined);
  const abort = new AbortController();
  const stopOnOuter = (): void => abort.abort();
  task.signal?.addEventListener('abort', stopOnOuter, { once: true });
  if (task.signal?.aborted) abort.abort();
  const context = (): InvocationContext => ({
    programPath: task.programPath,
    workDir: task.jail.workDir,
    jail: task.jail,
    scratchRoot: task.scratchRoot ?? tmpdir(),
    env: task.env ?? {},
    signal: abort.signal,
    output: task.output,
  });
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for await (const item of items) {
      if (failure || abort.signal.aborted) break;
      const running: Promise<void> = each(item, context).then(
        () => void inFlight.delete(running),
        (error: unknown) => {
          inFlight.delete(running);
          failure ??= { error };
          abort.abort();
        },
      );
      inFlight.add(running);
      if (inFlight.size >= limit) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } catch (e) {
    // The input itself failed: stop what runs before saying so.
    abort.abort();
    await Promise.allSettled(inFlight);
    throw e;
  } finally {
    task.signal?.removeEventListener('abort', stopOnOuter);
  }
  if (failure) throw failure.error;
  if (task.signal?.aborted) throw new Error('stopped');
}
