/**
 * The state file: one JSON document with a top-level `version` and one section per plugin.
 *
 * Reading never changes the file and needs no lock and no writable folder (early boot, a file on
 * read-only media): save replaces the file by rename, so a reader sees the old file or the new
 * one, whole. The file must be a regular file of at most 64 MiB (a FIFO, a device or a directory
 * is refused at once, never read). Writing is atomic (temporary file in the target's folder,
 * fsync, rename over the old file, fsync of the folder), creates the file with mode 0600 (it can
 * hold VRRP passwords), and is serialized by an flock on FILE.lock, which the kernel releases if
 * the writer dies. A state file that is a symbolic link is written through: the link stays, and
 * its target is replaced.
 */
import { constants as fsc, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ERROR_BRAND, HaError, UsageError, errnoCode } from '../errors.js';
import { STATE_LIMITS, openErrorText, readRegularFile } from '../lines.js';
import { LockOptions, acquireLock } from '../lock.js';
import { JsonSchema, SchemaProblem, validate } from './schema.js';

export const STATE_VERSION = 1;
export const DEFAULT_STATE_PATH = '/etc/ha/state.json';

export interface StateDocument {
  version: number;
  [section: string]: unknown;
}

/** The core part of the schema; plugins add their sections' schemas (see contract.ts). */
export const coreSchema: JsonSchema = {
  type: 'object',
  required: ['version'],
  properties: {
    $schema: { type: 'string' },
    version: { type: 'integer', const: STATE_VERSION, description: 'Format version of the state file.' },
  },
  patternProperties: {
    '^(?!version$)[a-z][a-z0-9-]*$': { type: 'object' },
  },
  additionalProperties: false,
};

/** `--state FILE`, then HA_STATE, then /etc/ha/state.json. */
export function resolveStatePath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag || env.HA_STATE || DEFAULT_STATE_PATH);
}

export class StateFileError extends UsageError {
  static readonly [ERROR_BRAND] = 'StateFileError';
  constructor(file: string, problem: SchemaProblem | string) {
    super(typeof problem === 'string' ? `state file ${file}: ${problem}` : `state file ${file}: ${problem.path}: ${problem.message}`, 'ESTATE');
  }
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `line ${line} column ${col}`;
}

/** Parse JSON text; a syntax error names the line and column; duplicate keys and "__proto__" are refused. */
export function parseState(file: string, text: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    const msg = (error as Error).message;
    const m = /position (\d+)/.exec(msg);
    const where = m ? ` at ${lineCol(text, Number(m[1]))}` : /end of JSON input/.test(msg) ? ` at ${lineCol(text, text.length)} (end of file)` : '';
    const reason = msg.replace(/^Unexpected/, 'unexpected').replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '');
    throw new StateFileError(file, `not valid JSON${where}: ${reason}`);
  }
  const dup = duplicateKey(text);
  if (dup) throw new StateFileError(file, `${dup.key === '__proto__' ? 'the key "__proto__" is not allowed' : `duplicate key "${dup.key}" (JSON keeps only the last one)`} at ${lineCol(text, dup.at)}`);
  return doc;
}

/**
 * The first key that appears twice in one object (or a "__proto__" key, which JavaScript objects
 * cannot hold as data), with its position; undefined when there is none. `text` is valid JSON.
 */
export function duplicateKey(text: string): { key: string; at: number } | undefined {
  const stack: Array<Set<string> | undefined> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) { // "
      const start = i;
      let j = i + 1;
      let escaped = false;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) { escaped = true; j++; continue; }
        if (d === 0x22) break;
      }
      i = j;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const raw = text.slice(start + 1, j);
        const key = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (key === '__proto__' || keys.has(key)) return { key, at: start };
        keys.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b) { // {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) { // [
      stack.push(undefined);
    } else if (c === 0x7d || c === 0x5d) { // } ]
      stack.pop();
    } else if (c === 0x2c) { // ,
      expectKey = stack[stack.length - 1] !== undefined;
    }
  }
  return undefined;
}

