export * from './projector.module';
export * from './projections/contexts/contexts.projection';
export * from './projections/artifacts/artifacts.projection';
export * from './projections/functions/functions.projection';
export * from './rebuild/projection-rebuild';
export * from './rebuild/rebuildable-projections';
export * from './rebuild/event-sources';
