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
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    // Lines are cut from one string by offsets: slicing the rest off after every line would copy
    // a chunk of many short lines over and over.
    let start = 0;
    let newline: number;
    while ((newline = text.indexOf('\n', start)) >= 0) {
      this.emit(text.slice(start, newline));
      start = newline + 1;
    }
    this.pending = start === 0 ? text : text.slice(start);
    while (this.exceedsMax(this.pending)) {
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
    if (!this.exceedsMax(text)) {
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

  // A UTF-16 code unit is at most 3 bytes of UTF-8: most lines need no count of their bytes.
  private exceedsMax(text: string): boolean {
    return text.length * 3 > this.maxBytes && Buffer.byteLength(text) > this.maxBytes;
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
