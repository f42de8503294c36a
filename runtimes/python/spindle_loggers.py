"""Spindle's live logger levels for python programs (see docs/dialects/genvid.md, "Loggers").

The worker keeps a JSON file {loggerID: {name: level}} for each running job, named by the
variable SPINDLE_LOGGERS, and replaces it whole (write, then rename) whenever a level changes.
This helper reads it, notices every replacement, and applies it to python's logging:

    import spindle_loggers
    loggers = spindle_loggers.watch("web")   # logging.getLogger(name) follows web's levels
    loggers.on_change(lambda levels: print("levels now", levels))
"""
import json
import logging
import os
import threading

LEVELS = ["debug", "info", "warning", "error", "fatal", "panic"]
PYTHON_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
    "panic": logging.CRITICAL,
}


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            levels = json.load(f)
        return levels if isinstance(levels, dict) else {}
    except (OSError, ValueError):
        return {}  # no file yet (a program run outside Spindle): every logger at its default


class Loggers:
    def __init__(self, logger_id=None, path=None, interval=0.1):
        self._path = path or os.environ.get("SPINDLE_LOGGERS")
        self._logger_id = logger_id
        self._listeners = []
        self._levels = _read(self._path) if self._path else {}
        self._stop = threading.Event()
        self._apply()
        if self._path:
            # A stat poll: it sees a file replaced by a rename, and needs no signal of its own.
            threading.Thread(target=self._poll, args=(interval,), daemon=True).start()

    def levels(self):
        return self._levels

    def level(self, logger_id, name, default="info"):
        return self._levels.get(logger_id, {}).get(name, default)

    def on_change(self, listener):
        self._listeners.append(listener)

    def close(self):
        self._stop.set()

    def _poll(self, interval):
        while not self._stop.wait(interval):
            levels = _read(self._path)
            if levels != self._levels:
                self._levels = levels
                self._apply()
                for listener in list(self._listeners):
                    listener(levels)

    # Each name of the watched logger id is a python logger: logging.getLogger(name).
    def _apply(self):
        if self._logger_id is None:
            return
        for name, level in self._levels.get(self._logger_id, {}).items():
            if level in PYTHON_LEVELS:
                logging.getLogger(name).setLevel(PYTHON_LEVELS[level])


def watch(logger_id=None, path=None, interval=0.1):
    return Loggers(logger_id, path, interval)
