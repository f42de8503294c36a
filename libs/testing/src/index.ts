export * from './infrastructure';
export * from './decider-runner';
