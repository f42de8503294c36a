# Spindle's python runner: one long-lived process that runs a worker's python tasks, each in its
# own thread. Protocol: JSON lines. In on stdin: {"type":"run","taskId","file","libraries",
# "entrypoint","args","workDir","env"} (`libraries`: paths of the program's further artifacts, which
# lie beside `file`; may be absent), {"type":"cancel","taskId"}, {"type":"ping","id"}. Out on fd 3 (a channel of its
# own, so nothing a task writes to the real stdout can pass for a message):
# {"type":"started","taskId","at"}, {"type":"log","taskId","stream","text"},
# {"type":"result","taskId","ok","value"|"error"}, {"type":"pong","id"}. print() inside a task is
# attributed to it; so are os.environ's SPINDLE_* values, and `import spindle; spindle.context()`
# gives the task's job_id and work_dir. An entrypoint that is a class is instantiated and its
# run() called with the arguments; `from ilum.api import IlumJob` gives Ilum's base class.
# Each message is at most the bytes given as the first argument (the agent kills a runner that
# sends more: runner-channel.ts), so this runner never sends more itself: output lines go in
# pieces, and a result too large to send fails its task saying so (as the node runner does).
import ctypes
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import types
from collections.abc import MutableMapping

_out = os.fdopen(3, "w")
_lock = threading.Lock()
_local = threading.local()
_modules = {}
_running = {}  # task id -> {"work_dir", "env", "thread"}, oldest first
_home = os.getcwd()
MESSAGE_MAX_BYTES = int(sys.argv[1]) if len(sys.argv) > 1 else 32 * 1024 * 1024
# Output lines longer than this (in characters) are sent in pieces; the agent cuts lines at 64 KiB
# anyway. Well within a message: a character is at most 6 bytes of JSON.
PIECE = 1024 * 1024


def send(message):
    line = json.dumps(message)
    with _lock:
        _out.write(line + "\n")
        _out.flush()


def current_task():
    task = getattr(_local, "task", None)
    if task is None and len(_running) == 1:
        task = next(iter(_running))
    return task


class TaskWriter:
    def __init__(self, stream):
        self.stream = stream
        self.partial = {}

    def write(self, text):
        task = current_task()
        if task is None:
            sys.__stderr__.write(text)
            return len(text)
        buffered = self.partial.get(task, "") + text
        lines = buffered.split("\n")
        self.partial[task] = lines.pop()
        for line in lines:
            self.send_line(task, line)
        while len(self.partial[task]) > PIECE:
            rest = self.partial[task]
            send({"type": "log", "taskId": task, "stream": self.stream, "text": rest[:PIECE]})
            self.partial[task] = rest[PIECE:]
        return len(text)

    def send_line(self, task, line):
        for at in range(0, max(len(line), 1), PIECE):
            send({"type": "log", "taskId": task, "stream": self.stream, "text": line[at : at + PIECE]})

    def flush_task(self, task):
        rest = self.partial.pop(task, "")
        if rest:
            send({"type": "log", "taskId": task, "stream": self.stream, "text": rest})

    def flush(self):
        pass


stdout_writer = TaskWriter("stdout")
stderr_writer = TaskWriter("stderr")
sys.stdout = stdout_writer
sys.stderr = stderr_writer


class TaskEnviron(MutableMapping):
    """os.environ with the running task's own variables on top (the process holds no job's)."""

    def __init__(self, real):
        self._real = real

    def _own(self, key):
        info = _running.get(getattr(_local, "task", None))
        return info["env"] if info is not None and key in info["env"] else None

    def __getitem__(self, key):
        own = self._own(key)
        return own[key] if own is not None else self._real[key]

    def __setitem__(self, key, value):
        own = self._own(key)
        if own is not None:
            own[key] = value
        else:
            self._real[key] = value

    def __delitem__(self, key):
        own = self._own(key)
        if own is not None:
            del own[key]
        else:
            del self._real[key]

    def _keys(self):
        info = _running.get(getattr(_local, "task", None))
        keys = list(self._real)
        if info is not None:
            keys += [k for k in info["env"] if k not in self._real]
        return keys

    def __iter__(self):
        return iter(self._keys())

    def __len__(self):
        return len(self._keys())

    def copy(self):
        return dict(self)


os.environ = TaskEnviron(os.environ)

spindle = types.ModuleType("spindle")
spindle.__doc__ = "The running Spindle task: spindle.context().job_id, .work_dir"


