import 'reflect-metadata';
import { printWelcome, startStandalone } from '@spindle/runtime';

// `npm start`: every service in one process; embedded Postgres and the in-process bus unless
// DATABASE_URL / KAFKA_BROKERS say otherwise.
startStandalone()
  .then((running) => printWelcome(running.url))
  .catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
