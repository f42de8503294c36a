import { readFileSync } from 'node:fs';
import { z } from 'zod';

// How every Kafka client of this process proves who it is and protects the connection: TLS
// (KAFKA_SSL, with an own CA and a client certificate for mutual TLS) and SASL (PLAIN or SCRAM).
// Read once at start; files are read then, so a missing one stops the start naming the variable.
// Nothing here is ever logged (the password, the key).
export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaTls {
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
}

export interface KafkaSasl {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

export interface KafkaSecurity {
  // undefined: plain TCP
  readonly tls: KafkaTls | undefined;
  // undefined: no authentication
  readonly sasl: KafkaSasl | undefined;
}

export const kafkaSecurityEnv = {
  KAFKA_SSL: z.enum(['true', 'false']).default('false'),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional(),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(SASL_MECHANISMS).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD_FILE: z.string().min(1).optional(),
};

type SecurityEnv = z.infer<z.ZodObject<typeof kafkaSecurityEnv>>;

// Returns the settings, or the problems (each naming a variable and its rule, never a value).
export function kafkaSecurityOf(e: SecurityEnv): KafkaSecurity | string[] {
  const problems: string[] = [];
  const file = (variable: keyof SecurityEnv, path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      problems.push(`${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  const ssl = e.KAFKA_SSL === 'true';
  for (const variable of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const)
    if (e[variable] !== undefined && !ssl) problems.push(`${variable}: needs KAFKA_SSL=true`);
  if ((e.KAFKA_SSL_CERT_FILE === undefined) !== (e.KAFKA_SSL_KEY_FILE === undefined))
    problems.push('KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE: a client certificate needs both');
  const tls: KafkaTls | undefined = ssl
    ? {
        ca: file('KAFKA_SSL_CA_FILE', e.KAFKA_SSL_CA_FILE),
        cert: file('KAFKA_SSL_CERT_FILE', e.KAFKA_SSL_CERT_FILE),
        key: file('KAFKA_SSL_KEY_FILE', e.KAFKA_SSL_KEY_FILE),
      }
    : undefined;
  let sasl: KafkaSasl | undefined;
  const credentials = [e.KAFKA_SASL_USERNAME, e.KAFKA_SASL_PASSWORD, e.KAFKA_SASL_PASSWORD_FILE];
  if (e.KAFKA_SASL_MECHANISM === undefined) {
    if (credentials.some((c) => c !== undefined))
      problems.push(
        'KAFKA_SASL_MECHANISM: required with KAFKA_SASL_USERNAME or a password (plain, scram-sha-256, scram-sha-512)',
      );
  } else {
    if (e.KAFKA_SASL_USERNAME === undefined)
      problems.push(`KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM`);
    if ((e.KAFKA_SASL_PASSWORD === undefined) === (e.KAFKA_SASL_PASSWORD_FILE === undefined))
      problems.push(
        'KAFKA_SASL_PASSWORD, KAFKA_SASL_PASSWORD_FILE: exactly one is required with KAFKA_SASL_MECHANISM',
      );
    // A password file ends with a newline as editors write it; the password does not.
    const password =
      e.KAFKA_SASL_PASSWORD ??
      file('KAFKA_SASL_PASSWORD_FILE', e.KAFKA_SASL_PASSWORD_FILE)?.replace(/\r?\n$/, '');
    if (password === '') problems.push('KAFKA_SASL_PASSWORD_FILE: the file is empty');
    if (e.KAFKA_SASL_USERNAME !== undefined && password)
      sasl = { mechanism: e.KAFKA_SASL_MECHANISM, username: e.KAFKA_SASL_USERNAME, password };
  }
  return problems.length > 0 ? problems : { tls, sasl };
}
