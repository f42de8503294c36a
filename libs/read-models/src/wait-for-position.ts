import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

// Read-your-writes: a command's answer names the stream position it produced; wait until the
// read model has applied it, so a create followed by a read never sees a 404.
export async function waitForStreamPosition(
  dataSource: DataSource,
  entity: EntityTarget<ObjectLiteral>,
  streamId: string,
  position: number,
  timeoutMs: number,
): Promise<boolean> {
  const table = dataSource.getMetadata(entity).tablePath;
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const rows: { stream_position: number }[] = await dataSource.query(
      `select stream_position from ${table} where stream_id = $1`,
      [streamId],
    );
    if ((rows[0]?.stream_position ?? 0) >= position) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}
