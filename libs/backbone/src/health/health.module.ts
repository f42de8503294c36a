import { Controller, Get, Header, Inject, Injectable, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PublicRoute, RequiresScope } from '@spindle/platform';
import { MESSAGE_BUS } from '../bus/message-bus';
import type { MessageBus } from '../bus/message-bus';
import { METRICS_CONTENT_TYPE, metricsText } from '../metrics/backbone-metrics';

const HEALTH_DATABASES = Symbol('HEALTH_DATABASES');

@Injectable()
class BusHealthIndicator {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly indicator: HealthIndicatorService,
  ) {}

  async check() {
    const key = this.bus.kind === 'kafka' ? 'kafka' : 'bus';
    const health = await this.bus.health();
    const check = this.indicator.check(key);
    return health.up
      ? check.up({ kind: this.bus.kind, detail: health.detail })
      : check.down({ kind: this.bus.kind, detail: health.detail });
  }
}

@ApiTags('health')
@PublicRoute()
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly bus: BusHealthIndicator,
    private readonly moduleRef: ModuleRef,
    @Inject(HEALTH_DATABASES) private readonly databases: readonly string[],
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness and readiness: the message bus and Postgres (503 when either is down)' })
  @ApiResponse({ status: 200, description: 'Everything is up' })
  @ApiResponse({ status: 503, description: 'Kafka or Postgres is down; the body says which' })
  check() {
    return this.health.check([
      () => this.bus.check(),
      ...this.databases.map((name) => () => {
        const connection = this.moduleRef.get<DataSource>(getDataSourceToken(name), { strict: false });
        return this.db.pingCheck(name === this.databases[0] ? 'postgres' : `postgres:${name}`, {
          connection,
          timeout: 3_000,
        });
      }),
    ]);
  }
}

@ApiTags('health')
@RequiresScope('read')
@Controller('metrics')
class MetricsController {
  @Get()
  @Header('content-type', METRICS_CONTENT_TYPE)
  @ApiOperation({
    summary: 'Prometheus metrics of this process',
    description:
      'Consumer lag (event recorded → effects committed) per consumer, events applied, outbox rows published, ' +
      'dead-lettered messages, and the process itself (CPU, memory, event-loop lag).',
  })
  @ApiResponse({
    status: 200,
    description: 'Prometheus text exposition format',
    content: {
      'text/plain': {
        schema: { type: 'string' },
        example:
          '# HELP spindle_consumer_events_total Events a consumer applied\n' +
          '# TYPE spindle_consumer_events_total counter\n' +
          'spindle_consumer_events_total{consumer="projector.jobs.v1"} 42\n',
      },
    },
  })
  metrics(): Promise<string> {
    return metricsText();
  }
}

// GET /health and GET /metrics for an app: the bus and each of the named database connections it uses.
@Module({})
export class HealthModule {
  static forConnections(databases: readonly string[]): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'pretty', logger: false })],
      controllers: [HealthController, MetricsController],
      providers: [BusHealthIndicator, { provide: HEALTH_DATABASES, useValue: databases }],
    };
  }
}
