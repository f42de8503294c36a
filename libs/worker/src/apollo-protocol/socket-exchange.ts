import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

// The worker's ends of Apollo's Unix sockets. Payloads are read to the end of the connection,
// whatever their size (Apollo's own server reads one 1 KiB buffer and cuts the rest).

export interface Inbox {
  // Every connection's bytes, one document per connection, once the program is done with them.
  collect(): Promise<string[]>;
  close(): void;
}

// Listens on `path` for documents the program writes (map.sock, reduce.sock).
export async function listenForDocuments(path: string): Promise<Inbox> {
  const documents: Promise<string>[] = [];
  const server: Server = createServer((socket: Socket) => {
    documents.push(
      new Promise<string>((resolve) => {
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        // A program that dies mid-write leaves what it wrote; the parse then says what is wrong.
        socket.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Connecting takes write permission on the socket: the program runs as a job user (its
    // directory is that user's alone, so no one else reaches it).
    server.listen({ path, writableAll: true }, () => resolve());
  });
  return {
    collect: async () => {
      // Called once the program has exited: a connection it made just before may still wait in
      // the listening socket's backlog; two turns of the event loop let the poll phase accept it.
      await turn();
      await turn();
      server.close();
      return Promise.all(documents);
    },
    close: () => server.close(),
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

// Connects to a socket the program listens on (reduce-input-<order>.sock) as soon as it exists,
// writes the document and closes. Answers false when `gone()` says the program ended first.
export async function deliverDocument(path: string, document: string, gone: () => boolean): Promise<boolean> {
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    if (gone()) return false;
    try {
      await writeOnce(path, document);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Not listening yet: the program is still starting.
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

function writeOnce(path: string, document: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = connect(path);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.end(document, () => resolve());
    });
  });
}
