export * from './config/spindle-config';
export * from './config/config.module';
export * from './http/problem-details';
export * from './http/problem-details.filter';
export * from './http/validation.pipe';
export * from './http/http-app';
export * from './util/duration';
export * from './config/version';
