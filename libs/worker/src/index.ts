export * from './worker.module';
export * from './mapreduce';
