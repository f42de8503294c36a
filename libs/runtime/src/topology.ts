import type { SpindleConfig } from '@spindle/platform';
import { SERVICES, SERVICE_NAMES } from './service-catalog';
import type { ServiceName } from './service-catalog';

// Which services share a process. Every service stays separable (each is a module of its own
// that talks to the others only through Kafka, Postgres and HTTP); a topology only decides how
// they are packed into Node processes, i.e. how many cores they can use.
export const TOPOLOGY_NAMES = ['single', 'node', 'all'] as const;
export type TopologyName = (typeof TOPOLOGY_NAMES)[number];

export interface Part {
  readonly name: string; // prefixes its output
  readonly services: readonly ServiceName[];
}

export const TOPOLOGIES: Record<TopologyName, readonly Part[]> = {
  // One process: `npm start` without Kafka (the in-process bus cannot cross processes), tests.
  single: [{ name: 'spindle', services: SERVICE_NAMES }],
  // One machine in production (`npm start` with Kafka): three event loops for two or more cores.
  // The request path stays whole, so a command never crosses a process: the gateway calls the
  // scheduler in-process, and the artifact store and secrets answer it without a hop. The read
  // side (projector, log collector) consumes what the first writes, on a loop of its own, and the
  // jobs' processes are forked by a worker agent that no request waits for.
  node: [
    { name: 'control', services: ['gateway', 'scheduler', 'artifact-store', 'secrets'] },
    { name: 'projection', services: ['projector', 'log-collector'] },
    { name: 'worker', services: ['worker'] },
  ],
  // The topology of a multi-machine deployment (`npm run start:all`): every service on its own.
  all: SERVICE_NAMES.map((s) => ({ name: s, services: [s] })),
};

export function partOf(services: readonly string[]): Part {
  const unknown = services.filter((s) => !(SERVICE_NAMES as readonly string[]).includes(s));
  if (unknown.length > 0 || services.length === 0)
    throw new Error(`SPINDLE_PART: unknown service(s) ${unknown.join(', ') || '(none)'}`);
  const named = services as readonly ServiceName[];
  const known = Object.values(TOPOLOGIES)
    .flat()
    .find((p) => p.services.length === named.length && p.services.every((s) => named.includes(s)));
  return known ?? { name: named.join('+'), services: named };
}

// The port a part listens on: the gateway's when it runs the gateway (its service-to-service
// routes then go to the loopback internal listener), else that of its first service with
// service-to-service routes (so the others find it at that service's address), else its first.
export function partPort(part: Part, config: SpindleConfig): number {
  const first =
    part.services.find((s) => s === 'gateway') ??
    part.services.find((s) => SERVICES[s].internalRoutes === true) ??
    part.services[0]!;
  return SERVICES[first].port(config);
}

// Where the processes of a topology reach each service-to-service route: the environment every
// part is started with. A URL the user configured is kept.
export function internalUrlsOf(
  parts: readonly Part[],
  config: SpindleConfig,
  internalPort: number,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const urls: Record<string, string> = {};
  const at = (port: number) => `http://127.0.0.1:${port}`;
  const where = (service: ServiceName): string => {
    const part = parts.find((p) => p.services.includes(service))!;
    return at(part.services.includes('gateway') ? internalPort : partPort(part, config));
  };
  if (env['ARTIFACT_STORE_URL'] === undefined) urls['ARTIFACT_STORE_URL'] = where('artifact-store');
  if (env['LOG_COLLECTOR_URL'] === undefined) urls['LOG_COLLECTOR_URL'] = where('log-collector');
  if (env['SECRETS_URL'] === undefined) urls['SECRETS_URL'] = where('secrets');
  return urls;
}
