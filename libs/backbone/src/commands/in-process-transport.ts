import { ClientProxy, Server } from '@nestjs/microservices';
import type { CustomTransportStrategy, MessageHandler, ReadPacket, WritePacket } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { rememberedHandlers } from './handler-lookup';

// Standalone mode's command transport: the same @MessagePattern handlers as over Kafka, called
// in-process. One registry per process holds the servers (one per app module set).
class InProcessCommandRegistry {
  private readonly servers = new Set<InProcessCommandServer>();
  // Which server handles a pattern, once found (see rememberedHandlers).
  private readonly routes = new Map<string, InProcessCommandServer>();

  attach(server: InProcessCommandServer): void {
    this.servers.add(server);
  }

  detach(server: InProcessCommandServer): void {
    this.servers.delete(server);
    for (const [pattern, routed] of this.routes) if (routed === server) this.routes.delete(pattern);
  }

  async dispatch(pattern: string, data: unknown): Promise<unknown> {
    let server = this.routes.get(pattern);
    if (!server) {
      server = [...this.servers].find((s) => s.handles(pattern));
      if (!server) throw new Error(`no in-process handler for ${pattern}`);
      this.routes.set(pattern, server);
    }
    return server.dispatch(pattern, data);
  }
}

export const inProcessCommands = new InProcessCommandRegistry();

export class InProcessCommandServer extends Server implements CustomTransportStrategy {
  private readonly lookup = rememberedHandlers((pattern) => super.getHandlerByPattern(pattern));

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

  override getHandlerByPattern(pattern: string): MessageHandler | null {
    return this.lookup(pattern);
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
