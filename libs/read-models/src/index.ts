export * from './read-models.tokens';
export * from './contexts/context.view';
export * from './contexts/contexts-v1.migration';
export * from './contexts/contexts.query';
