/**
 * Time for the agent's services, replaceable in tests.
 *
 * Services never call setTimeout or Date.now themselves: protocol timers (a VRRP master-down
 * interval, a check's next run) go through the Clock they are given, so that a test drives them
 * with a ManualClock (advance by 3 s, see what fired, in order) instead of waiting, and so that
 * they measure intervals on a monotonic clock that a wall-clock step (NTP, an operator) cannot
 * move.
 */

/** A timer made by a Clock; only that clock can clear it. */
export type TimerHandle = { readonly __timer: unique symbol };

export interface Clock {
  /** Milliseconds on a monotonic clock (arbitrary origin): for intervals, never for dates. */
  now(): number;
  /** Call `fn` once, `ms` milliseconds from now. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  /** Cancel a timer that has not fired; a fired or cleared one is ignored. */
  clearTimer(timer: TimerHandle | undefined): void;
}

/** The real clock: performance.now() and Node's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (ms, fn) => setTimeout(fn, Math.max(0, ms)) as unknown as TimerHandle,
  clearTimer: (timer) => {
    if (timer !== undefined) clearTimeout(timer as unknown as NodeJS.Timeout);
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told: `advance(ms)` fires every timer that falls due, in order of
 * due time (then of creation), each with now() at its due time; timers set by a callback fire in
 * the same advance when they fall within it.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const seq = ++this.seq;
    this.timers.set(seq, { at: this.time + Math.max(0, ms), seq, fn });
    return seq as unknown as TimerHandle;
  }

  clearTimer(timer: TimerHandle | undefined): void {
    if (timer !== undefined) this.timers.delete(timer as unknown as number);
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing what falls due. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers.values()) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.timers.delete(next.seq);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
  }
}
