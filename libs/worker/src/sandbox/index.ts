export * from './types';
export * from './worker-sandbox';
