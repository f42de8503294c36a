import { Logger } from '@nestjs/common';
import { DataTopics, logLineBytes } from '@spindle/contracts';
import type { LogBatch, LogLine, LogStream, LogTotals } from '@spindle/contracts';
import type { MessageBus } from '@spindle/backbone';

const MAX_LINES = 2_000;
const MAX_BYTES = 512 * 1024; // well under Kafka's default 1 MiB message limit
const LINGER_MS = 50;

// Ships one task's output to the log-collector in numbered batches, one after the other, so the
// collector stores them in order and knows every line's line number and byte offset. `close`
// resolves when every line is on the bus, with the totals the task's finish report carries.
export class LogShipper {
  private readonly logger = new Logger('worker-agent');
  private buffer: LogLine[] = [];
  private bufferedBytes = 0;
  private nextLine = 1;
  private nextByte = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private capped = false;

  // `maxBytes`: the most output of one task that is kept (SPINDLE_JOB_MAX_LOG_BYTES); past it
  // the task runs on, its output is read and dropped, and one system line says so.
  constructor(
    private readonly bus: MessageBus,
    private readonly jobId: string,
    private readonly workerId: string,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  // How many lines went to the log so far (the 0-based offset of the next one).
  get lineCount(): number {
    return this.nextLine - 1 + this.buffer.length;
  }

  line(stream: LogStream, text: string, at: Date): void {
    if (this.capped) return;
    if (this.nextByte + this.bufferedBytes + logLineBytes(text) > this.maxBytes) {
      this.capped = true;
      text = `[spindle] output beyond ${this.maxBytes} bytes is not kept (SPINDLE_JOB_MAX_LOG_BYTES); the job runs on`;
      stream = 'system';
    }
    this.append(stream, text, at);
  }

  // Lines Spindle itself writes into the task's log (an oversized result), kept past the cap.
  system(text: string, at = new Date()): void {
    this.append('system', text, at);
  }

  private append(stream: LogStream, text: string, at: Date): void {
    this.buffer.push({ at: at.toISOString(), stream, text });
    this.bufferedBytes += logLineBytes(text);
    if (this.buffer.length >= MAX_LINES || this.bufferedBytes >= MAX_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), LINGER_MS);
  }

  async close(): Promise<LogTotals> {
    this.flush();
    await this.chain;
    return { lines: this.nextLine - 1, bytes: this.nextByte };
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch: LogBatch = {
      jobId: this.jobId,
      workerId: this.workerId,
      firstLine: this.nextLine,
      firstByte: this.nextByte,
      lines: this.buffer,
    };
    this.nextLine += this.buffer.length;
    this.nextByte += this.bufferedBytes;
    this.buffer = [];
    this.bufferedBytes = 0;
    this.chain = this.chain.then(() => this.publish(batch));
  }

  private async publish(batch: LogBatch): Promise<void> {
    const message = { topic: DataTopics.logs, messages: [{ key: this.jobId, value: JSON.stringify(batch) }] };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bus.publish([message]);
        return;
      } catch (e) {
        if (attempt >= 20) {
          this.logger.error(`dropped ${batch.lines.length} log lines of job ${this.jobId}: ${String(e)}`);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 2_000)));
      }
    }
  }
}
