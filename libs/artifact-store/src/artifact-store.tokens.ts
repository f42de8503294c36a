export const ARTIFACT_STORE_SCHEMA = 'artifact_store';
export const ARTIFACT_STORE_CONNECTION = 'artifact-store';
export const ARTIFACT_STORE_EVENT_STORE = Symbol('ARTIFACT_STORE_EVENT_STORE');
export const ARTIFACT_STORE_RELAY = Symbol('ARTIFACT_STORE_RELAY');
