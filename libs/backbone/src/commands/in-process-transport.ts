import { ClientProxy, Server } from '@nestjs/microservices';
import type { CustomTransportStrategy, ReadPacket, WritePacket } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';

// Standalone mode's command transport: the same @MessagePattern handlers as over Kafka, called
// in-process. One registry per process holds the servers (one per app module set).
class InProcessCommandRegistry {
  private readonly servers = new Set<InProcessCommandServer>();

  attach(server: InProcessCommandServer): void {
    this.servers.add(server);
  }

  detach(server: InProcessCommandServer): void {
    this.servers.delete(server);
  }

  async dispatch(pattern: string, data: unknown): Promise<unknown> {
    for (const server of this.servers) {
      if (server.handles(pattern)) return server.dispatch(pattern, data);
    }
    throw new Error(`no in-process handler for ${pattern}`);
  }
}

export const inProcessCommands = new InProcessCommandRegistry();

export class InProcessCommandServer extends Server implements CustomTransportStrategy {
  listen(callback: () => void): void {
    inProcessCommands.attach(this);
    callback();
  }

  close(): void {
    inProcessCommands.detach(this);
  }

  handles(pattern: string): boolean {
    return this.getHandlerByPattern(pattern) !== null;
  }

  async dispatch(pattern: string, data: unknown): Promise<unknown> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) throw new Error(`no handler for ${pattern}`);
    // Same serialization boundary as Kafka: handlers never share object references with callers.
    const copy: unknown = JSON.parse(JSON.stringify(data ?? null));
    return lastValueFrom(this.transformToObservable(await handler(copy)));
  }

  on(): never {
    throw new Error('events are not supported by the in-process command transport');
  }

  unwrap<T>(): T {
    return inProcessCommands as T;
  }
}

export class InProcessCommandClient extends ClientProxy {
  async connect(): Promise<void> {}

  close(): void {}

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    inProcessCommands.dispatch(String(packet.pattern), packet.data).then(
      (response) =>
        callback({ response: JSON.parse(JSON.stringify(response ?? null)) as unknown, isDisposed: true }),
      (err: unknown) => callback({ err: err instanceof Error ? err.message : err, isDisposed: true }),
    );
    return () => undefined;
  }

  protected async dispatchEvent<T>(packet: ReadPacket): Promise<T> {
    return (await inProcessCommands.dispatch(String(packet.pattern), packet.data)) as T;
  }

  unwrap<T>(): T {
    return inProcessCommands as T;
  }
}
