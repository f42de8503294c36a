// The projector owns this schema and writes it; the gateway reads it through its own connection.
export const PROJECTOR_SCHEMA = 'projector';
export const PROJECTOR_CONNECTION = 'projector';
export const READ_MODELS_CONNECTION = 'read-models';
