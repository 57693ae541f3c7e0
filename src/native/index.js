/**
 * ha's native addon, loaded on first use (a command that never locks or opens a raw socket never
 * loads it). See src/ha_native.c for what each call does; every call returns -errno on failure.
 */
import { createRequire } from 'node:module';

let addon;
/** The addon's functions; throws a one-line error naming the fix when it was not built. */
export function native() {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    addon = require('./build/Release/ha_native.node');
  } catch (error) {
    const e = new Error(`ha's native addon is not built (${error.code ?? error.message}): run npm ci (it needs python3, make and a C compiler)`);
    e.code = 'ENATIVE';
    throw e;
  }
  return addon;
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const SCHED_OTHER = 0;
export const SCHED_FIFO = 1;
export const SCHED_RR = 2;
export const SCHED_RESET_ON_FORK = 0x40000000;
