export * from './projector.module';
export * from './projections/contexts/contexts.projection';
export * from './projections/artifacts/artifacts.projection';
export * from './projections/functions/functions.projection';
