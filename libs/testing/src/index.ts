export * from './infrastructure';
export * from './decider-runner';
export * from './apollo-programs';
export * from './free-ports';
export * from './word-count';
export * from './lock-waits';
