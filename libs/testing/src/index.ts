export * from './infrastructure';
export * from './apollo-programs';
