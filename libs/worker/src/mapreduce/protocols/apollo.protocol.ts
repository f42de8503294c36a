import { runApolloMap, runApolloReduce } from '../../apollo-protocol/apollo-executor';
import type { ApolloGroup, ApolloTaskRun } from '../../apollo-protocol/apollo-executor';
import { ApolloInvocationError } from '../../apollo-protocol/apollo-invocation';
import type { ApolloPair } from '../../apollo-protocol/apollo-invocation';
import { ProgramFailure } from '../program-protocol';
import type { KeyValue, KeyValues, OutputPlan, ProgramProtocol, ProgramRun } from '../program-protocol';

// Apollo's protocol (libs/worker/src/apollo-protocol): programs written for Apollo's coordinator
// run unchanged. Its keys and values are JSON values; to the engine they are their JSON text, so
// equal keys partition and sort alike, and the reducer gets them back as the values they were.

export const apolloPairToKeyValue = (pair: ApolloPair): KeyValue => ({
  key: JSON.stringify(pair.key),
  value: JSON.stringify(pair.value),
});

const parsed = (text: string): unknown => (text === '' ? null : (JSON.parse(text) as unknown));

// The engine's groups as Apollo's: the key and its values parsed back from their JSON text.
export async function* groupsOf(groups: AsyncIterable<KeyValues>): AsyncIterable<ApolloGroup> {
  for await (const { key, values } of groups) yield { key: parsed(key), values: values.map(parsed) };
}

function taskRun(run: ProgramRun): ApolloTaskRun {
  return {
    programPath: run.programPath,
    jail: run.jail,
    env: run.env,
    signal: run.signal,
    output: (stream, text) => run.log(stream, text),
    progress: () => run.progress(),
  };
}

// An invocation's failure is the program's (the engine retries the task); anything else, such as
// a stop, goes up as it is.
async function asProgramFailure<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof ApolloInvocationError) throw new ProgramFailure(e.message);
    throw e;
  }
}

async function* linesOf(run: { input: AsyncIterable<{ line: string }> }): AsyncIterable<string> {
  for await (const record of run.input) yield record.line;
}

// As Apollo writes them: `<jobId>/<reducerIndex>.json` holding {"pairs":[{key,value}…]} under the
// output location (the Apollo dialect points it at the bucket `reducers` of its outputPath); a
// map-only job's map tasks write `<jobId>/map-<index>.json`.
const apolloOutput: OutputPlan = {
  objectOf: ({ jobId, output }, kind, index) => ({
    bucket: output.bucket,
    key: `${output.key === '' || output.key.endsWith('/') ? output.key : `${output.key}/`}${jobId}/${
      kind === 'reduce' ? '' : 'map-'
    }${index}.json`,
  }),
  encode: (pairs) =>
    Buffer.from(
      JSON.stringify({ pairs: pairs.map((p) => ({ key: parsed(p.key), value: parsed(p.value) })) }),
      'utf8',
    ),
  successMarker: false,
};

export const apolloProtocol: ProgramProtocol = {
  name: 'apollo',
  map: (run) =>
    asProgramFailure(
      runApolloMap(taskRun(run), linesOf(run), async (pairs) => {
        for (const pair of pairs) await run.emit(apolloPairToKeyValue(pair));
      }),
    ).then(() => undefined),
  reduce: async (run) => {
    const reduced = await asProgramFailure(runApolloReduce(taskRun(run), groupsOf(run.input)));
    for (const pair of reduced) await run.emit(apolloPairToKeyValue(pair));
  },
  output: apolloOutput,
};
