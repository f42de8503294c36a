export * from './boot';
export * from './service-catalog';
export * from './standalone';
export * from './embedded-postgres/embedded-postgres';
export * from './startup-error';
export * from './topology';
export * from './topology-processes';
