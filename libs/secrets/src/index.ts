export * from './secrets.module';
export * from './secrets.tokens';
export { masterKeyFileOf } from './crypto/master-keys';
