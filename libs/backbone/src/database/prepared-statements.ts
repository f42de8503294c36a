import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { QueryConfig, QueryResult } from 'pg';

// The pool's connections prepare each statement once and run it by name after that, as the JDBC
// driver (prepareThreshold), Npgsql (auto-prepare) and pgx (statement cache) do: a statement sent
// by text alone is parsed, analysed and planned by Postgres at every execution. On the saturated
// shared-jobs benchmark that was 3.7 s of Postgres's 12.6 s of CPU (pg_stat_statements' planning
// time alone), the consumer runner's claim, the event store's append and the relays' statements
// first. Named, Postgres spent 22 % less CPU per job over five alternating pairs (BENCHMARKS.md,
// 2026-12-05, night, later).
//
// node-postgres prepares a query that has a `name` once per connection (Parse), then sends only
// Bind and Execute. This client names every parameterised statement after its text's hash once
// it has been sent STATEMENT_THRESHOLD times on this connection, so a statement sent once (a
// migration's) stays unnamed, and names at most STATEMENTS_PER_CONNECTION of them: statements
// whose text varies with their input (TypeORM's `in (...)` lists) stop being named once that is
// reached rather than fill Postgres's memory. Postgres re-plans a prepared statement whose tables
// were replaced (a read model's rebuild), so a name stays valid across schema changes.
// A plan Postgres keeps while its table grows many times over is growing-tables.ts's concern.
//
// A statement without parameters goes as it is (the simple protocol: BEGIN, COMMIT, a script).
// DB_PREPARED_STATEMENTS=off turns this off, for a transaction-mode pooler (PgBouncer before
// 1.21) that hands each transaction another server connection, where the names are unknown.
export const STATEMENT_THRESHOLD = 2;
export const STATEMENTS_PER_CONNECTION = 200;
// Texts counted towards the threshold, per connection; counting starts over past this.
const COUNTED_TEXTS = 1_000;

export class PreparingClient extends Client {
  private readonly uses = new Map<string, number>();
  private readonly names = new Map<string, string>();

  // The overloads of Client.query, taken as they come and passed on: only a text with a values
  // array is given a name.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config === 'string' && Array.isArray(values)) {
      const name = this.nameFor(config);
      if (name) {
        const named: QueryConfig = { text: config, name, values };
        return callback
          ? super.query(named, callback as (err: Error, result: QueryResult) => void)
          : super.query(named);
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-unsafe-argument -- any overload's arguments, as given
    return super.query(config, values, callback);
  }

  private nameFor(text: string): string | undefined {
    const named = this.names.get(text);
    if (named || this.names.size >= STATEMENTS_PER_CONNECTION) return named;
    const uses = (this.uses.get(text) ?? 0) + 1;
    if (uses < STATEMENT_THRESHOLD) {
      if (this.uses.size >= COUNTED_TEXTS) this.uses.clear();
      this.uses.set(text, uses);
      return undefined;
    }
    this.uses.delete(text);
    const name = `spindle_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    this.names.set(text, name);
    return name;
  }
}
