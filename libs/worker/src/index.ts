export * from './worker.module';
export * from './mapreduce';
export * from './sandbox';
