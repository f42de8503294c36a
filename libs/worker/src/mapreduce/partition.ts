// Which reduce task gets a key: FNV-1a (32 bit) of the key's UTF-8 bytes modulo the number of
// reducers. Stable across processes, hosts and versions (a JS string hash or Node's would not be).
export function partitionOf(key: string, reducers: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code >= 0x80) return fnvBytes(hash, Buffer.from(key.slice(i), 'utf8')) % reducers;
    hash = Math.imul(hash ^ code, 0x01000193) >>> 0; // ASCII: the character is its byte
  }
  return hash % reducers;
}

function fnvBytes(start: number, bytes: Uint8Array): number {
  let hash = start;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}
