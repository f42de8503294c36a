export const SECRETS_SCHEMA = 'secrets';
export const SECRETS_CONNECTION = 'secrets';
export const SECRETS_EVENT_STORE = Symbol('SECRETS_EVENT_STORE');
export const SECRETS_RELAY = Symbol('SECRETS_RELAY');
