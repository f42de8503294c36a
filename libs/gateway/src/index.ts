export * from './gateway.module';
export * from './openapi/openapi';
export * from './gateway-service.module';
export * from './dialects/dialects';
export * from './dialects/mist/mist-dialect.module';
export * from './dialects/mist/mist-websockets';
export * from './dialects/mist/mist-start-requests';
export * from './logs/log-collector.client';
