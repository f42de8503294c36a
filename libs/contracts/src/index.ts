export * from './envelope';
export * from './topics';
export * from './command-result';
export * from './event-registry';
export * from './scheduler/context-settings';
export * from './scheduler/context.events';
export * from './scheduler/context.commands';
export * from './artifacts/artifact.events';
