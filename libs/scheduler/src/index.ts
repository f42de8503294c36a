export * from './scheduler.module';
export * from './scheduler.tokens';
export * from './contexts/domain/context.decider';
export * from './functions/domain/function.decider';
export * from './groups/domain/group.decider';
export * from './scheduler-commands.service';
