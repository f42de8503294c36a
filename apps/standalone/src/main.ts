import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import {
  PART_VARIABLE,
  StartupError,
  TOPOLOGY_NAMES,
  printWelcome,
  startPart,
  startStandalone,
  superviseTopology,
} from '@spindle/runtime';
import type { TopologyName } from '@spindle/runtime';

// `npm start`. Without KAFKA_BROKERS: every service in one process, on the in-process bus (and an
// embedded PostgreSQL unless DATABASE_URL is set). With Kafka: the `node` topology, three processes
// (control, projection, worker) so a machine's cores all work; SPINDLE_TOPOLOGY picks another
// (`single`, `node`, `all`). A process started with SPINDLE_PART is one part of a topology.
async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const part = env[PART_VARIABLE];
  if (part !== undefined) {
    await startPart(part.split(','), env);
    return;
  }
  const topology = topologyOf(env);
  if (topology === 'single') {
    const running = await startStandalone(env);
    printWelcome(running.url);
    return;
  }
  const supervised = await superviseTopology(topology, __filename, env);
  new Logger('spindle').log(`topology ${topology}: one process per part`);
  printWelcome(supervised.url);
  const stop = () => void supervised.stop().then(() => process.exit(process.exitCode ?? 0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function topologyOf(env: NodeJS.ProcessEnv): TopologyName {
  const named = env['SPINDLE_TOPOLOGY'];
  if (named === undefined) return env['KAFKA_BROKERS'] ? 'node' : 'single';
  if ((TOPOLOGY_NAMES as readonly string[]).includes(named)) return named as TopologyName;
  throw new StartupError(
    `SPINDLE_TOPOLOGY=${named} is not a topology`,
    `use one of ${TOPOLOGY_NAMES.join(', ')}`,
  );
}

main(process.env).catch((e: unknown) => {
  // A cause the user can fix is one line; anything else keeps its stack for a bug report.
  console.error(e instanceof StartupError ? `spindle: ${e.message}` : e);
  process.exit(1);
});
