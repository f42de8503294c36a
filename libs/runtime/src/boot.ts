import fastifyMultipart from '@fastify/multipart';
import { Logger, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BackboneModule, HealthModule, commandServerOptions } from '@spindle/backbone';
import {
  DialectErrorsFilter,
  mountMistWebSockets,
  mountOpenApi,
  registerMistWebSocketPlugin,
} from '@spindle/gateway';
import { SPINDLE_VERSION, SpindleConfigModule, createHttpApp, listen, redactUrl } from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { openDialectPorts } from './dialect-ports';
import { SERVICES } from './service-catalog';
import type { ServiceName } from './service-catalog';

@Module({})
class SpindleRootModule {}

export interface RunningApp {
  readonly app: NestFastifyApplication;
  readonly url: string;
  // Where each dialect's clients find it on its own port, by name, when this process runs the gateway.
  readonly dialectUrls: Readonly<Record<string, string>>;
  readonly mistUrl?: string; // Mist's, kept for the callers that only know it
  stop(): Promise<void>;
}

export interface BootOptions {
  readonly config: SpindleConfig;
  readonly services: readonly ServiceName[];
  readonly name: string;
  readonly port: number;
  readonly logger?: boolean;
}

// Builds one process out of any set of services: one service in the real topology, all of them
// in standalone mode. Commands reach the scheduler over Kafka or in-process, by configuration.
export async function bootServices(options: BootOptions): Promise<RunningApp> {
  const { services } = options;
  // Commands whose owner runs here are called in-process, even when events go through Kafka.
  const config: SpindleConfig = services.includes('scheduler')
    ? { ...options.config, commands: 'in-process' }
    : options.config;
  const definitions = services.map((s) => SERVICES[s]);
  const root: DynamicModule = {
    module: SpindleRootModule,
    imports: [
      SpindleConfigModule.forRoot(config),
      BackboneModule,
      ...definitions.map((d) => d.module),
      HealthModule.forConnections(definitions.flatMap((d) => d.connections)),
    ],
  };
  const app = await createHttpApp(root, { logger: options.logger });
  if (services.includes('gateway')) {
    // Registered last, so it is the global filter that answers: dialects' paths get their errors.
    app.useGlobalFilters(new DialectErrorsFilter());
    // Uploads stream through; one byte over the limit tells the gateway the file was cut.
    await app.register(fastifyMultipart, {
      preservePath: true, // see the name as sent, so "../x" is refused rather than silently shortened
      limits: { fileSize: config.artifacts.maxBytes + 1, files: 1, fields: 10, fieldSize: 64 * 1024 },
    });
  }
  if (services.includes('gateway')) await registerMistWebSocketPlugin(app);
  // Module hooks first (topics created, consumers subscribed, relays started), then the command
  // server: it subscribes to command topics that must exist by then.
  await app.init();
  if (definitions.some((d) => d.receivesCommands)) {
    for (const server of commandServerOptions(config, options.name))
      app.connectMicroservice(server, { inheritAppConfig: true });
  }
  if (services.includes('gateway')) {
    mountOpenApi(app, SPINDLE_VERSION);
    mountMistWebSockets(app);
  }
  await app.startAllMicroservices();
  const url = await listen(app, options.port, config.host, options.name);
  // A process that runs the artifact store serves its internal routes itself.
  if (services.includes('artifact-store')) config.urls.artifactStore = url;
  if (services.includes('log-collector')) config.urls.logCollector = url;
  if (services.includes('secrets')) config.urls.secrets = url;
  new Logger(options.name).log(
    `bus=${config.bus}${config.bus === 'kafka' ? `(${config.kafka.brokers.join(',')})` : ''} db=${redactUrl(config.databaseUrl ?? '')}`,
  );
  const dialects = services.includes('gateway') ? await openDialectPorts(url, config) : [];
  const dialectUrls = Object.fromEntries(dialects.map((d) => [d.name, d.url]));
  return {
    app,
    url,
    dialectUrls,
    mistUrl: dialectUrls['mist'],
    stop: async () => {
      await Promise.all(dialects.map((d) => d.close()));
      await app.close();
    },
  };
}

export async function bootService(name: ServiceName, config: SpindleConfig): Promise<RunningApp> {
  return bootServices({ config, services: [name], name, port: SERVICES[name].port(config) });
}
