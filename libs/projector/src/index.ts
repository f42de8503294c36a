export * from './projector.module';
export * from './projections/contexts/contexts.projection';
