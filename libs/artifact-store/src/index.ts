export * from './artifact-store.module';
