export * from './secrets.module';
