'use strict';
// Spindle's live logger levels for node programs (see docs/dialects/genvid.md, "Loggers").
// The worker keeps a JSON file `{loggerID: {name: level}}` for each running job, named by the
// variable SPINDLE_LOGGERS, and replaces it whole (write, then rename) whenever a level changes.
// This helper reads it, notices every replacement, and tells the program.
//
//   const loggers = require('spindle-loggers').watch();
//   if (loggers.enabled('web', 'http', 'debug')) console.log('...');
//   loggers.onChange((levels) => myLogger.setLevel(levels.web?.http ?? 'info'));
const fs = require('node:fs');

const LEVELS = ['debug', 'info', 'warning', 'error', 'fatal', 'panic'];

function read(file) {
  try {
    const levels = JSON.parse(fs.readFileSync(file, 'utf8'));
    return levels && typeof levels === 'object' ? levels : {};
  } catch {
    return {}; // no file yet (a program run outside Spindle): every logger at its default
  }
}

// A stat poll rather than fs.watch: it sees a file replaced by a rename on every platform, and
// jobs that share a runner process each watch their own file.
function watch(options = {}) {
  const file = options.file ?? process.env.SPINDLE_LOGGERS;
  const fallback = options.defaultLevel ?? 'info';
  const listeners = [];
  let levels = file ? read(file) : {};
  const onStat = () => {
    const next = read(file);
    if (JSON.stringify(next) === JSON.stringify(levels)) return;
    levels = next;
    for (const listener of listeners) listener(levels);
  };
  if (file) fs.watchFile(file, { interval: options.intervalMs ?? 100, persistent: false }, onStat);
  const level = (loggerId, name) => levels[loggerId]?.[name] ?? fallback;
  return {
    levels: () => levels,
    level,
    // Whether a message at `messageLevel` passes the logger's level.
    enabled: (loggerId, name, messageLevel) =>
      LEVELS.indexOf(messageLevel) >= LEVELS.indexOf(level(loggerId, name)),
    onChange(listener) {
      listeners.push(listener);
    },
    close() {
      if (file) fs.unwatchFile(file, onStat);
    },
  };
}

module.exports = { watch, LEVELS };
