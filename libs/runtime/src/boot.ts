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
import {
  SPINDLE_VERSION,
  SpindleConfigModule,
  createHttpApp,
  installBrowserSafety,
  installSecurityHeaders,
  listen,
  redactUrl,
  withInstallationSecrets,
} from '@spindle/platform';
import type { SpindleConfig } from '@spindle/platform';
import { openDialectPorts } from './dialect-ports';
import { warnIfOpenBeyondLoopback } from './exposure';
import { hideInternalRoutes, openInternalListener } from './internal-listener';
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
  // Where other Spindle processes reach this one's service-to-service routes (the loopback
  // internal listener beside a gateway, else the service's own port).
  readonly internalUrl: string;
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
  const settled = withInstallationSecrets(options.config);
  const config: SpindleConfig = services.includes('scheduler')
    ? { ...settled, commands: 'in-process' }
    : settled;
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
  const app = await createHttpApp(root, {
    logger: options.logger,
    timeouts: config.http,
  });
  installBrowserSafety(app.getHttpAdapter().getInstance(), config);
  installSecurityHeaders(app.getHttpAdapter().getInstance());
  if (config.auth.corsOrigins.length > 0) app.enableCors({ origin: [...config.auth.corsOrigins] });
  // The gateway's port is public: service-to-service routes of the services that share its
  // process are served on a loopback listener of their own instead (internal-listener.ts).
  const internalBesideGateway =
    services.includes('gateway') && services.some((s) => SERVICES[s].internalRoutes === true);
  if (internalBesideGateway) hideInternalRoutes(app);
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
  const internal = internalBesideGateway ? await openInternalListener(app, config.ports.internal) : undefined;
  // A process that runs the artifact store serves its internal routes itself.
  const internalUrl = internal?.url ?? url;
  if (services.includes('artifact-store')) config.urls.artifactStore = internalUrl;
  if (services.includes('log-collector')) config.urls.logCollector = internalUrl;
  if (services.includes('secrets')) config.urls.secrets = internalUrl;
  if (services.includes('gateway')) {
    const logger = new Logger(options.name);
    logger.log(`native API auth: ${config.auth.api}`);
    if (internal) logger.log(`internal routes on ${internal.url} (X-Spindle-Internal-Token required)`);
    warnIfOpenBeyondLoopback(logger, config.host, config.auth.api, 'SPINDLE_AUTH');
  }
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
    internalUrl,
    stop: async () => {
      await Promise.all(dialects.map((d) => d.close()));
      await internal?.close();
      await app.close();
    },
  };
}

export async function bootService(name: ServiceName, config: SpindleConfig): Promise<RunningApp> {
  return bootServices({ config, services: [name], name, port: SERVICES[name].port(config) });
}
