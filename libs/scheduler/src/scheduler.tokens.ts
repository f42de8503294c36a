export const SCHEDULER_SCHEMA = 'scheduler';
export const SCHEDULER_CONNECTION = 'scheduler';
export const SCHEDULER_EVENT_STORE = Symbol('SCHEDULER_EVENT_STORE');
export const SCHEDULER_OUTBOX_RELAY = Symbol('SCHEDULER_OUTBOX_RELAY');
