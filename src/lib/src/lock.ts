/**
 * Locks the kernel releases when their holder dies: flock(2) on a lock file.
 *
 * A PID file is not a lock: after a crash or a power loss its PID can belong to any process, and
 * every later save or restore (the one at boot among them) would wait for a stranger. An flock is
 * held by an open file description, so it goes away with the process that held it, kill -9 or
 * power loss included; a lock file left behind is just a file, and the next taker locks it.
 *
 * The file is removed on release (while still locked), and a taker checks after locking that the
 * file it locked is still the one at the path (another holder may have removed it meanwhile), so
 * two processes can never both believe they hold it. Who holds a lock is read from the kernel
 * (/proc/locks), never from the file alone: a live process that merely has the PID the file names
 * is never reported as its holder.
 *
 * Two kinds are used: the state file's lock (FILE.lock next to the file, for writers of the file)
 * and the kernel's locks, one per state section and network namespace, under $HA_RUN_DIR/lock
 * (default /run/ha/lock), which every command that changes that part of the kernel holds.
 */
import { closeSync, constants as fsc, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_EX, LOCK_NB, LOCK_UN, native } from '@ha/native';
import { HaError, errnoCode } from './errors.js';

const EWOULDBLOCK = 11;

export interface LockHolder {
  pid: number;
  /** Its command line, from /proc (what the process is, whatever the lock file says). */
  command?: string;
  /** When it took the lock, from the lock file (ISO time), if it wrote one. */
  since?: string;
}

export interface LockOptions {
  /** What the lock protects, for messages: "the ipvs table", "state file /etc/ha/state.json". */
  what: string;
  /** How long to wait for the holder, in ms (default: $HA_LOCK_TIMEOUT seconds, else 60 s). */
  timeoutMs?: number;
  /** Called once when the lock is busy and we start waiting (default: one line on standard error). */
  onWait?: (holder: LockHolder | undefined) => void;
}

const held = new Set<HeldLock>();
let exitHook = false;

export class HeldLock {
  private released = false;

  constructor(readonly path: string, private readonly fd: number) {
    held.add(this);
    if (!exitHook) {
      exitHook = true;
      // however the process ends (an error, process.exit, a signal handler that exits), the file
      // goes; the flock itself would go anyway
      process.on('exit', () => releaseAll());
    }
  }

  /** Remove the file and unlock (synchronous: safe in exit and signal paths). Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
    native().flock(this.fd, LOCK_UN);
    closeSync(this.fd);
  }
}

/** Release every lock this process holds. */
export function releaseAll(): void {
  for (const l of [...held]) l.release();
}

function timeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.HA_LOCK_TIMEOUT);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : 60_000;
}

/** Who holds an flock on this file, according to the kernel; undefined when nobody (or unknown). */
export function lockHolder(path: string): LockHolder | undefined {
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch {
    return undefined;
  }
  let table: string;
  try {
    table = readFileSync('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  const ino = st.ino.toString();
  // "1: FLOCK  ADVISORY  WRITE 1234 fd:00:5678 0 EOF" (a waiter's line starts "1: -> FLOCK")
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] !== 'FLOCK') continue;
    const id = f[5]?.split(':');
    if (!id || id[2] !== ino) continue;
    const pid = Number(f[4]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const holder: LockHolder = { pid };
    try {
      holder.command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      // gone since, or not visible from here
    }
    try {
      const info = JSON.parse(readFileSync(path, 'utf8')) as { pid?: number; since?: string };
      if (info.pid === pid && typeof info.since === 'string') holder.since = info.since;
    } catch {
      // not written yet, or not ours
    }
    return holder;
  }
  return undefined;
}

export function describeHolder(h: LockHolder | undefined): string {
  if (!h) return 'another process';
  const cmd = h.command ? ` (${h.command.length > 80 ? `${h.command.slice(0, 77)}...` : h.command})` : '';
  return `pid ${h.pid}${cmd}${h.since ? ` since ${h.since}` : ''}`;
}

/** Try once: the lock, or undefined when somebody else holds it. */
function tryLock(path: string): HeldLock | undefined {
  const { flock } = native();
  for (;;) {
    const fd = openSync(path, fsc.O_RDWR | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o600);
    const rc = flock(fd, LOCK_EX | LOCK_NB);
    if (rc === -EWOULDBLOCK) {
      closeSync(fd);
      return undefined;
    }
    if (rc < 0) {
      closeSync(fd);
      throw new HaError(`cannot lock ${path}: errno ${-rc}`, { code: 'ELOCK' });
    }
    // the holder before us may have removed the file after we opened it: then we locked a file
    // nobody else will look at, so start again with the one at the path
    let same = false;
    try {
      const a = fstatSync(fd);
      const b = statSync(path);
      same = a.ino === b.ino && a.dev === b.dev;
    } catch {
      same = false;
    }
    if (!same) {
      closeSync(fd);
      continue;
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${JSON.stringify({ pid: process.pid, since: new Date().toISOString(), command: process.argv.slice(1).join(' ') })}\n`, 0);
    return new HeldLock(path, fd);
  }
}

/**
 * Take the lock at `path`, waiting for its holder up to the timeout. Throws (exit 1, ELOCKED)
 * naming the holder when it is not released in time.
 */
export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock> {
  const deadline = Date.now() + (options.timeoutMs ?? timeoutFromEnv());
  let waited = false;
  for (;;) {
    let lock: HeldLock | undefined;
    try {
      lock = tryLock(path);
    } catch (error) {
      if (error instanceof HaError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (run as root)'
        : code === 'EROFS' ? 'read-only file system' : code === 'ELOOP' ? 'it is a symbolic link' : (error as Error).message;
      throw new HaError(`cannot lock ${options.what} (${path}): ${why}`, { code: code === undefined ? 'ELOCK' : errnoCode(code) });
    }
    if (lock) return lock;
    const holder = lockHolder(path);
    if (Date.now() >= deadline) {
      throw new HaError(`${options.what} is locked by ${describeHolder(holder)}; gave up waiting (HA_LOCK_TIMEOUT sets how long, in seconds)`, { code: 'ELOCKED' });
    }
    if (!waited) {
      waited = true;
      if (options.onWait) options.onWait(holder);
      else process.stderr.write(`ha: waiting for ${options.what}: locked by ${describeHolder(holder)}\n`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** $HA_RUN_DIR, default /run/ha: runtime files (kernel locks, the agent's socket, realserver records). */
export function runDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HA_RUN_DIR || '/run/ha';
}

/** This process's network namespace, as the kernel names it (the inode of /proc/self/ns/net). */
export function netnsId(): string {
  try {
    return `net${statSync('/proc/self/ns/net').ino}`;
  } catch {
    return 'net0';
  }
}

/**
 * The lock of one part of the kernel (a state section: "ipvs", "routes", "bonds"…) in this
 * network namespace: every command that changes that part holds it, so a second one waits.
 */
export async function lockKernel(section: string, options: Omit<LockOptions, 'what'> & { what?: string } = {}): Promise<HeldLock> {
  const dir = join(runDir(), 'lock');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (changing the kernel needs root)' : (error as Error).message;
    throw new HaError(`cannot create ${dir} for the kernel locks: ${why}`, { code: code === undefined ? 'ELOCK' : errnoCode(code) });
  }
  return acquireLock(join(dir, `${section}.${netnsId()}.lock`), { what: options.what ?? `the kernel's ${section}`, ...options });
}
