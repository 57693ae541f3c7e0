/**
 * Errors with exit codes. Every error `ha` shows a person is one line naming what was wrong and what
 * is accepted; the base command prints it without a stack trace unless DEBUG matches `ha*`.
 *
 * Exit codes (README, ha(1)): 0 success; 1 the operation failed (kernel refused, object missing);
 * 2 invalid usage or input, nothing changed; 128 + n after signal n.
 *
 * The `code` of `--json` errors is one of a closed set, each with one meaning and one exit code:
 * ha's own codes below, or the name of the errno the kernel (or the system) answered with, which
 * is always a failure (exit 1): EEXIST, ENOENT, ESRCH, EINVAL… say what the kernel said.
 */
import { constants } from 'node:os';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** ha's codes for invalid usage or input (exit 2): nothing was changed. */
export const USAGE_CODES = {
  EUSAGE: 'invalid usage: a flag, an argument or a value is wrong',
  EINPUT: 'an input file or standard input cannot be used (not a regular file, too large, a line too long, unreadable)',
  ENOFILE: 'a file that was named does not exist',
  ESTATE: 'the state file is not valid (its JSON path is named)',
  ESECTION: 'the state file has a section no installed plugin manages',
  ENOCOMMAND: 'no such command',
} as const;

/** ha's codes for failures (exit 1) that are not one errno. */
export const FAILURE_CODES = {
  EFAILED: 'the operation failed',
  ERESTORE: 'a change failed midway; the changes made before it were undone',
  EUNAVAILABLE: 'the running kernel lacks something needed (a module, a netlink family)',
  ELOCKED: 'another process held a lock for longer than HA_LOCK_TIMEOUT',
  ELOCK: 'a lock could not be taken (permission, read-only file system)',
  ECONFLICT: 'the system is in a state the change cannot be made in (named in the message)',
  ENOTBOND: 'the interface named is not a bond',
  ENONETNS: 'the network namespace named does not exist',
  EINTR: 'interrupted by a signal (exit 128 + the signal\'s number)',
  ENOAGENT: 'no ha agent answers on its control socket (start one with ha agent run)',
} as const;

export type UsageCode = keyof typeof USAGE_CODES;
export type ErrnoName = keyof typeof constants.errno;
export type FailureCode = keyof typeof FAILURE_CODES | ErrnoName;
export type ErrorCode = UsageCode | FailureCode;

/** An errno name for a code read at run time (a system call's error); EFAILED when it is none. */
export function errnoCode(code: string | undefined): FailureCode {
  return code !== undefined && code in constants.errno ? (code as ErrnoName) : 'EFAILED';
}

/**
 * The class an error was made by, as a name every copy of this module agrees on. ha's own modules
 * run from one bundle (dist/ha.cjs) while a plugin installed on its own imports @ha/lib's files:
 * two copies of these classes. instanceof looks at this brand, so that an error a plugin throws
 * from its copy is still the HaError (or UsageError…) the other copy checks for.
 */
export const ERROR_BRAND = Symbol.for('ha.error.class');
const BRAND = ERROR_BRAND;

type Branded = { [BRAND]?: string };

/** instanceof for a branded error class: the class's own brand anywhere in the value's prototype chain. */
function brandedInstance(cls: Function, value: unknown): boolean {
  if (!Object.hasOwn(cls, BRAND)) return Function.prototype[Symbol.hasInstance].call(cls, value);
  const brand = (cls as unknown as Branded)[BRAND];
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  for (let p = Object.getPrototypeOf(value) as { constructor?: Function } | null; p; p = Object.getPrototypeOf(p) as typeof p) {
    const c = p.constructor;
    if (c === cls || (c !== undefined && Object.hasOwn(c, BRAND) && (c as unknown as Branded)[BRAND] === brand)) return true;
  }
  return false;
}

export class HaError extends Error {
  static readonly [BRAND] = 'HaError';
  static override [Symbol.hasInstance](value: unknown): boolean {
    return brandedInstance(this, value);
  }

  override name = 'HaError';
  readonly exitCode: number;
  /** A stable machine-readable code for `--json` error output. */
  readonly code: ErrorCode;
  constructor(message: string, options: { exitCode?: number; code?: ErrorCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? EXIT_FAILED;
    this.code = options.code ?? 'EFAILED';
  }
}

/** Invalid usage or input: exit 2, and the caller guarantees nothing was changed. */
export class UsageError extends HaError {
  static readonly [BRAND] = 'UsageError';
  override name = 'UsageError';
  constructor(message: string, code: UsageCode = 'EUSAGE') {
    super(message, { exitCode: EXIT_USAGE, code });
  }
}

/** The operation was attempted and failed: exit 1. */
export class OperationError extends HaError {
  static readonly [BRAND] = 'OperationError';
  override name = 'OperationError';
  constructor(message: string, code: FailureCode = 'EFAILED', cause?: unknown) {
    super(message, { exitCode: EXIT_FAILED, code, cause });
  }
}

/** The running kernel lacks something a command needs (a module, a netlink family). */
export class UnavailableError extends HaError {
  static readonly [BRAND] = 'UnavailableError';
  override name = 'UnavailableError';
  constructor(message: string) {
    super(message, { exitCode: EXIT_FAILED, code: 'EUNAVAILABLE' });
  }
}

/** Is DEBUG set so that `ha` internals should print stack traces? (DEBUG=ha*, ha:*, *) */
export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.DEBUG;
  if (!v) return false;
  return v.split(/[\s,]+/).some((p) => p === '*' || p === 'ha' || p.startsWith('ha*') || p.startsWith('ha:'));
}
