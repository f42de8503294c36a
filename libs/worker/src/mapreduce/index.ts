export * from './program-protocol';
export * from './program-protocols';
export * from './mapreduce-run';
export * from './task-attempts';
export * from './splits';
export * from './split-reader';
export * from './partition';
