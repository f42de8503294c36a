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
// (BENCHMARKS.md, 2026-12-07).
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
process.on('SIGWINCH', () => {
  session.post('Profiler.stop', (error, result) => {
    if (!error) {
      const file = join(dir, `${process.env.SPINDLE_PART || 'main'}-${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(result.profile));
    }
    session.post('Profiler.start');
  });
});
