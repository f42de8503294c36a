import { Get } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { SPINDLE_VERSION } from '@spindle/platform';
import { probeRuntimes } from '../../status/runtime-probe';
import type { RuntimeVersions } from '../../status/runtime-probe';
import { DialectController } from '../dialect-controller';
import { MistErrorsFilter } from './mist-errors.filter';
import { MIST_PREFIX } from './mist-query';

const MB = 1024 * 1024;

// MistStatus, filled with Spindle's truths: its version and start time, the runtimes found, and
// the gateway process's memory. There is no Spark: sparkVersion says so.
@DialectController('mist: status', MistErrorsFilter, `${MIST_PREFIX}/status`)
export class MistStatusController implements OnApplicationBootstrap {
  private readonly started = new Date();
  private runtimes: Promise<RuntimeVersions> = Promise.resolve({
    node: process.versions.node,
    python: null,
    java: null,
  });

  onApplicationBootstrap(): void {
    this.runtimes = probeRuntimes();
  }

  @Get()
  @ApiOperation({ summary: 'Version, start time, runtimes (MistStatus)' })
  async status(): Promise<Record<string, unknown>> {
    const runtimes = await this.runtimes;
    const memory = process.memoryUsage();
    return {
      mistVersion: SPINDLE_VERSION,
      sparkVersion: 'none',
      started: this.started.toISOString().replace('Z', ''),
      gc: {},
      memory: {
        heap: {
          used: Math.round(memory.heapUsed / MB),
          commited: Math.round(memory.heapTotal / MB),
          max: Math.round(memory.heapTotal / MB),
          init: 0,
        },
        nonHeap: { used: Math.round((memory.rss - memory.heapTotal) / MB), commited: 0, max: 0, init: 0 },
      },
      threads: { count: 1, daemon: 0, peak: 1, startedTotal: 1 },
      javaVersion: { runtimeVersion: runtimes.java ?? 'none', vmVendor: runtimes.java ? 'java' : 'none' },
      runtimes: { node: runtimes.node, python: runtimes.python, java: runtimes.java },
    };
  }
}
