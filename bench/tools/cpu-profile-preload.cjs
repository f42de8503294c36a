// CPU profiles of every process of a running topology, taken when asked: load this into a Spindle
// (each process of a topology inherits NODE_OPTIONS) and send SIGWINCH to its processes; each
// writes what it did since its last SIGWINCH (or its start) to
// `$PROF_DIR/<SPINDLE_PART>-<pid>.cpuprofile` and starts again. So the first signal, once the load
// is steady, drops the start-up; the second keeps the window. Read a profile with
// profile-summary.ts. `node --cpu-prof` is refused in NODE_OPTIONS and writes only at exit, and
// Nest's shutdown hooks catch SIGUSR2, hence an inspector session and this signal.
//   NODE_OPTIONS="--require ./bench/tools/cpu-profile-preload.cjs" PROF_DIR=/tmp/prof npm start
//   kill -WINCH $(pgrep -f apps/standalone/src/main.ts)   # now, and again at the window's end
// This is how the per-process costs of a shared job at 100/s and at saturation were read
// (BENCHMARKS.md, 2026-12-07). With PROF_ALLOCATIONS=1 each process also samples what it
// allocates (collected objects counted, a sample every 16 KB on average) and writes it beside, as
// `<part>-<pid>.heapprofile`; read it with allocation-summary.ts. Allocations show costs that a
// CPU profile spreads thin over the garbage collector (BENCHMARKS.md, 2026-12-07, late night).
'use strict';
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.PROF_DIR || '/tmp';
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable', () =>
  // 500 µs between samples: finer than the default 1 ms, still a few % of a core.
  session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')),
);
const allocations = Boolean(process.env.PROF_ALLOCATIONS);
const sampleAllocations = () =>
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 16384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
if (allocations) session.post('HeapProfiler.enable', sampleAllocations);
const fileOf = (extension) => join(dir, `${process.env.SPINDLE_PART || 'main'}-${process.pid}.${extension}`);
process.on('SIGWINCH', () => {
  session.post('Profiler.stop', (error, result) => {
    if (!error) writeFileSync(fileOf('cpuprofile'), JSON.stringify(result.profile));
    session.post('Profiler.start');
  });
  if (allocations) {
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (!error) writeFileSync(fileOf('heapprofile'), JSON.stringify(result.profile));
      sampleAllocations();
    });
  }
});
