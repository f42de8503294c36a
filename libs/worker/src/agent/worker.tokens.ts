export const WORKER_SCHEMA = 'worker';
export const WORKER_CONNECTION = 'worker';
export const WORKER_EVENT_STORE = Symbol('WORKER_EVENT_STORE');
export const WORKER_OUTBOX_RELAY = Symbol('WORKER_OUTBOX_RELAY');
