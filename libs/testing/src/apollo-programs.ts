import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Programs written the way Apollo's users write them (a shebang script instead of a Go binary),
// for the protocol's tests and the Apollo dialect's end-to-end suite.

// /usr/bin/python3 starts in ~30 ms; a version manager's shim on PATH can take five times that,
// which counts when a program is run once per line.
const PYTHON = existsSync('/usr/bin/python3') ? '#!/usr/bin/python3' : '#!/usr/bin/env python3';

// Word count mapper: one pair {word: 1} per word of its line, all in one write of any size.
export const WORD_COUNT_MAPPER = `${PYTHON}
import json, socket, sys
line = sys.argv[2] if len(sys.argv) > 2 else ""
pairs = [{"key": word, "value": 1} for word in line.split()]
out = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
out.connect("/tmp/map.sock")
out.sendall(json.dumps({"pairs": pairs}).encode())
out.close()
`;

// Word count reducer: listens on its input socket, sums the values, writes the total back.
export const WORD_COUNT_REDUCER = `${PYTHON}
import json, socket, sys
order = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind("/tmp/reduce-input-%s.sock" % order)
server.listen(1)
conn, _ = server.accept()
data = b""
while True:
    chunk = conn.recv(65536)
    if not chunk:
        break
    data += chunk
message = json.loads(data)
out = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
out.connect("/tmp/reduce.sock")
out.sendall(json.dumps({"key": message["key"], "value": sum(message["value"])}).encode())
out.close()
`;

export function writeProgram(dir: string, name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source, { mode: 0o755 });
  return path;
}
