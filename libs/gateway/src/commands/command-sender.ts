import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CommandBus, CommandTimeoutError } from '@spindle/backbone';
import { parseEvent } from '@spindle/contracts';
import type { SpindleEvent } from '@spindle/contracts';
import { ProblemException, httpStatusOf } from '@spindle/platform';

export const GATEWAY_COMMAND_BUS = Symbol('GATEWAY_COMMAND_BUS');

export interface Accepted {
  readonly streamId: string;
  readonly streamPosition: number;
  readonly events?: readonly SpindleEvent[]; // what the command recorded, when its owner says
}

// How a command is issued: under the request's correlation id (requestCorrelationId, handed down
// from its controller's `@CorrelationId()`), so the events it records can be found from the
// request; with the client's Idempotency-Key when it sent one.
export interface Issued {
  readonly correlationId: string;
  readonly idempotencyKey?: string;
}

// Sends a command to its owning service and turns a refusal into the matching HTTP problem.
@Injectable()
export class CommandSender implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(GATEWAY_COMMAND_BUS) private readonly bus: CommandBus) {}

  // Warm up the reply channel now instead of on the first request; a failure is retried then.
  onApplicationBootstrap(): void {
    this.bus.connect().catch((e: unknown) => {
      new Logger('gateway').warn(
        `command channel not ready yet: ${e instanceof Error ? e.message : String(e)}`,
      );
    });
  }

  async send(pattern: string, body: object, issued: Issued): Promise<Accepted> {
    const { correlationId, idempotencyKey } = issued;
    const envelope = {
      correlationId,
      issuedAt: new Date().toISOString(),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      ...body,
    };
    let result;
    try {
      result = await this.bus.execute(pattern, envelope);
    } catch (e) {
      if (e instanceof CommandTimeoutError) {
        throw new ProblemException(
          HttpStatus.SERVICE_UNAVAILABLE,
          'owner-unavailable',
          'Service Unavailable',
          e.message,
        );
      }
      throw e;
    }
    // The events come from another process: read through the registry like any consumed event.
    if (result.ok) return result.events ? { ...result, events: result.events.map(parseEvent) } : result;
    const { code, message, field } = result.error;
    throw new ProblemException(
      httpStatusOf(code),
      code.replace('_', '-'),
      code === 'invalid' ? 'Request validation failed' : message,
      message,
      field ? [{ field, rule: code, message }] : undefined,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}
