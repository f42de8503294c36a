import type { Logger } from '@nestjs/common';
import type { AuthPolicy } from '@spindle/platform';

export function isLoopbackHost(host: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i.test(host);
}

// `open` beyond loopback lets anyone on the network run programs here: said loudly, at every start.
export function warnIfOpenBeyondLoopback(logger: Logger, host: string, policy: AuthPolicy, variable: string) {
  if (policy !== 'open' || isLoopbackHost(host)) return;
  logger.warn(
    `!!! ${variable}=open on ${host}: anyone who can reach this port can upload and run programs without a key. ` +
      'Use it on a trusted network only (docs/security.md). !!!',
  );
}
