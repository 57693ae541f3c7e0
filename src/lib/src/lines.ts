/**
 * Reading a large text file without holding it whole: pieces that each end at a line's end, read
 * through one buffer. A 60,000-line table is 3 MB of text; held whole it is a 3 MB buffer and a
 * 3 MB string, and fresh memory is what costs most where page faults are slow (User-Mode Linux).
 */
import { readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** The text of an open file (UTF-8) in pieces ending at line ends; the last may lack its newline. */
export function* linePieces(fd: number, size = 65_536): Generator<string> {
  const buf = Buffer.allocUnsafe(size);
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    const text = carry + decoder.write(n === buf.length ? buf : buf.subarray(0, n));
    const last = text.lastIndexOf('\n');
    carry = text.slice(last + 1);
    if (last !== -1) yield text.slice(0, last + 1);
  }
  const rest = carry + decoder.end();
  if (rest) yield rest;
}
