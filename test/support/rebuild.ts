import { randomUUID } from 'node:crypto';
import { openServiceDataSource } from '@spindle/backbone';
import {
  PROJECTOR_ENTITIES,
  PROJECTOR_MIGRATIONS,
  ProjectionRebuild,
  rebuildableProjection,
} from '@spindle/projector';
import { PROJECTOR_SCHEMA } from '@spindle/read-models';

// A read model rebuilt from its owner's event store gives back the rows it had: one row is lost on
// purpose first (`lose`, a where clause), so the rebuild has something to restore. Answers the rows.
export async function expectRebuildRestores(
  databaseUrl: string,
  projection: string,
  table: string,
  lose: string,
): Promise<unknown[]> {
  const projector = await openServiceDataSource({
    name: `rebuild-${projection}-${randomUUID()}`,
    schema: PROJECTOR_SCHEMA,
    url: databaseUrl,
    entities: PROJECTOR_ENTITIES,
    migrations: PROJECTOR_MIGRATIONS,
  });
  try {
    const rows = (): Promise<unknown[]> =>
      projector.query(`select * from ${PROJECTOR_SCHEMA}.${table} order by stream_id`);
    const expected = await rows();
    await projector.query(`delete from ${PROJECTOR_SCHEMA}.${table} where ${lose}`);
    expect((await rows()).length).toBeLessThan(expected.length);
    const report = await new ProjectionRebuild(projector, rebuildableProjection(projection)).run();
    expect(report).toMatchObject({ table: `"${PROJECTOR_SCHEMA}"."${table}"`, invalidEvents: 0 });
    expect(await rows()).toEqual(expected);
    return expected;
  } finally {
    await projector.destroy();
  }
}
