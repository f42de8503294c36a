import type { DynamicModule, Type } from '@nestjs/common';
import { ArtifactStoreModule, ARTIFACT_STORE_CONNECTION } from '@spindle/artifact-store';
import { GatewayServiceModule } from '@spindle/gateway';
import { LogCollectorModule, LOG_COLLECTOR_CONNECTION } from '@spindle/log-collector';
import type { SpindleConfig } from '@spindle/platform';
import { ProjectorModule } from '@spindle/projector';
import { PROJECTOR_CONNECTION, READ_MODELS_CONNECTION } from '@spindle/read-models';
import { SCHEDULER_CONNECTION, SchedulerModule } from '@spindle/scheduler';
import { SECRETS_CONNECTION, SecretsModule } from '@spindle/secrets';
import { WORKER_CONNECTION, WorkerModule } from '@spindle/worker';

export const SERVICE_NAMES = [
  'gateway',
  'scheduler',
  'artifact-store',
  'log-collector',
  'secrets',
  'projector',
  'worker',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceDefinition {
  readonly module: Type<unknown> | DynamicModule;
  readonly connections: readonly string[]; // checked by GET /health
  readonly receivesCommands: boolean;
  // Serves /internal/* (service-to-service routes, InternalRoute).
  readonly internalRoutes?: boolean;
  port(config: SpindleConfig): number;
}

// What each process of the real topology runs.
export const SERVICES: Record<ServiceName, ServiceDefinition> = {
  gateway: {
    module: GatewayServiceModule,
    connections: [READ_MODELS_CONNECTION],
    receivesCommands: false,
    port: (c) => c.ports.gateway,
  },
  scheduler: {
    module: SchedulerModule,
    connections: [SCHEDULER_CONNECTION],
    receivesCommands: true,
    port: (c) => c.ports.scheduler,
  },
  'artifact-store': {
    module: ArtifactStoreModule,
    connections: [ARTIFACT_STORE_CONNECTION],
    receivesCommands: false,
    internalRoutes: true,
    port: (c) => c.ports.artifactStore,
  },
  'log-collector': {
    module: LogCollectorModule,
    connections: [LOG_COLLECTOR_CONNECTION],
    receivesCommands: false,
    internalRoutes: true,
    port: (c) => c.ports.logCollector,
  },
  secrets: {
    module: SecretsModule,
    connections: [SECRETS_CONNECTION],
    receivesCommands: false,
    internalRoutes: true,
    port: (c) => c.ports.secrets,
  },
  projector: {
    module: ProjectorModule,
    connections: [PROJECTOR_CONNECTION],
    receivesCommands: false,
    port: (c) => c.ports.projector,
  },
  worker: {
    module: WorkerModule,
    connections: [WORKER_CONNECTION],
    receivesCommands: false,
    port: (c) => c.ports.worker,
  },
};
