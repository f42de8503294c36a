import { Logger } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { ClientKafka } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import type { CommandResult } from '@spindle/contracts';
import { commandTopicOf, replyTopicOf } from '@spindle/contracts';

export class CommandTimeoutError extends Error {}

// Sends a command to its owning service and waits for the result.
export class CommandBus {
  private readonly logger = new Logger('command-bus');
  private ready: Promise<void> | undefined;

  constructor(
    private readonly client: ClientProxy,
    private readonly patterns: readonly string[],
    private readonly timeoutMs: number,
  ) {}

  // Safe to call early and often; a failed attempt is forgotten so the next call retries.
  async connect(): Promise<void> {
    this.ready ??= this.connectOnce().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async execute(pattern: string, payload: object): Promise<CommandResult> {
    await this.connect();
    try {
      return await firstValueFrom(
        this.client.send<CommandResult, object>(pattern, payload).pipe(timeout(this.timeoutMs)),
      );
    } catch (e) {
      if (e instanceof Error && e.name === 'TimeoutError') {
        throw new CommandTimeoutError(`no answer to ${pattern} within ${this.timeoutMs} ms`);
      }
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async connectOnce(): Promise<void> {
    await this.client.connect();
    if (!(this.client instanceof ClientKafka)) return;
    // Replies are routed by partition: wait until our reply consumer owns its partitions.
    const client = this.client;
    const deadline = Date.now() + 30_000;
    const replyTopics = [...new Set(this.patterns.map((p) => replyTopicOf(commandTopicOf(p))))];
    while (!replyTopics.every((topic) => client.getConsumerAssignments()[topic] !== undefined)) {
      if (Date.now() > deadline) throw new Error('reply topics were not assigned within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    this.logger.log('command replies assigned');
  }
}
