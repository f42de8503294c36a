export * from './read-models.tokens';
export * from './contexts/context.view';
export * from './contexts/contexts-v1.migration';
export * from './contexts/contexts.query';
export * from './artifacts/artifact.view';
export * from './artifacts/artifacts-v1.migration';
export * from './artifacts/artifacts.query';
