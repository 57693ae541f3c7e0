/**
 * The step engine: every change ha makes to the kernel is a list of steps, each able to undo
 * itself, run here. One place decides what happens on failure (the steps made are undone, newest
 * first) and on SIGINT/SIGTERM/SIGHUP (stop sending, then undo, or finish when that is shorter;
 * see signals.ts), and says it in one line.
 *
 * Consecutive steps that are each one netlink request on the same session go out pipelined
 * (NetlinkSession.bulk, with the step's own bulk options), which is what makes a restore of
 * thousands of objects fast; the signal is checked between datagrams.
 */
import { ERROR_BRAND, HaError, type ErrorCode } from './errors.js';
import type { BulkOptions, NetlinkSession, Outcome, Request } from './netlink/session.js';
import { signalExitCode, signalGuard } from './signals.js';

/** One change a plan makes, as people and `--json` see it. */
export interface Change {
  op: 'add' | 'delete' | 'change';
  /** e.g. "service 192.0.2.10:80/tcp" */
  object: string;
  /** e.g. "weight 1 -> 3" */
  detail?: string;
}

/** A change with the means to make it and to take it back. */
export interface Step extends Change {
  apply(): Promise<void>;
  undo(): Promise<void>;
  /**
   * When the change is one netlink request (and its undo one request), say so: consecutive such
   * steps on the same session are sent pipelined, with `bulk` options (window, messages per
   * datagram) when the step gives them. apply()/undo() must do the same as these requests.
   */
  netlink?: { session: NetlinkSession; request: Request; undo: Request | (() => Request); bulk?: BulkOptions };
}

/** A named list of steps (a state section's plan, or a command's change). */
export interface StepGroup {
  name: string;
  steps: Step[];
}

export interface RunOptions {
  /** Called after each step is made. */
  onStep?: (group: string, step: Step) => void;
  /**
   * On a signal: 'shorter' (the default) undoes what was made, or makes the rest when fewer steps
   * are left than were made; 'undo' always undoes.
   */
  onInterrupt?: 'shorter' | 'undo';
}

export interface RunFailure {
  group: string;
  change: Change;
  message: string;
  /** The step's own error. */
  error: unknown;
  /** How many of the steps made before it were undone, and what could not be. */
  undone: number;
  undoErrors: string[];
}

export interface RunInterruption {
  signal: NodeJS.Signals;
  /** Steps made when the signal was seen, and steps not yet made. */
  made: number;
  left: number;
  action: 'undone' | 'finished';
  /** For 'undone': how many were undone, and what could not be. */
  undone: number;
  undoErrors: string[];
}

export interface RunResult {
  /** Steps made (and kept). */
  applied: number;
  failure?: RunFailure;
  interrupted?: RunInterruption;
}

const stepChange = ({ op, object, detail }: Change): Change => (detail === undefined ? { op, object } : { op, object, detail });

/** Run the groups' steps in order. Never throws for a step's failure: the result says what happened. */
export async function runSteps(groups: StepGroup[], options: RunOptions = {}): Promise<RunResult> {
  const guard = signalGuard();
  const stop = (): boolean => guard?.stopRequested === true;
  const done: Step[] = [];
  const total = groups.reduce((n, g) => n + g.steps.length, 0);
  if (guard) guard.phase = 'applying';
  try {
    const outcome = await makeSteps(groups, 0, 0, done, options, stop);
    if (outcome.kind === 'failed') {
      if (guard) guard.phase = 'settling';
      const { undone, undoErrors } = await undoSteps(done);
      return { applied: 0, failure: failureOf(outcome, undone, undoErrors) };
    }
    if (outcome.kind === 'stopped') {
      if (guard) guard.phase = 'settling';
      const made = done.length;
      const left = total - made;
      const signal = guard!.signal!;
      if ((options.onInterrupt ?? 'shorter') === 'shorter' && left < made) {
        const rest = await makeSteps(groups, outcome.groupIndex, outcome.stepIndex, done, options, () => false);
        if (rest.kind === 'done') return { applied: done.length, interrupted: { signal, made, left, action: 'finished', undone: 0, undoErrors: [] } };
        if (rest.kind === 'failed') {
          const { undone, undoErrors } = await undoSteps(done);
          return {
            applied: 0,
            failure: failureOf(rest, undone, undoErrors),
            interrupted: { signal, made, left, action: 'undone', undone, undoErrors },
          };
        }
      }
      const { undone, undoErrors } = await undoSteps(done);
      return { applied: 0, interrupted: { signal, made, left, action: 'undone', undone, undoErrors } };
    }
    return { applied: done.length };
  } finally {
    if (guard) guard.phase = 'done';
  }
}

