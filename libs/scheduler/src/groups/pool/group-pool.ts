import type { ContextSettings } from '@spindle/contracts';

// A group's workers are a shared pool in the dispatcher (context `group:<id>`): `scale` workers
// kept up from the start, one request per worker at a time, at most `scale` requests placed at
// once (the rest queue). A worker past the scale (after a rescale down) stops once idle.
export function groupPoolSettings(scale: number): ContextSettings {
  return {
    config: {},
    downtimeMs: 0,
    maxJobs: scale,
    workerMode: 'shared',
    precreated: true,
    runOptions: '',
    streamingDurationMs: null,
    maxConnFailures: 0,
    workerJobs: 1,
    keepWorkers: scale,
  };
}
