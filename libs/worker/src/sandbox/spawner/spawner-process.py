# Spindle's spawner: a small long-lived process beside the worker agent that starts the agent's job
# processes (exec and jvm tasks), so that the agent's large process never forks per job. Python,
# not Node: its subprocess spawns with vfork, measured at about a quarter of Node's CPU per spawn
# and a sixth of its wait (docs/architecture.md, "The spawner"). It runs no job code and decides
# nothing: every command line, with the whole confinement chain in front of the program
# (spawner.ts, Jail.command), comes from the agent.
# Protocol: JSON lines both ways on fd 3 (a socket the agent made), each at most the bytes given as
# the first argument:
#   in:  {"type":"spawn","id","command","argv","cwd","env","input"} (input: what goes on its stdin,
#        which then closes)
#   out: {"type":"spawned","id","pid"} | {"type":"failed","id","error"}
#        | {"type":"output","id","stream":"stdout"|"stderr","data" (base64)} | {"type":"exit","id","code","signal"}
#        | {"type":"close","id"} (its output closed: what it started may hold it open after its exit)
# A process leads a session of its own, as when the agent spawned it. The spawner ends when its
# channel closes (the agent is gone); its processes are the agent's to end (their cgroups, their
# process groups), which it does when it sees the spawner go.
import base64
import json
import os
import selectors
import signal
import socket
import subprocess
import sys

MESSAGE_MAX_BYTES = int(sys.argv[1])
# Output goes in pieces well within a message (base64 of this is 4/3 of it, plus the envelope).
PIECE = 256 * 1024

channel = socket.socket(fileno=3)
channel.setblocking(True)
selector = selectors.DefaultSelector()
processes = {}  # id -> {"popen", "open": output streams still open, "exited", "input"}


def send(message):
    # Blocking: while the agent reads slowly, the processes' output waits in their pipes.
    channel.sendall((json.dumps(message, separators=(",", ":")) + "\n").encode())


def strings(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def string_map(value):
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def start(message):
    id = message["id"]
    if id in processes:
        return send({"type": "failed", "id": id, "error": f"process {id} is already running"})
    try:
        popen = subprocess.Popen(
            [message["command"], *message["argv"]],
            cwd=message["cwd"],
            env=message["env"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
        )
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        return send({"type": "failed", "id": id, "error": str(e)})
    entry = {"popen": popen, "open": 2, "exited": False, "input": message["input"].encode()}
    processes[id] = entry
    send({"type": "spawned", "id": id, "pid": popen.pid})
    for name, stream in (("stdout", popen.stdout), ("stderr", popen.stderr)):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream, selectors.EVENT_READ, ("output", id, name))
    os.set_blocking(popen.stdin.fileno(), False)
    write_input(id)
    try:
        pidfd = os.pidfd_open(popen.pid)
        entry["pidfd"] = pidfd
        selector.register(pidfd, selectors.EVENT_READ, ("exit", id, None))
    except (AttributeError, OSError):
        entry["polled"] = True  # no pidfd here (Python < 3.9, Linux < 5.3): its end is polled for (below)


def write_input(id):
    entry = processes[id]
    stdin = entry["popen"].stdin
    try:
        while entry["input"]:
            written = os.write(stdin.fileno(), entry["input"][:65536])
            entry["input"] = entry["input"][written:]
    except BlockingIOError:
        if not is_registered(stdin):
            selector.register(stdin, selectors.EVENT_WRITE, ("input", id, None))
        return
    except OSError:
        entry["input"] = b""  # a program that never reads its input
    if is_registered(stdin):
        selector.unregister(stdin)
    try:
        stdin.close()
    except OSError:
        pass


def is_registered(file):
    try:
        selector.get_key(file)
        return True
    except KeyError:
        return False


def exited(id):
    entry = processes.get(id)
    if entry is None or entry["exited"]:
        return
    code = entry["popen"].poll()
    if code is None:
        return
    entry["exited"] = True
    if "pidfd" in entry:
        selector.unregister(entry["pidfd"])
        os.close(entry["pidfd"])
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:  # a signal Python has no name for (a real-time one)
            name = f"SIG{-code}"
        send({"type": "exit", "id": id, "code": None, "signal": name})
    else:
        send({"type": "exit", "id": id, "code": code, "signal": None})
    closed(id)


def closed(id):
    entry = processes[id]
    if entry["exited"] and entry["open"] == 0:
        del processes[id]
        send({"type": "close", "id": id})


def output(id, name, stream):
    try:
        data = os.read(stream.fileno(), PIECE)
    except BlockingIOError:
        return
    except OSError:
        data = b""
    if data:
        send({"type": "output", "id": id, "stream": name, "data": base64.b64encode(data).decode()})
        return
    selector.unregister(stream)
    stream.close()
    processes[id]["open"] -= 1
    closed(id)


def receive(line):
    try:
        message = json.loads(line)
    except ValueError:
        return
    if (
        isinstance(message, dict)
        and message.get("type") == "spawn"
        and isinstance(message.get("id"), str)
        and isinstance(message.get("command"), str)
        and strings(message.get("argv"))
        and isinstance(message.get("cwd"), str)
        and string_map(message.get("env"))
        and isinstance(message.get("input"), str)
    ):
        start(message)


# Lines of at most MESSAGE_MAX_BYTES: a longer one is dropped whole (the agent never sends one).
pending = bytearray()
dropping = False


def read_channel():
    global pending, dropping
    data = channel.recv(1 << 20)
    if not data:
        sys.exit(0)  # the agent is gone: nothing would read what its processes say
    start_at = 0
    while True:
        newline = data.find(b"\n", start_at)
        if newline < 0:
            break
        piece = data[start_at:newline]
        if not dropping and len(pending) + len(piece) <= MESSAGE_MAX_BYTES:
            receive(bytes(pending + piece))
        pending = bytearray()
        dropping = False
        start_at = newline + 1
    rest = data[start_at:]
    if dropping or not rest:
        return
    if len(pending) + len(rest) > MESSAGE_MAX_BYTES:
        pending = bytearray()
        dropping = True
        return
    pending += rest


selector.register(channel, selectors.EVENT_READ, ("channel", None, None))
while True:
    # A process without a pidfd: its end is looked for every 50 ms.
    polled = [id for id, entry in processes.items() if entry.get("polled")]
    for key, _ in selector.select(0.05 if polled else None):
        kind, id, name = key.data
        if kind == "channel":
            read_channel()
        elif kind == "output":
            output(id, name, key.fileobj)
        elif kind == "input":
            write_input(id)
        elif kind == "exit":
            exited(id)
    for id in polled:
        exited(id)