function failureOf(o: { group: string; step: Step; error: unknown }, undone: number, undoErrors: string[]): RunFailure {
  return { group: o.group, change: stepChange(o.step), message: (o.error as Error)?.message ?? String(o.error), error: o.error, undone, undoErrors };
}

type MakeOutcome =
  | { kind: 'done' }
  | { kind: 'failed'; group: string; step: Step; error: unknown }
  | { kind: 'stopped'; groupIndex: number; stepIndex: number };

/** The steps from i on that are netlink requests on the same session as step i: sent as one pipelined run. */
function netlinkRun(steps: Step[], i: number): { group: Step[]; end: number } {
  const session = steps[i]!.netlink!.session;
  let end = i;
  while (end < steps.length && steps[end]!.netlink?.session === session) end++;
  return { group: steps.slice(i, end), end };
}

/** Make steps from (groupIndex, stepIndex) on, appending each made one to `done`. */
async function makeSteps(groups: StepGroup[], g0: number, i0: number, done: Step[], options: RunOptions, stop: () => boolean): Promise<MakeOutcome> {
  for (let g = g0; g < groups.length; g++) {
    const { name, steps } = groups[g]!;
    for (let i = g === g0 ? i0 : 0; i < steps.length;) {
      if (stop()) return { kind: 'stopped', groupIndex: g, stepIndex: i };
      const first = steps[i]!;
      if (first.netlink) {
        // a run of netlink steps on one session goes out pipelined
        const { group, end: j } = netlinkRun(steps, i);
        // each request is read when bulk is about to send it, so a step may build it then (an
        // IPVS step does) and only a window of them is alive at once; one that cannot be built
        // ends the run there, as a failure of that step (the steps made before it are undone)
        let unbuilt: { k: number; error: unknown } | undefined;
        const requests = {
          *[Symbol.iterator](): Iterator<Request> {
            for (let k = 0; k < group.length; k++) {
              let r: Request;
              try {
                r = group[k]!.netlink!.request;
              } catch (error) {
                unbuilt = { k, error };
                return;
              }
              yield r;
            }
          },
        };
        const outcomes = await first.netlink.session.bulk(requests, { ...first.netlink.bulk, shouldStop: stop });
        let failed: { step: Step; error: unknown } | undefined;
        let sent = 0;
        for (let k = 0; k < group.length; k++) {
          const o: Outcome | undefined = outcomes[k];
          if (!o) break;
          sent = k + 1;
          if (o.ok) {
            done.push(group[k]!);
            options.onStep?.(name, group[k]!);
          } else if (!failed) {
            failed = { step: group[k]!, error: o.error };
          }
        }
        if (failed) return { kind: 'failed', group: name, step: failed.step, error: failed.error };
        const u = unbuilt as { k: number; error: unknown } | undefined;
        if (u && sent === u.k) return { kind: 'failed', group: name, step: group[u.k]!, error: u.error };
        if (sent < group.length) return { kind: 'stopped', groupIndex: g, stepIndex: i + sent };
        i = j;
        continue;
      }
      try {
        await first.apply();
      } catch (error) {
        return { kind: 'failed', group: name, step: first, error };
      }
      done.push(first);
      options.onStep?.(name, first);
      i++;
    }
  }
  return { kind: 'done' };
}

