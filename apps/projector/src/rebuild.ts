import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { openServiceDataSource } from '@spindle/backbone';
import { loadConfig } from '@spindle/platform';
import {
  PROJECTOR_ENTITIES,
  PROJECTOR_MIGRATIONS,
  ProjectionRebuild,
  REBUILDABLE_PROJECTIONS,
  rebuildableProjection,
} from '@spindle/projector';
import { PROJECTOR_SCHEMA } from '@spindle/read-models';
import { embeddedDatabaseUrl } from '@spindle/runtime';

const USAGE = `usage: npm run rebuild -- <projection>... [--batch-size=N] [--cache-rows=N]
  Rebuilds read models from the owners' event stores while Spindle keeps running.
  projections: ${REBUILDABLE_PROJECTIONS.map((p) => p.name.replace(/^projector\.|\.v1$/g, '')).join(', ')}, or all
  Postgres: DATABASE_URL, else the embedded one of a running \`npm start\`.
  Prints progress on stderr and one JSON report per projection on stdout.`;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'batch-size': { type: 'string' },
      'cache-rows': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length === 0) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const projections = positionals.includes('all')
    ? REBUILDABLE_PROJECTIONS
    : positionals.map((name) => rebuildableProjection(name));
  const batchSize = positiveInteger('--batch-size', values['batch-size']);
  const cacheRows = positiveInteger('--cache-rows', values['cache-rows']);

  const config = loadConfig(process.env, 'standalone');
  const url = config.databaseUrl ?? embeddedDatabaseUrl(config.dataDir, config.ports.embeddedPostgres);
  const dataSource = await openServiceDataSource({
    name: 'projector-rebuild',
    schema: PROJECTOR_SCHEMA,
    url,
    entities: PROJECTOR_ENTITIES,
    migrations: PROJECTOR_MIGRATIONS,
    poolSize: 4,
    preparedStatements: config.dbPreparedStatements,
  });
  try {
    for (const projection of projections) {
      let lastProgress = 0;
      const report = await new ProjectionRebuild(dataSource, projection, {
        batchSize,
        cacheRows,
        onProgress: (p) => {
          if (p.elapsedMs - lastProgress < 1_000) return;
          lastProgress = p.elapsedMs;
          console.error(
            `${projection.name}: ${p.phase}, ${p.events} events, ${p.rows} rows, ${p.elapsedMs} ms`,
          );
        },
      }).run();
      console.log(JSON.stringify(report));
    }
  } finally {
    await dataSource.destroy();
  }
}

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`${flag} must be a positive integer, got "${value}"`);
    process.exit(2);
  }
  return n;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