/** Check the document against a schema; throws on the first problem (all are in `.problems`). */
export function checkState(file: string, doc: unknown, schema: JsonSchema): StateDocument {
  const problems = validate(schema, doc);
  if (problems.length > 0) {
    const err = new StateFileError(file, problems[0]!);
    Object.assign(err, { problems });
    throw err;
  }
  return doc as StateDocument;
}

/**
 * Read a state file. A missing file is an empty state when `missingOk`, otherwise an error.
 * Returns the raw document (validation is the caller's, since it needs the plugins' schemas).
 */
export async function readState(file: string, options: { missingOk?: boolean } = {}): Promise<unknown> {
  let text: string;
  try {
    text = readRegularFile(file, `state file ${file}`, STATE_LIMITS);
  } catch (error) {
    if (error instanceof UsageError && error.code === 'ENOFILE' && options.missingOk) return { version: STATE_VERSION };
    throw error;
  }
  return parseState(file, text);
}

/** Serialize a state document: stable key order (version first), two-space indent, final newline. */
export function formatState(doc: StateDocument): string {
  const { version, $schema, ...sections } = doc;
  const ordered: Record<string, unknown> = {};
  if ($schema !== undefined) ordered.$schema = $schema;
  ordered.version = version;
  for (const key of Object.keys(sections).sort()) ordered[key] = sections[key];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/**
 * The file a write of `file` replaces: `file` itself, or, when it is a symbolic link (a chain of
 * them), the file the last link names, which may not exist yet. Throws on a link loop.
 */
export function writeTarget(file: string): string {
  let path = resolve(file);
  for (let hops = 0; ; hops++) {
    let st;
    try {
      st = lstatSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw new UsageError(openErrorText(`state file ${file}`, error), 'EINPUT');
    }
    if (!st.isSymbolicLink()) {
      if (!st.isFile()) throw new UsageError(`state file ${file} is not a regular file; nothing was written`, 'EINPUT');
      break;
    }
    if (hops >= 40) throw new UsageError(`state file ${file}: too many levels of symbolic links (a symlink loop)`, 'EINPUT');
    path = resolve(dirname(path), readlinkSync(path));
  }
  // the folder as the kernel names it, so that every way of naming the file takes the same lock
  try {
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return path;
  }
}

/**
 * Hold the state file's lock (an flock on TARGET.lock, TARGET being what a write replaces) while
 * `fn` runs. Another writer waits; one that died released its lock with its life.
 */
export async function withStateLock<T>(file: string, fn: () => Promise<T>, options: Partial<LockOptions> = {}): Promise<T> {
  const target = writeTarget(file);
  await ensureDir(target);
  const lock = await acquireLock(`${target}.lock`, { what: `state file ${file}`, ...options });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

async function ensureDir(file: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (run as root, or choose another file with --state FILE)'
      : code === 'EROFS' ? 'read-only file system' : (error as Error).message;
    throw new HaError(`cannot create the folder of state file ${file}: ${why}`, { code: errnoCode(code) });
  }
}

/**
 * Atomically replace `file` (through a symbolic link: its target) with `text`, mode 0600. Call
 * inside withStateLock: temporary files of writers killed before their rename are removed, which
 * is safe only while holding the lock they held.
 */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const target = writeTarget(file);
  const dir = dirname(target);
  await ensureDir(target);
  const prefix = `.${basename(target)}.`;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
  }
  const tmp = join(dir, `${prefix}${process.pid}.${Date.now().toString(36)}.tmp`);
  let fh;
  try {
    fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new HaError(`cannot write state file ${file}: ${code === 'EROFS' ? 'read-only file system' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`, { code: errnoCode(code) });
  }
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } catch (error) {
    await fh.close();
    await rm(tmp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new HaError(`cannot write state file ${file}: ${code === 'ENOSPC' ? 'no space left on the device' : code === 'EDQUOT' ? 'disk quota exceeded' : (error as Error).message}; the old file is unchanged`, { code: errnoCode(code) });
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new HaError(`cannot replace state file ${file}: ${(error as Error).message}; the old file is unchanged`, { code: errnoCode((error as NodeJS.ErrnoException).code) });
  }
  const dh = await open(dir, fsc.O_RDONLY);
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
