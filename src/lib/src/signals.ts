/**
 * SIGINT, SIGTERM and SIGHUP while a command changes the kernel.
 *
 * A command that is about to change something installs the guard (HaCommand does, when it takes
 * a kernel lock). Until the first change is sent a signal ends the process at once: nothing was
 * changed, the locks go with it, and one line says so. While changes are being made (the step
 * engine, steps.ts, says when) a signal only asks the engine to stop: it stops sending, then
 * undoes what it made or, when fewer changes are left than were made, makes the rest, and the
 * command ends with one line saying which and exit status 128 + the signal's number. A signal
 * that comes while undoing or finishing is ignored with a line saying so: leaving the kernel
 * half-changed is the one outcome that is never acceptable. After the last change a signal ends
 * the process at once: there is nothing to undo.
 */
import { constants } from 'node:os';
import { releaseAll } from './lock.js';

export type GuardPhase = 'idle' | 'applying' | 'settling' | 'done';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type GuardedSignal = (typeof SIGNALS)[number];

export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 1);
}

export class SignalGuard {
  /** The first signal received while applying, if any: the engine stops when it sees it. */
  signal?: GuardedSignal;
  phase: GuardPhase = 'idle';
  private readonly handler = (s: NodeJS.Signals): void => this.received(s as GuardedSignal);

  constructor(private readonly bin = 'ha') {
    for (const s of SIGNALS) process.on(s, this.handler);
  }

  /** Has a signal asked the running change to stop? */
  get stopRequested(): boolean {
    return this.signal !== undefined;
  }

  private received(s: GuardedSignal): void {
    switch (this.phase) {
      case 'idle':
        releaseAll();
        process.stderr.write(`${this.bin}: interrupted by ${s} before any change to the kernel; nothing was changed\n`);
        process.exit(signalExitCode(s));
        break;
      case 'done':
        releaseAll();
        process.stderr.write(`${this.bin}: interrupted by ${s} after every change was made; nothing is left half-done\n`);
        process.exit(signalExitCode(s));
        break;
      case 'applying':
        if (this.signal === undefined) this.signal = s;
        else process.stderr.write(`${this.bin}: ${s} again: already stopping\n`);
        break;
      case 'settling':
        process.stderr.write(`${this.bin}: ${s} ignored: the kernel is being put back in a consistent state, which must finish\n`);
        break;
    }
  }

  uninstall(): void {
    for (const s of SIGNALS) process.off(s, this.handler);
    if (current === this) current = undefined;
  }
}

let current: SignalGuard | undefined;

/** Install the guard for this process (once; later calls return the same one). */
export function guardSignals(bin?: string): SignalGuard {
  current ??= new SignalGuard(bin);
  return current;
}

/** The installed guard, if a command installed one. */
export function signalGuard(): SignalGuard | undefined {
  return current;
}
