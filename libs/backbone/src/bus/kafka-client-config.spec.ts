import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@spindle/platform';
import { kafkaClientConfig } from './kafka-message-bus';

const dir = mkdtempSync(join(tmpdir(), 'spindle-kafka-security-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const BASE = { KAFKA_BROKERS: 'kafka.example:9093' };
const clientOf = (env: Record<string, string>) => {
  const { kafka } = loadConfig({ ...BASE, ...env });
  return kafkaClientConfig(kafka, 'bus');
};
const problemOf = (env: Record<string, string>) => {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('the configuration was accepted');
};

describe('Kafka TLS and SASL settings', () => {
  it('connects in plain text without credentials by default', () => {
    const client = clientOf({});
    expect(client.ssl).toBeUndefined();
    expect(client.sasl).toBeUndefined();
  });

  it('turns TLS on with the system CAs, or with its own CA and a client certificate (mutual TLS)', () => {
    expect(clientOf({ KAFKA_SSL: 'true' }).ssl).toBe(true);
    const ca = file('ca.pem', 'CA PEM');
    const cert = file('cert.pem', 'CERT PEM');
    const key = file('key.pem', 'KEY PEM');
    expect(
      clientOf({
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: ca,
        KAFKA_SSL_CERT_FILE: cert,
        KAFKA_SSL_KEY_FILE: key,
      }).ssl,
    ).toEqual({ ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' });
  });

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'])('authenticates with SASL %s', (mechanism) => {
    const client = clientOf({
      KAFKA_SASL_MECHANISM: mechanism,
      KAFKA_SASL_USERNAME: 'spindle',
      KAFKA_SASL_PASSWORD: 'p4ss',
    });
    expect(client.sasl).toEqual({ mechanism, username: 'spindle', password: 'p4ss' });
  });

  it('reads the password from a file, without the newline editors end it with', () => {
    const client = clientOf({
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'spindle',
      KAFKA_SASL_PASSWORD_FILE: file('password', 's3cret\n'),
    });
    expect(client.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'spindle', password: 's3cret' });
  });

  it.each([
    [{ KAFKA_SASL_MECHANISM: 'gssapi' }, 'KAFKA_SASL_MECHANISM'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'x' }, 'KAFKA_SASL_USERNAME: required'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }, 'exactly one is required'],
    [
      {
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'x',
        KAFKA_SASL_PASSWORD_FILE: '/x',
      },
      'exactly one is required',
    ],
    [{ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'x' }, 'KAFKA_SASL_MECHANISM: required'],
    [{ KAFKA_SSL_CA_FILE: '/etc/ssl/ca.pem' }, 'KAFKA_SSL_CA_FILE: needs KAFKA_SSL=true'],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/c.pem' }, 'a client certificate needs both'],
    [{ KAFKA_SSL: 'yes' }, 'KAFKA_SSL'],
    [
      { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' },
      'KAFKA_SSL_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)',
    ],
  ])('refuses %j naming the variable and rule', (env, expected) => {
    expect(problemOf(env)).toContain(expected);
  });

  it('never names a password in a refusal', () => {
    const message = problemOf({ KAFKA_SASL_PASSWORD: 'do-not-print-me', KAFKA_SASL_USERNAME: 'u' });
    expect(message).not.toContain('do-not-print-me');
  });
});

describe('KAFKA_NAMESPACE', () => {
  it('is empty unless set, and read as given', () => {
    expect(loadConfig(BASE).kafka.namespace).toBe('');
    expect(loadConfig({ ...BASE, KAFKA_NAMESPACE: 'staging-2' }).kafka.namespace).toBe('staging-2');
  });

  it.each(['a.b', '-x', 'x y', 'x'.repeat(65)])('refuses %j naming the variable and rule', (value) => {
    expect(problemOf({ KAFKA_NAMESPACE: value })).toMatch(/KAFKA_NAMESPACE.*1 to 64 letters, digits/);
  });
});
