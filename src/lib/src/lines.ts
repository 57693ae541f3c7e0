/**
 * Reading input with bounds: every file or stream ha reads from a person (rules files, standard
 * input, state files, later keepalived.conf) has a size limit and, for line-based formats, a line
 * length limit, each refused with one line and exit 2. Nothing a file can be (/dev/zero, a FIFO
 * without a writer, a directory, a symlink loop, a 1 GB line) makes ha block or grow without end.
 *
 * Line-based text is read in pieces that each end at a line's end, through one buffer: a
 * 60,000-line table is 3 MB of text; held whole it is a 3 MB buffer and a 3 MB string, and fresh
 * memory is what costs most where page faults are slow (User-Mode Linux).
 */
import { closeSync, constants as fsc, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { UsageError } from './errors.js';

export interface InputLimits {
  /** Most bytes in all. */
  maxBytes: number;
  /** Most bytes in one line (line-based formats). */
  maxLine?: number;
}

const MiB = 1024 * 1024;
/** State files: JSON, no line limit. A 10,000-service table with 5 servers each is about 10 MB. */
export const STATE_LIMITS: InputLimits = { maxBytes: 64 * MiB };
/** ipvsadm rules: 60,000 lines are 3 MB; no rule comes near 4 KiB. */
export const RULES_LIMITS: InputLimits = { maxBytes: 256 * MiB, maxLine: 4096 };

function sizeText(n: number): string {
  return n >= MiB ? `${n / MiB} MiB` : `${n} bytes`;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** An open error as one line naming the input. */
export function openErrorText(what: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return `${what} does not exist`;
    case 'EACCES': case 'EPERM': return `${what}: permission denied`;
    case 'ELOOP': return `${what}: too many levels of symbolic links (a symlink loop)`;
    case 'EISDIR': return `${what} is a directory`;
    case 'ENOTDIR': return `${what}: a part of the path is not a directory`;
    case 'ENAMETOOLONG': return `${what}: the path is too long`;
    default: return `${what}: ${(error as Error).message}`;
  }
}

/**
 * Open a file that must be a regular file, without blocking on a FIFO or following a device
 * (O_NONBLOCK: a FIFO with no writer would block the open forever). Returns the descriptor and
 * its size; throws a UsageError otherwise.
 */
export function openRegular(path: string, what: string, limits: InputLimits): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (error) {
    throw new UsageError(openErrorText(what, error), (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'ENOFILE' : 'EINPUT');
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new UsageError(`${what} is ${kindOf(st)}, not a regular file`, 'EINPUT');
  }
  if (st.size > limits.maxBytes) {
    closeSync(fd);
    throw new UsageError(`${what} is larger than ${sizeText(limits.maxBytes)} (${sizeText(st.size)})`, 'EINPUT');
  }
  return { fd, size: st.size };
}

/** Read a whole regular file (UTF-8, a leading byte-order mark dropped) within the limits. */
export function readRegularFile(path: string, what: string, limits: InputLimits): string {
  const { fd, size } = openRegular(path, what, limits);
  try {
    // one byte more than the size: a file that grows while we read is caught, not followed
    const buf = Buffer.allocUnsafe(Math.min(size, limits.maxBytes) + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got === buf.length) throw new UsageError(`${what} is larger than ${sizeText(limits.maxBytes)} or grew while being read`, 'EINPUT');
    }
    return stripBom(buf.toString('utf8', 0, got));
  } finally {
    closeSync(fd);
  }
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Open a line-based input for reading: "-" or undefined is standard input; a path must be a
 * regular file, except /dev/fd/N and /proc/self/fd/N (a shell's process substitution, a pipe
 * that already has its writer). A named FIFO or a device is refused: it would block, or never end.
 */
export function openLines(path: string | undefined, what: string, limits: InputLimits): { fd: number; close: () => void } {
  if (path === undefined || path === '-') {
    if (process.stdin.isTTY) throw new UsageError(`no ${what} given and standard input is a terminal: give a file, or pipe it in`, 'EINPUT');
    return { fd: 0, close: () => undefined };
  }
  if (/^\/(dev|proc\/self)\/fd\/\d+$/.test(path)) {
    let fd: number;
    try {
      fd = openSync(path, fsc.O_RDONLY);
    } catch (error) {
      throw new UsageError(openErrorText(what, error), 'EINPUT');
    }
    const st = fstatSync(fd);
    if (!st.isFile() && !st.isFIFO()) {
      closeSync(fd);
      throw new UsageError(`${what} is ${kindOf(st)}: give a regular file or a pipe`, 'EINPUT');
    }
    return { fd, close: () => closeSync(fd) };
  }
  const { fd } = openRegular(path, what, limits);
  return { fd, close: () => closeSync(fd) };
}

const EAGAIN_WAIT = new Int32Array(new SharedArrayBuffer(4));

/** readSync that waits on a non-blocking descriptor (standard input may be one) instead of failing. */
function readBlocking(fd: number, buf: Buffer): number {
  for (;;) {
    try {
      return readSync(fd, buf, 0, buf.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(EAGAIN_WAIT, 0, 0, 5);
    }
  }
}

/**
 * The text of an open descriptor (UTF-8) in pieces ending at line ends; the last may lack its
 * newline. With limits, a line longer than maxLine or input beyond maxBytes is a UsageError
 * naming `what` and the line, raised as soon as it is seen (so /dev/zero fails at once).
 */
export function* linePieces(fd: number, options: { size?: number; what?: string; limits?: InputLimits } = {}): Generator<string> {
  const buf = Buffer.allocUnsafe(options.size ?? 65_536);
  const decoder = new StringDecoder('utf8');
  const what = options.what ?? 'input';
  const maxLine = options.limits?.maxLine ?? Number.POSITIVE_INFINITY;
  const maxBytes = options.limits?.maxBytes ?? Number.POSITIVE_INFINITY;
  let carry = '';
  let total = 0;
  let lines = 0;
  let first = true;
  const tooLong = (): never => {
    throw new UsageError(`${what}: line ${lines + 1} is longer than ${maxLine} characters`, 'EINPUT');
  };
  for (;;) {
    const n = readBlocking(fd, buf);
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw new UsageError(`${what} is larger than ${sizeText(maxBytes)}`, 'EINPUT');
    let text = carry + decoder.write(n === buf.length ? buf : buf.subarray(0, n));
    if (first) {
      text = stripBom(text);
      first = false;
    }
    const last = text.lastIndexOf('\n');
    if (maxLine !== Number.POSITIVE_INFINITY) {
      // every complete line of this piece, and the unfinished one, within the limit
      let start = 0;
      for (let i = text.indexOf('\n'); i !== -1 && i <= last; i = text.indexOf('\n', i + 1)) {
        if (i - start > maxLine) tooLong();
        lines++;
        start = i + 1;
      }
      if (text.length - start > maxLine) tooLong();
    }
    carry = text.slice(last + 1);
    if (last !== -1) yield text.slice(0, last + 1);
  }
  const rest = carry + decoder.end();
  if (rest) yield rest;
}
