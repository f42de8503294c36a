export * from './apollo-executor';
export * from './apollo-invocation';
export * from './private-tmp';
