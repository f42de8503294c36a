import type { MapReduceProtocol } from '@spindle/contracts';
import type { ProgramProtocol } from './program-protocol';
import { apolloProtocol } from './protocols/apollo.protocol';
import { streamingProtocol } from './protocols/streaming.protocol';

// Every protocol the engine speaks, by the name a job gives (MAPREDUCE_PROTOCOLS).
export const PROGRAM_PROTOCOLS: Readonly<Record<MapReduceProtocol, ProgramProtocol>> = {
  streaming: streamingProtocol,
  apollo: apolloProtocol,
};
