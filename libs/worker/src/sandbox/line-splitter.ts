import { StringDecoder } from 'node:string_decoder';

// Cuts a byte stream into lines (without their "\n"), keeping UTF-8 characters whole and splitting
// lines longer than `maxBytes` so that one runaway line cannot fill the memory. `whole` is false for
// each piece of a line that was cut, so a reader that needs the whole line (a result) can tell.
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  // The pending text continues a line already cut.
  private cutting = false;

  constructor(
    private readonly onLine: (text: string, whole: boolean) => void,
    private readonly maxBytes = 64 * 1024,
  ) {}

  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      this.emit(this.pending.slice(0, newline));
      this.pending = this.pending.slice(newline + 1);
    }
    while (Buffer.byteLength(this.pending) > this.maxBytes) {
      const cut = this.cutAt(this.pending);
      this.onLine(this.pending.slice(0, cut), false);
      this.pending = this.pending.slice(cut);
      this.cutting = true;
    }
  }

  end(): void {
    this.pending += this.decoder.end();
    if (this.pending.length > 0) this.emit(this.pending);
    this.pending = '';
  }

  private emit(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    const continued = this.cutting;
    this.cutting = false;
    if (Buffer.byteLength(text) <= this.maxBytes) {
      this.onLine(text, !continued);
      return;
    }
    let rest = text;
    while (rest.length > 0) {
      const cut = this.cutAt(rest);
      this.onLine(rest.slice(0, cut), false);
      rest = rest.slice(cut);
    }
  }

  // The longest prefix within maxBytes (by characters, so a UTF-8 sequence is never cut).
  private cutAt(text: string): number {
    let bytes = 0;
    let i = 0;
    for (const ch of text) {
      const size = Buffer.byteLength(ch);
      if (bytes + size > this.maxBytes) break;
      bytes += size;
      i += ch.length;
    }
    return Math.max(i, 1);
  }
}
