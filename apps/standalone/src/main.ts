import 'reflect-metadata';
import { StartupError, printWelcome, startStandalone } from '@spindle/runtime';

// `npm start`: every service in one process; embedded Postgres and the in-process bus unless
// DATABASE_URL / KAFKA_BROKERS say otherwise.
startStandalone()
  .then((running) => printWelcome(running.url))
  .catch((e: unknown) => {
    // A cause the user can fix is one line; anything else keeps its stack for a bug report.
    console.error(e instanceof StartupError ? `spindle: ${e.message}` : e);
    process.exit(1);
  });
