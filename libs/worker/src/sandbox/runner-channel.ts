// The most one runner message may hold (a JSON line on the runner's channel, fd 3). A job's
// result travels whole in one (the agent then bounds what it reports: task-bounds.ts), so this is
// well above SPINDLE_JOB_MAX_RESULT_BYTES; what matters is that it is finite: the agent holds one
// message of each runner in memory, and a job of a runner can write anything to its channel.
export const RUNNER_MESSAGE_MAX_BYTES = 32 * 1024 * 1024;

// Cuts the runner's channel into lines (one message each), linear in what arrives, never holding
// more than maxBytes of a line: a longer line is dropped whole and reported once.
export class BoundedLines {
  private parts: Buffer[] = [];
  private size = 0;
  private dropping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversize: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline >= 0; newline = chunk.indexOf(10, start)) {
      this.append(chunk.subarray(start, newline));
      const line = this.dropping ? undefined : Buffer.concat(this.parts, this.size).toString('utf8');
      this.parts = [];
      this.size = 0;
      this.dropping = false;
      start = newline + 1;
      if (line !== undefined) this.onLine(line);
    }
    this.append(chunk.subarray(start));
  }

  private append(piece: Buffer): void {
    if (this.dropping || piece.length === 0) return;
    if (this.size + piece.length > this.maxBytes) {
      this.parts = [];
      this.size = 0;
      this.dropping = true;
      this.onOversize();
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
  }
}
