import type { MessageHandler } from '@nestjs/microservices';

// Nest's Server.getHandlerByPattern first tries JSON.parse on the pattern, so every plain one
// (all of Spindle's: `spindle.scheduler.cmd.submit-job.v1`) threw and caught a SyntaxError, with
// its stack, for every command received. The command servers remember what it found instead
// (handlers are all registered before a server listens).
export function rememberedHandlers(
  lookup: (pattern: string) => MessageHandler | null,
): (pattern: string) => MessageHandler | null {
  const found = new Map<string, MessageHandler>();
  return (pattern) => {
    let handler = found.get(pattern) ?? null;
    if (!handler) {
      handler = lookup(pattern);
      if (handler) found.set(pattern, handler);
    }
    return handler;
  };
}
