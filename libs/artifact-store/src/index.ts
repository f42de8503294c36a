export * from './artifact-store.module';
export * from './artifact-store.tokens';
