# Spindle's python runner: one long-lived process that runs a worker's python tasks, each in its
# own thread. Protocol: JSON lines. In on stdin: {"type":"run","taskId","file","entrypoint","args"}.
# Out on the real stdout: {"type":"log","taskId","stream","text"} and
# {"type":"result","taskId","ok","value"|"error"}. print() inside a task is attributed to it.
import importlib.util
import json
import sys
import threading
import traceback

_out = sys.stdout
_lock = threading.Lock()
_local = threading.local()
_modules = {}
_running = set()


def send(message):
    line = json.dumps(message)
    with _lock:
        _out.write(line + "\n")
        _out.flush()


class TaskWriter:
    def __init__(self, stream):
        self.stream = stream
        self.partial = {}

    def write(self, text):
        task = getattr(_local, "task", None)
        if task is None:
            if len(_running) == 1:
                task = next(iter(_running))
            else:
                sys.__stderr__.write(text)
                return len(text)
        buffered = self.partial.get(task, "") + text
        lines = buffered.split("\n")
        self.partial[task] = lines.pop()
        for line in lines:
            send({"type": "log", "taskId": task, "stream": self.stream, "text": line})
        return len(text)

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


def load(path):
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
    _running.add(task)
    try:
        fn = getattr(load(message["file"]), message["entrypoint"] or "main", None)
        if not callable(fn):
            raise AttributeError("%s is not a function in the program" % (message["entrypoint"] or "main"))
        value = fn(**(message.get("args") or {}))
        try:
            json.dumps(value)
        except (TypeError, ValueError) as e:
            raise TypeError("the result is not JSON: %s" % e)
        result = {"type": "result", "taskId": task, "ok": True, "value": value}
    except BaseException:
        result = {"type": "result", "taskId": task, "ok": False, "error": traceback.format_exc()}
    finally:
        _running.discard(task)
    stdout_writer.flush_task(task)
    stderr_writer.flush_task(task)
    send(result)


for raw in sys.stdin:
    raw = raw.strip()
    if not raw:
        continue
    message = json.loads(raw)
    if message.get("type") == "run":
        threading.Thread(target=run, args=(message,), daemon=True).start()
