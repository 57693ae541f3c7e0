/**
 * Errors with exit codes. Every error `ha` shows a person is one line naming what was wrong and what
 * is accepted; the base command prints it without a stack trace unless DEBUG matches `ha*`.
 *
 * Exit codes (DESIGN.md): 0 success; 1 the operation failed (kernel refused, object missing);
 * 2 invalid usage or input, nothing changed.
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class HaError extends Error {
  override name = 'HaError';
  readonly exitCode: number;
  /** A stable machine-readable code for `--json` error output. */
  readonly code: string;
  constructor(message: string, options: { exitCode?: number; code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? EXIT_FAILED;
    this.code = options.code ?? 'EFAILED';
  }
}

/** Invalid usage or input: exit 2, and the caller guarantees nothing was changed. */
export class UsageError extends HaError {
  override name = 'UsageError';
  constructor(message: string, code = 'EUSAGE') {
    super(message, { exitCode: EXIT_USAGE, code });
  }
}

/** The operation was attempted and failed: exit 1. */
export class OperationError extends HaError {
  override name = 'OperationError';
  constructor(message: string, code = 'EFAILED', cause?: unknown) {
    super(message, { exitCode: EXIT_FAILED, code, cause });
  }
}

/** The running kernel lacks something a command needs (a module, a netlink family). */
export class UnavailableError extends HaError {
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
