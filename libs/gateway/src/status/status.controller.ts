import { Controller, Get, Inject } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { MESSAGE_BUS } from '@spindle/backbone';
import type { MessageBus } from '@spindle/backbone';
import { RequiresScope, SPINDLE_VERSION } from '@spindle/platform';
import { StatusQuery } from '@spindle/read-models';
import { probeRuntimes } from './runtime-probe';
import type { RuntimeVersions } from './runtime-probe';

class DependencyStatusDto {
  @ApiProperty({ example: true }) up!: boolean;
  @ApiProperty({ example: 'kafka' }) kind!: string;
  @ApiProperty({ example: '21 topic(s), 63 partition(s) led by broker(s) 1' }) detail!: string;
}

class RuntimesDto {
  @ApiProperty({ example: '20.20.2' }) node!: string;
  @ApiProperty({ example: '3.11.7', nullable: true, type: String }) python!: string | null;
  @ApiProperty({ example: '17.0.15', nullable: true, type: String }) java!: string | null;
}

class CountsDto {
  @ApiProperty({ example: 3 }) contexts!: number;
  @ApiProperty({ example: 5 }) functions!: number;
  @ApiProperty({ example: 7 }) artifacts!: number;
  @ApiProperty({ example: 2, description: 'Jobs queued, starting, running or cancelling' })
  activeJobs!: number;
  @ApiProperty({ example: 1, description: 'Workers not stopped' }) workers!: number;
  @ApiProperty({ example: 1, description: 'Worker hosts heard from in the last 10 s' }) hosts!: number;
}

class StatusDto {
  @ApiProperty({ example: '0.1.0' }) version!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ example: 3600, description: 'Seconds since this process started' }) uptimeSeconds!: number;
  @ApiProperty({ type: DependencyStatusDto }) bus!: DependencyStatusDto;
  @ApiProperty({ type: DependencyStatusDto }) postgres!: DependencyStatusDto;
  @ApiProperty({ type: RuntimesDto, description: 'Runtimes found on this host' }) runtimes!: RuntimesDto;
  @ApiProperty({ type: CountsDto, description: 'Live (not deleted) entities in the read models' })
  counts!: CountsDto;
}

@ApiTags('status')
@RequiresScope('read')
@Controller('api/v1/status')
export class StatusController implements OnApplicationBootstrap {
  private readonly startedAt = new Date();
  private runtimes: Promise<RuntimeVersions> = Promise.resolve({
    node: process.versions.node,
    python: null,
    java: null,
  });

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    private readonly readModels: StatusQuery,
  ) {}

  onApplicationBootstrap(): void {
    // Probed once: starting python3 and java costs a fraction of a second each.
    this.runtimes = probeRuntimes();
  }

  @Get()
  @ApiOperation({ summary: 'Version, uptime, Kafka and Postgres health, runtimes found, counts' })
  @ApiOkResponse({ type: StatusDto })
  async status(): Promise<StatusDto> {
    const [bus, postgres, counts, runtimes] = await Promise.all([
      this.bus.health(),
      this.postgres(),
      this.readModels.counts().catch(() => ({
        contexts: 0,
        functions: 0,
        artifacts: 0,
        activeJobs: 0,
        workers: 0,
        hosts: 0,
      })),
      this.runtimes,
    ]);
    return {
      version: SPINDLE_VERSION,
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.floor((Date.now() - this.startedAt.getTime()) / 1_000),
      bus: { kind: this.bus.kind, up: bus.up, detail: bus.detail },
      postgres,
      runtimes,
      counts,
    };
  }

  private async postgres(): Promise<DependencyStatusDto> {
    try {
      const version = await this.readModels.serverVersion();
      return { kind: 'postgres', up: true, detail: `PostgreSQL ${version}` };
    } catch (e) {
      return { kind: 'postgres', up: false, detail: e instanceof Error ? e.message : String(e) };
    }
  }
}
