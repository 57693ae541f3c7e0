/**
 * The state file: one JSON document with a top-level `version` and one section per plugin.
 *
 * Reading never changes the file. Writing is atomic (temporary file in the same folder, fsync,
 * rename over the old file, fsync of the folder), creates the file with mode 0600 (it can hold VRRP
 * passwords), and is serialized by a lock file so that two `ha` processes cannot interleave.
 */
import { constants as fsc } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { HaError, UsageError } from '../errors.js';
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

/** Parse JSON text; a syntax error names the line and column. */
export function parseState(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const msg = (error as Error).message;
    const m = /position (\d+)/.exec(msg);
    const where = m ? ` at ${lineCol(text, Number(m[1]))}` : /end of JSON input/.test(msg) ? ` at ${lineCol(text, text.length)} (end of file)` : '';
    const reason = msg.replace(/^Unexpected/, 'unexpected').replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '');
    throw new StateFileError(file, `not valid JSON${where}: ${reason}`);
  }
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
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.missingOk) return { version: STATE_VERSION };
    if (code === 'ENOENT') throw new UsageError(`state file ${file} does not exist`, 'ENOENT');
    if (code === 'EISDIR') throw new UsageError(`state file ${file} is a directory`, 'EISDIR');
    if (code === 'EACCES') throw new UsageError(`state file ${file}: permission denied`, 'EACCES');
    throw new HaError(`state file ${file}: ${(error as Error).message}`);
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LockOptions {
  /** How long to wait for another writer, in ms (default 10 s). */
  timeoutMs?: number;
}

/**
 * Hold `FILE.lock` while `fn` runs. The lock file holds the owner's PID; a lock whose owner is dead
 * (killed mid-write) is taken over.
 */
export async function withStateLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  await ensureDir(file);
  for (;;) {
    try {
      await writeFile(lock, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new HaError(`cannot lock ${file}: ${(error as Error).message}`);
      const owner = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
      if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
        // stale: its owner died; remove it only if it is still the same file we judged stale
        const st = await stat(lock).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > 1000) await rm(lock, { force: true });
        else await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (Date.now() > deadline) throw new HaError(`state file ${file} is locked by another ha process (pid ${owner})`, { code: 'ELOCKED' });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

async function ensureDir(file: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (run as root, or choose another file with --state FILE)' : (error as Error).message;
    throw new HaError(`cannot create the folder of state file ${file}: ${why}`, { code: code ?? 'EFAILED' });
  }
}

/** Atomically replace `file` with `text` (mode 0600). Call inside withStateLock. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  await ensureDir(file);
  // temporary files left by writers that were killed before their rename
  const prefix = `.${basename(file)}.`;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = name.startsWith(prefix) && name.endsWith('.tmp') ? /^(\d+)\./.exec(name.slice(prefix.length)) : null;
    if (m && !alive(Number(m[1]))) await rm(join(dir, name), { force: true });
  }
  const tmp = join(dir, `${prefix}${process.pid}.${Date.now().toString(36)}.tmp`);
  const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } catch (error) {
    await fh.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  const dh = await open(dir, fsc.O_RDONLY);
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