def _context():
    task = getattr(_local, "task", None)
    info = _running.get(task)
    if info is None:
        raise RuntimeError("not inside a Spindle task")
    return types.SimpleNamespace(job_id=task, work_dir=info["work_dir"])


spindle.context = _context
sys.modules["spindle"] = spindle

# Ilum's job API, so that programs written for Ilum groups import as they do there. There is no
# Spark runtime: `spark` is None.
ilum = types.ModuleType("ilum")
ilum.__path__ = []
ilum_api = types.ModuleType("ilum.api")


class IlumJob:
    """An Ilum interactive job: run(self, spark, config) returns the result as a string."""

    def run(self, spark, config):
        raise NotImplementedError("an IlumJob implements run(self, spark, config)")


ilum_api.IlumJob = IlumJob
ilum.api = ilum_api
sys.modules["ilum"] = ilum
sys.modules["ilum.api"] = ilum_api


class TaskCancelled(BaseException):
    """Raised inside a task's thread when the task is cancelled or timed out."""


def follow_oldest():
    # One working directory per process: the oldest running task's (a task alone has its own). A
    # cancelled task no longer counts: its directory goes away while it may still be winding down.
    oldest = next((info for info in _running.values() if not info.get("cancelled")), None)
    target = oldest["work_dir"] if oldest is not None and oldest["work_dir"] else _home
    try:
        if os.getcwd() != target:
            os.chdir(target)
    except OSError:
        os.chdir(_home)


# Packed libraries are entries of sys.path themselves; any other lies in the program's directory.
PACKED_SUFFIXES = (".zip", ".egg", ".whl")


def add_libraries(path, libraries):
    # Appended, so that a library never shadows the standard library; for the runner's life, as
    # Python keeps what it imported (a module name is imported once per runner process).
    entries = [os.path.dirname(path)] + [p for p in libraries if p.endswith(PACKED_SUFFIXES)]
    for entry in entries:
        if entry not in sys.path:
            sys.path.append(entry)


def load(path, libraries):
    if libraries:
        add_libraries(path, libraries)
    module = _modules.get(path)
    if module is None:
        spec = importlib.util.spec_from_file_location("spindle_task_%d" % len(_modules), path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[path] = module
    return module


def run(message):
    task = message["taskId"]
    _local.task = task
    try:
        program = load(message["file"], message.get("libraries") or [])
        fn = getattr(program, message["entrypoint"] or "main", None)
        if not callable(fn):
            raise AttributeError("%s is not a function in the program" % (message["entrypoint"] or "main"))
        # A class (an IlumJob, say) is instantiated for the task and its run() called.
        if isinstance(fn, type):
            fn = fn().run
        value = fn(**(message.get("args") or {}))
        result = {"type": "result", "taskId": task, "ok": True, "value": value}
        try:
            size = len(json.dumps(result).encode("utf-8"))
        except (TypeError, ValueError) as e:
            raise TypeError("the result is not JSON: %s" % e)
        if size > MESSAGE_MAX_BYTES:
            raise ValueError(
                "the result is %d bytes of JSON, more than a runner message may hold (%d): write it to a file instead"
                % (size, MESSAGE_MAX_BYTES)
            )
    except BaseException:
        result = {"type": "result", "taskId": task, "ok": False, "error": traceback.format_exc()}
    stdout_writer.flush_task(task)
    stderr_writer.flush_task(task)
    with _lock:
        _running.pop(task, None)
        follow_oldest()
    send(result)


def start(message):
    task = message["taskId"]
    thread = threading.Thread(target=run, args=(message,), daemon=True)
    with _lock:
        _running[task] = {
            "work_dir": message.get("workDir"),
            "env": dict(message.get("env") or {}),
            "thread": thread,
        }
        follow_oldest()
    send({"type": "started", "taskId": task, "at": int(time.time() * 1000)})
    thread.start()


def cancel(task):
    # A thread cannot be killed; an exception raised into it stops pure-Python code at its next
    # bytecode (a call blocked in C, like time.sleep, first has to return).
    info = _running.get(task)
    if info is None or info["thread"].ident is None:
        return
    with _lock:
        info["cancelled"] = True
        follow_oldest()
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(info["thread"].ident), ctypes.py_object(TaskCancelled)
    )


for raw in sys.stdin:
    raw = raw.strip()
    if not raw:
        continue
    message = json.loads(raw)
    kind = message.get("type")
    if kind == "run":
        start(message)
    elif kind == "cancel":
        cancel(message["taskId"])
    elif kind == "ping":
        send({"type": "pong", "id": message["id"]})
