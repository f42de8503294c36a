// How a MapReduce job's mapper and reducer programs talk to the engine (see
// libs/worker/src/mapreduce/program-protocol.ts). `streaming`: Hadoop Streaming, one process per
// task, `key\tvalue` lines on stdin and stdout; the native API's default. `apollo`: Apollo's own,
// the mapper run per line and the reducer per key over Unix sockets; the Apollo dialect's default.
// A protocol is added here and in the engine's PROGRAM_PROTOCOLS together.
export const MAPREDUCE_PROTOCOLS = ['streaming', 'apollo'] as const;
export type MapReduceProtocol = (typeof MAPREDUCE_PROTOCOLS)[number];
