// Longest suites first, so that no worker idles at the end of the run while another one still has
// a long suite ahead of it (jest's default does the same from its own cache, which a fresh clone in
// CI does not have). The durations come from tools/jest/suite-times.json (seconds on a 2-core
// machine; only their order matters); a suite missing there is timed from jest's cache, or guessed
// from its tier.
//
//   SPINDLE_RECORD_SUITE_TIMES=1 npx jest     # rewrites suite-times.json with this run's durations
const { readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const ROOT = join(__dirname, '..', '..');
const TIMES = join(__dirname, 'suite-times.json');
// An unknown integration suite starts among the long ones, an unknown unit suite among the last.
const GUESS_MS = { integration: 30_000, unit: 1_000 };

function readTimes() {
  try {
    return JSON.parse(readFileSync(TIMES, 'utf8'));
  } catch {
    return {};
  }
}

const measured = readTimes();

class LongestFirstSequencer extends Sequencer {
  time(test) {
    const seconds = measured[relative(ROOT, test.path)];
    if (seconds !== undefined) return seconds * 1000;
    return super.time(test) ?? GUESS_MS[test.context.config.displayName?.name] ?? GUESS_MS.integration;
  }

  cacheResults(tests, results) {
    super.cacheResults(tests, results);
    if (process.env.SPINDLE_RECORD_SUITE_TIMES !== '1') return;
    const times = readTimes();
    for (const r of results.testResults)
      if (!r.skipped && !r.testExecError && r.numFailingTests === 0)
        times[relative(ROOT, r.testFilePath)] = Math.round((r.perfStats.runtime ?? 0) / 100) / 10;
    const sorted = Object.fromEntries(Object.entries(times).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(TIMES, `${JSON.stringify(sorted, null, 2)}\n`);
  }
}
module.exports = LongestFirstSequencer;
