import { appendFileSync } from 'node:fs';
import { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';

// Records, in each process it is loaded into, every statement's send and answer as the Node client
// sees them (the round trip, Postgres's work and both sides' waits for a core), and every HTTP
// request's arrival and answer; one JSON line each, written to QUERY_TRACE_DIR once a second, a file
// per process named after its SPINDLE_PART. Summarise with query-trace-summary.ts. This is how the
// relays' held-back reads and a lone job's 25-30 round trips were found (BENCHMARKS.md, 2026-12-06
// evening). Load it into a Spindle (each process of a topology inherits NODE_OPTIONS):
//   NODE_OPTIONS="--require @swc-node/register --require ./bench/tools/query-trace.ts" \
//   QUERY_TRACE_DIR=/tmp/trace npm start
// A line: [kind, epoch ms, text (first 60 characters), backend pid, rows, seen, first position
// empty], kind `q>` sent, `q<` answered, `req`/`res` an HTTP request and its answer. `seen` and
// `first position empty` are an outbox relay read's columns (outbox-relay.ts): a read that saw rows
// and took none found them held back.
type Line = [string, number, string?, number?, number?, unknown?, boolean?];

const dir = process.env['QUERY_TRACE_DIR'] ?? '/tmp';
const file = `${dir}/query-trace-${process.env['SPINDLE_PART'] ?? 'main'}-${process.pid}.jsonl`;
const lines: Line[] = [];
const now = () => performance.timeOrigin + performance.now();

interface Answer {
  rows?: { seen?: unknown; position?: unknown }[];
}
function answered(text: string, pid: number | undefined, answer: Answer | undefined): void {
  const first = answer?.rows?.[0];
  lines.push([
    'q<',
    now(),
    text,
    pid,
    answer?.rows?.length ?? -1,
    first?.seen ?? null,
    first?.position === null,
  ]);
}

type Callback = (error: Error | null, answer: Answer) => void;
// The originals, called below with the `this` they are called with.
// eslint-disable-next-line @typescript-eslint/unbound-method
const send = Client.prototype.query as (this: Client, ...args: unknown[]) => unknown;
Client.prototype.query = function (this: Client & { processID?: number }, ...args: unknown[]): unknown {
  const [config] = args;
  const sql = typeof config === 'string' ? config : ((config as { text?: string } | undefined)?.text ?? '');
  const text = sql.replace(/\s+/g, ' ').slice(0, 60);
  const pid = this.processID;
  lines.push(['q>', now(), text, pid]);
  const at = args.findIndex((a) => typeof a === 'function');
  if (at >= 0) {
    const callback = args[at] as Callback;
    args[at] = (error: Error | null, answer: Answer) => {
      answered(text, pid, answer);
      callback(error, answer);
    };
    return send.apply(this, args);
  }
  const result = send.apply(this, args);
  if (result instanceof Promise)
    result.then(
      (answer: Answer) => answered(text, pid, answer),
      () => answered(text, pid, undefined),
    );
  return result;
} as typeof Client.prototype.query;

// eslint-disable-next-line @typescript-eslint/unbound-method
const emit = Server.prototype.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event === 'request') {
    const [request, response] = args as [{ method?: string; url?: string }, NodeJS.EventEmitter];
    lines.push(['req', now(), `${request.method} ${request.url}`]);
    response.on('finish', () => lines.push(['res', now(), `${request.method} ${request.url}`]));
  }
  return emit.call(this, event, ...args);
} as typeof Server.prototype.emit;

setInterval(() => {
  if (lines.length === 0) return;
  appendFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
  lines.length = 0;
}, 1_000).unref();
