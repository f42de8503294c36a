import type { ContextSettings, WorkerRequestedV1 } from '@spindle/contracts';

// A live worker host and the worker slots it has left (counted down as workers are planned on it).
export interface HostSlots {
  readonly id: string;
  readonly incarnation: string;
  free: number;
}

// A shared worker of a context's pool and the jobs it can still take.
export interface PoolWorker {
  readonly id: string;
  readonly hostId: string;
  free: number;
}

export interface Placement {
  readonly jobId: string;
  readonly workerId: string;
  readonly hostId: string;
}

// What one pass does for a context: the workers to request (before the jobs placed on them) and
// the jobs to place, in queue order.
export interface Plan {
  readonly requested: WorkerRequestedV1[];
  readonly placements: Placement[];
}

// Fresh workers go to the live host with the most free slots (hosts come sorted so).
function takeSlot(hosts: HostSlots[]): HostSlots | undefined {
  const host = hosts.find((h) => h.free > 0);
  if (host) host.free--;
  return host;
}

function workerOn(
  host: HostSlots,
  id: string,
  context: string,
  settings: ContextSettings,
  mode: 'shared' | 'exclusive',
): WorkerRequestedV1 {
  return {
    id,
    context,
    mode,
    hostId: host.id,
    hostIncarnation: host.incarnation,
    maxJobs: mode === 'shared' ? (settings.workerJobs ?? settings.maxJobs) : 1,
    runOptions: settings.runOptions,
  };
}

// `exclusive`: a fresh worker for every job, at most maxJobs of the context's jobs placed at once.
export function planExclusive(
  context: string,
  settings: ContextSettings,
  queued: readonly string[],
  active: number,
  hosts: HostSlots[],
  newId: () => string,
): Plan {
  const plan: Plan = { requested: [], placements: [] };
  for (const jobId of queued.slice(0, Math.max(0, settings.maxJobs - active))) {
    const host = takeSlot(hosts);
    if (!host) break;
    const worker = workerOn(host, newId(), context, settings, 'exclusive');
    plan.requested.push(worker);
    plan.placements.push({ jobId, workerId: worker.id, hostId: host.id });
  }
  return plan;
}

// `shared`: a pool per context, and at most maxJobs of the context's jobs placed at once, as in
// `exclusive` (Mist's "max parallel jobs" of a context). Jobs fill the oldest worker with room
// first (so the newest ones are the first to fall idle); when no worker has room (a worker is
// stopping, or its host went silent) and jobs still wait, one more is started on the host with the
// most free slots, and filled in turn.
export function planShared(
  context: string,
  settings: ContextSettings,
  queued: readonly string[],
  active: number,
  pool: PoolWorker[],
  hosts: HostSlots[],
  newId: () => string,
): Plan {
  const plan: Plan = { requested: [], placements: [] };
  for (const jobId of queued.slice(0, Math.max(0, settings.maxJobs - active))) {
    let worker = pool.find((w) => w.free > 0);
    if (!worker) {
      const host = takeSlot(hosts);
      if (!host) break; // the pool is as large as the hosts allow
      const requested = workerOn(host, newId(), context, settings, 'shared');
      plan.requested.push(requested);
      worker = { id: requested.id, hostId: host.id, free: requested.maxJobs };
      pool.push(worker);
    }
    worker.free--;
    plan.placements.push({ jobId, workerId: worker.id, hostId: worker.hostId });
  }
  return plan;
}

// The workers a precreated shared context is missing (it keeps `keepWorkers` up, 1 unless set),
// each on the host with the most free slots, as far as the hosts' slots allow.
export function planKeptWorkers(
  context: string,
  settings: ContextSettings,
  missing: number,
  hosts: HostSlots[],
  newId: () => string,
): WorkerRequestedV1[] {
  const requested: WorkerRequestedV1[] = [];
  for (let i = 0; i < missing; i++) {
    const host = takeSlot(hosts);
    if (!host) break;
    requested.push(workerOn(host, newId(), context, settings, 'shared'));
  }
  return requested;
}
