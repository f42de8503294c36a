export * from './types';
export * from './worker-sandbox';
export * from './confinement';
export * from './job-users';
export * from './runtime-files';
export * from './cgroups';
export * from './file-system-view';
export * from './task-jail';