/** Undo made steps, newest first; netlink steps in pipelined runs. Never throws. */
async function undoSteps(done: Step[]): Promise<{ undone: number; undoErrors: string[] }> {
  const undoErrors: string[] = [];
  let undone = 0;
  const todo = [...done].reverse();
  for (let i = 0; i < todo.length;) {
    const first = todo[i]!;
    if (first.netlink) {
      const { group, end: j } = netlinkRun(todo, i);
      const undoRequest = (s: Step): Request => {
        const u = s.netlink!.undo;
        return typeof u === 'function' ? u() : u;
      };
      const outcomes = await first.netlink.session.bulk(group.map(undoRequest), { ...first.netlink.bulk, stopOnError: false });
      group.forEach((s, k) => {
        const o = outcomes[k];
        if (o?.ok) undone++;
        else undoErrors.push(`${s.op} ${s.object}: ${o ? o.error.message : 'not sent'}`);
      });
      i = j;
      continue;
    }
    try {
      await first.undo();
      undone++;
    } catch (undoError) {
      undoErrors.push(`${first.op} ${first.object}: ${(undoError as Error).message}`);
    }
    i++;
  }
  return { undone, undoErrors };
}

const count = (n: number): string => n.toLocaleString('en-US');

/** What undoing said, for a message: "undid the 12 change(s) made before it" or what failed. */
function undoText(undone: number, undoErrors: string[], before: string): string {
  if (undoErrors.length === 0) return `undid the ${count(undone)} change(s) made ${before}`;
  const shown = undoErrors.slice(0, 3).join('; ');
  return `undo failed for ${count(undoErrors.length)} change(s): ${shown}${undoErrors.length > 3 ? `; and ${count(undoErrors.length - 3)} more` : ''}`;
}

/** A run that failed or was interrupted, as the one error a command ends with. */
export class RunError extends HaError {
  static readonly [ERROR_BRAND] = 'RunError';
  override name = 'RunError';
  constructor(readonly result: RunResult, what: { action: string; target: string }) {
    const i = result.interrupted;
    const f = result.failure;
    let message: string;
    let exitCode = 1;
    let code: ErrorCode = 'EFAILED';
    if (i) {
      exitCode = signalExitCode(i.signal);
      code = 'EINTR';
      const at = `after ${count(i.made)} of ${count(i.made + i.left)} change(s)`;
      if (i.action === 'finished') {
        message = `interrupted by ${i.signal} ${at}: fewer were left than made, so ha made the other ${count(i.left)}; ${what.target} now matches what was asked`;
      } else if (f) {
        message = `interrupted by ${i.signal} ${at}; finishing failed at ${f.change.op} ${f.change.object}: ${f.message}; ${undoText(f.undone, f.undoErrors, 'so far')}`;
      } else if (i.undoErrors.length === 0) {
        message = `interrupted by ${i.signal} ${at}: ${i.made === 0 ? 'nothing had been changed' : `undid them; ${what.target} is as it was`}`;
      } else {
        message = `interrupted by ${i.signal} ${at}; ${undoText(i.undone, i.undoErrors, 'before it')}`;
      }
    } else {
      code = 'ERESTORE';
      message = `${what.action} failed at ${f!.change.op} ${f!.change.object}: ${f!.message}; ${undoText(f!.undone, f!.undoErrors, 'before it')}`;
    }
    super(message, { exitCode, code });
  }
}

/**
 * Run steps and throw on failure or interruption; returns how many were made. When the first step
 * failed (nothing had been made) the step's own error is thrown as it is: "route ... already
 * exists" says it all.
 */
export async function applySteps(groups: StepGroup[], what: { action: string; target: string }, options: RunOptions = {}): Promise<number> {
  const result = await runSteps(groups, options);
  const f = result.failure;
  if (f && !result.interrupted && f.undone === 0 && f.undoErrors.length === 0) throw f.error;
  if (f || result.interrupted) throw new RunError(result, what);
  return result.applied;
}

/**
 * Make steps as one change, all or nothing: on the first failure the ones made are undone, newest
 * first, and the failure is thrown. For a step that is itself several requests (a state section's
 * "create bond" is create, enslave each port, set the primary, bring it up): the step engine runs
 * it whole, and the signal is looked at before and after it.
 */
export async function applyAllOrNone(steps: Step[]): Promise<void> {
  const done: Step[] = [];
  for (const step of steps) {
    try {
      await step.apply();
    } catch (error) {
      await undoSteps(done);
      throw error;
    }
    done.push(step);
  }
}
