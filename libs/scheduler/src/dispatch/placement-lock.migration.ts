import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULER_SCHEMA } from '../scheduler.tokens';

const s = `"${SCHEDULER_SCHEMA}"`;

// The placement lock for a submit's transaction (submit-placement.ts), waited for at most `wait_ms`:
// true once held (to the commit), false when it stayed taken that long. A transaction waiting
// without a bound would hold its pooled connection, and a dispatcher pass that holds the lock can
// need one of those connections to finish: with a small pool, neither would ever go on. The
// exception block's subtransaction undoes its lock_timeout with it.
export class SchedulerPlacementLock1796800000100 implements MigrationInterface {
  name = 'SchedulerPlacementLock1796800000100';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `create function ${s}.placement_lock(lock_class int, wait_ms int) returns boolean
       language plpgsql as $$
       declare previous text := current_setting('lock_timeout');
       begin
         perform set_config('lock_timeout', wait_ms || 'ms', true);
         perform pg_advisory_xact_lock(lock_class, 0);
         perform set_config('lock_timeout', previous, true);
         return true;
       exception when lock_not_available then
         return false;
       end $$`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`drop function ${s}.placement_lock(int, int)`);
  }
}
