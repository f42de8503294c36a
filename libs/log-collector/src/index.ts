export * from './log-collector.module';
