export const LOG_COLLECTOR_SCHEMA = 'log_collector';
export const LOG_COLLECTOR_CONNECTION = 'log-collector';
