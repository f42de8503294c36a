// Advisory locks use the two-key form (class, hash), one class per purpose, so a client-chosen
// string (an idempotency key) can never collide with a lock the system holds for itself.
export const ADVISORY_LOCK_CLASS = {
  migrations: 1,
  outboxLeader: 2,
  idempotencyKey: 3,
  dispatcher: 4,
  projectionRebuild: 5,
  serviceJobSupervisor: 6,
  mapReduceSupervisor: 7,
  eventReductions: 8,
  // Placing jobs: the dispatcher's pass holds it, and so does a submit's transaction that places
  // its jobs itself (pg_advisory_xact_lock), so no two ever fill one slot twice.
  placement: 9,
} as const;
