// Rows numbered by a sequence become visible when their transaction commits, which may be out of
// order: a reader that takes the rows up to N must know that no transaction still open can commit
// one below N. The outbox relay and the read models' feed take a row only once every transaction
// older than its own has ended.
//
// "Every transaction" was the snapshot's xmin: the oldest open transaction of the whole server.
// A worker's report then waited for the scheduler's and the projector's transactions, which never
// write the worker's outbox: 29 % of the worker relay's reads found rows held back (2026-12-06,
// one job at a time). Every service writes only its own schema (service-data-source.ts), and its
// connections say which in their application_name; so the horizon of a schema is the oldest open
// transaction that may write it: any open transaction but those of a connection that names
// another schema. One that names none (psql, a tool, a test's own connection) counts, as before.

// `spindle-<connection>:<schema>`: what a service's connections are called on the server.
export function applicationNameOf(connection: string, schema: string): string {
  return `spindle-${connection}:${schema}`;
}

// SQL (an xid8) below which every transaction that may write `schema` has ended, for the
// statement's snapshot. A transaction of the snapshot's running list is left out only while
// pg_stat_activity shows it still running (`backend_xid`, read after the snapshot: the same
// transaction, since ids are never reused) on a connection that names another schema.
export function writersHorizonSql(schema: string): string {
  const literal = `'${schema.replace(/'/g, "''")}'`;
  return `coalesce(
    (select min(x) from pg_snapshot_xip(pg_current_snapshot()) x
     where not exists (
       select 1 from pg_stat_activity a
       where a.backend_xid = x::xid
         and substring(a.application_name from '^spindle-[^:]*:(.*)$') <> ${literal})),
    pg_snapshot_xmax(pg_current_snapshot()))`;
}
