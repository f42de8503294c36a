export * from './scheduler.module';
export * from './scheduler.tokens';
export * from './contexts/domain/context.decider';
