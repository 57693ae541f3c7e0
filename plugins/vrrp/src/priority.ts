/**
 * Tracker arithmetic: what keepalived computes from track_interface, track_script, track_file
 * (and, for us, the health-check plugin's checks) to get an instance's effective priority or
 * put it in FAULT. Pure code: the registry below only stores what sources push and calls back.
 *
 * The rules, as keepalived 2.2 applies them (vrrp_track.c), with m = -1 for `reverse`, else 1:
 * - weight 0: the tracked object failing (or, with reverse, being OK) means FAULT.
 * - weight w > 0: adds w x m while the object is OK, nothing while it has failed.
 * - weight w < 0: adds w x m while the object has failed, nothing while it is OK.
 *   (So `reverse` flips the sign of the adjustment and the state it applies in.)
 * - track_file: value x weight x m, limited to -254..253; -254 or less means FAULT. With weight
 *   0, a non-zero value means FAULT (with reverse: a zero value).
 * - effective = clamp(base + sum, 1, 254); the address owner (base 255) stays 255 whatever the
 *   weights say, but its FAULT trackers still apply.
 * A tracker with no result yet contributes nothing; a weight-0 one holds the instance in FAULT
 * until its first result (keepalived holds it in INIT, which takes no part in the protocol either).
 */
import type { MachineEvent } from './types.js';

/** 'check' trackers come from the health-check plugin; they behave as scripts (ok / failed). */
export type TrackerKind = 'interface' | 'file' | 'script' | 'check';

export interface TrackerState {
  kind: TrackerKind;
  name: string;
  weight: number;
  reverse: boolean;
  /** interface: link up; script/check: passing. Undefined: no result yet. */
  ok?: boolean;
  /** file: the integer the file holds (undefined or unreadable: 0). */
  value?: number;
}

export interface Contribution {
  kind: TrackerKind;
  name: string;
  /** What it adds to the base priority now (0 for FAULT trackers and for the owner). */
  contribution: number;
  /** This tracker puts the instance in FAULT. */
  fault: boolean;
}

export interface EffectivePriority {
  priority: number;
  fault: boolean;
  /** The first FAULT tracker's reason ("tracked interface eth1 down"). */
  faultReason?: string;
  contributions: Contribution[];
}

export const PRIORITY_OWNER = 255;
const FILE_MIN = -254;
const FILE_MAX = 253;

const OK_WORDS: Record<TrackerKind, [ok: string, failed: string]> = {
  interface: ['up', 'down'],
  script: ['succeeded', 'failed'],
  check: ['up', 'down'],
  file: ['ok', 'failed'],
};

function label(t: TrackerState): string {
  return `tracked ${t.kind} ${t.name}`;
}

/** One ok/failed tracker (interface, script, check). */
function evaluateBoolean(t: TrackerState): Contribution & { reason?: string } {
  const base = { kind: t.kind, name: t.name };
  if (t.ok === undefined) {
    return t.weight === 0
      ? { ...base, contribution: 0, fault: true, reason: `${label(t)} has no result yet` }
      : { ...base, contribution: 0, fault: false };
  }
  const m = t.reverse ? -1 : 1;
  if (t.weight === 0) {
    const fault = t.ok !== (m === 1);
    const word = OK_WORDS[t.kind][t.ok ? 0 : 1];
    return fault ? { ...base, contribution: 0, fault, reason: `${label(t)} ${word}${t.reverse ? ' (reverse)' : ''}` } : { ...base, contribution: 0, fault };
  }
  const applies = t.ok ? t.weight > 0 : t.weight < 0;
  return { ...base, contribution: applies ? t.weight * m : 0, fault: false };
}

/** A track_file: value x weight x m, or FAULT. */
function evaluateFile(t: TrackerState): Contribution & { reason?: string } {
  const base = { kind: t.kind, name: t.name };
  const value = Number.isFinite(t.value) ? Math.trunc(t.value as number) : 0;
  const m = t.reverse ? -1 : 1;
  if (t.weight === 0) {
    const fault = (value === 0) !== (m === 1);
    return fault ? { ...base, contribution: 0, fault, reason: `${label(t)} value ${value}${t.reverse ? ' (reverse)' : ''}` } : { ...base, contribution: 0, fault };
  }
  const status = Math.min(FILE_MAX, Math.max(FILE_MIN, value * t.weight * m));
  if (status <= FILE_MIN) {
    return { ...base, contribution: 0, fault: true, reason: `${label(t)} value ${value} x weight ${t.weight * m} <= ${FILE_MIN}` };
  }
  return { ...base, contribution: status, fault: false };
}

/** The effective priority and FAULT state of an instance with priority `base` tracking `trackers`. */
export function effectivePriority(base: number, trackers: readonly TrackerState[]): EffectivePriority {
  const owner = base === PRIORITY_OWNER;
  let sum = 0;
  let faultReason: string | undefined;
  const contributions: Contribution[] = [];
  for (const t of trackers) {
    const { reason, ...c } = t.kind === 'file' ? evaluateFile(t) : evaluateBoolean(t);
    if (c.fault && faultReason === undefined) faultReason = reason;
    if (owner) c.contribution = 0;
    sum += c.contribution;
    contributions.push(c);
  }
  const priority = owner ? PRIORITY_OWNER : Math.min(PRIORITY_OWNER - 1, Math.max(1, base + sum));
  const result: EffectivePriority = { priority, fault: faultReason !== undefined, contributions };
  if (faultReason !== undefined) result.faultReason = faultReason;
  return result;
}

/**
 * The machine events that take an instance from one tracker evaluation to the next: a 'fault'
 * event when the FAULT state changes, a 'priority' event when the priority does (FAULT first,
 * so a recovering instance comes back with its new priority already set).
 */
export function priorityEvents(prev: EffectivePriority | undefined, next: EffectivePriority): MachineEvent[] {
  const events: MachineEvent[] = [];
  const wasFault = prev?.fault ?? false;
  if (next.fault && (!wasFault || prev?.faultReason !== next.faultReason)) {
    events.push({ type: 'fault', failed: true, reason: next.faultReason ?? 'tracker fault' });
  }
  if (prev === undefined || prev.priority !== next.priority) events.push({ type: 'priority', effective: next.priority });
  if (!next.fault && wasFault) {
    events.push({ type: 'fault', failed: false, reason: `trackers recovered (was: ${prev?.faultReason ?? 'fault'})` });
  }
  return events;
}

/** What an instance tracks: a tracker by kind and name, with its weight for this instance. */
export interface TrackerRef {
  kind: TrackerKind;
  name: string;
  weight: number;
  reverse: boolean;
}

export type TrackerUpdate = { ok: boolean } | { value: number };

interface Subscription {
  trackers: TrackerRef[];
  callback: (states: TrackerState[]) => void;
}

const key = (kind: TrackerKind, name: string): string => `${kind}\u0000${name}`;

/**
 * Tracked objects by kind and name, fed by their sources (link watcher, script runner, file
 * watcher, the check plugin), and the instances that track them. A source registers a tracker,
 * then pushes results; every instance tracking it is called back with the current state of all
 * its trackers (compute effectivePriority from them). An instance may track a name nobody has
 * registered yet (a check the check plugin will start later): it stays "no result yet" until
 * the source registers it and pushes a result; unregister returns it to that.
 */
export class TrackerRegistry {
  readonly #values = new Map<string, { ok?: boolean; value?: number }>();
  readonly #subs = new Map<string, Subscription>();

  /** Declare a tracker (idempotent: an existing one keeps its result unless `initial` is given). */
  register(kind: TrackerKind, name: string, initial?: { ok?: boolean; value?: number }): void {
    const k = key(kind, name);
    const had = this.#values.get(k);
    if (had && initial === undefined) return;
    this.#values.set(k, { ...initial });
    if (!sameResult(had ?? {}, initial ?? {})) this.#notify(kind, name);
  }

  /** Forget a tracker: its trackers report "no result yet" again. */
  unregister(kind: TrackerKind, name: string): void {
    const k = key(kind, name);
    const had = this.#values.get(k);
    if (!this.#values.delete(k)) return;
    if (had && (had.ok !== undefined || had.value !== undefined)) this.#notify(kind, name);
  }

  has(kind: TrackerKind, name: string): boolean {
    return this.#values.has(key(kind, name));
  }

  /** The current result of a tracker, or undefined when it is not registered. */
  get(kind: TrackerKind, name: string): { ok?: boolean; value?: number } | undefined {
    const v = this.#values.get(key(kind, name));
    return v && { ...v };
  }

  /** A source pushes a result; instances are called back only when it changed. */
  update(kind: TrackerKind, name: string, update: TrackerUpdate): void {
    const k = key(kind, name);
    const had = this.#values.get(k);
    if (!had) throw new RangeError(`tracker ${kind} ${name} is not registered`);
    const next = 'ok' in update ? { ...had, ok: update.ok } : { ...had, value: update.value };
    if (sameResult(had, next)) return;
    this.#values.set(k, next);
    this.#notify(kind, name);
  }

  /**
   * Track `trackers` for `instance` (replacing what it tracked before); `callback` gets the
   * states of all of them whenever one changes. Returns the states now and an unsubscribe.
   */
  subscribe(instance: string, trackers: readonly TrackerRef[], callback: (states: TrackerState[]) => void):
    { states: TrackerState[]; unsubscribe: () => void } {
    for (const t of trackers) checkRef(t);
    const sub: Subscription = { trackers: trackers.map((t) => ({ ...t })), callback };
    this.#subs.set(instance, sub);
    return {
      states: this.states(instance),
      unsubscribe: () => { if (this.#subs.get(instance) === sub) this.#subs.delete(instance); },
    };
  }

  /** The current states of what `instance` tracks ([] when it tracks nothing). */
  states(instance: string): TrackerState[] {
    const sub = this.#subs.get(instance);
    if (!sub) return [];
    return sub.trackers.map((t) => ({ ...t, ...this.#values.get(key(t.kind, t.name)) }));
  }

  #notify(kind: TrackerKind, name: string): void {
    for (const [instance, sub] of [...this.#subs]) {
      if (sub.trackers.some((t) => t.kind === kind && t.name === name)) sub.callback(this.states(instance));
    }
  }
}

function sameResult(a: { ok?: boolean; value?: number }, b: { ok?: boolean; value?: number }): boolean {
  return a.ok === b.ok && a.value === b.value;
}

function checkRef(t: TrackerRef): void {
  const limit = t.kind === 'file' ? 254 : 253;
  if (!Number.isInteger(t.weight) || t.weight < -limit || t.weight > limit) {
    throw new RangeError(`tracked ${t.kind} ${t.name}: weight ${t.weight} is not an integer in -${limit}..${limit}`);
  }
}

/**
 * A track_script's rise/fall counting, as keepalived does it: `rise` successes in a row make a
 * failed script OK, `fall` failures in a row make an OK script failed. The counter runs from
 * 0 to rise + fall - 1 and the script is OK at rise or more. Initial state: true is "one
 * failure is enough" (keepalived after a reload of a passing script), false is init_fail, and
 * undefined is keepalived's default, where the first result decides.
 */
export class RiseFall {
  readonly #rise: number;
  readonly #fall: number;
  #count: number;
  #known: boolean;

  constructor(rise: number, fall: number, initialOk?: boolean) {
    if (!Number.isInteger(rise) || rise < 1 || !Number.isInteger(fall) || fall < 1) {
      throw new RangeError(`rise ${rise} and fall ${fall} must be integers of at least 1`);
    }
    this.#rise = rise;
    this.#fall = fall;
    this.#count = initialOk === undefined ? rise - 1 : initialOk ? rise : 0;
    this.#known = initialOk !== undefined;
  }

  /** OK now (false also before the first result when the initial state was undefined). */
  get ok(): boolean {
    return this.#count >= this.#rise;
  }

  /** False until the first result when the initial state was undefined. */
  get known(): boolean {
    return this.#known;
  }

  /** One result of the script; returns whether it is OK now. */
  push(success: boolean): boolean {
    const top = this.#rise + this.#fall - 1;
    if (success) {
      this.#count = this.#count < this.#rise - 1 ? this.#count + 1 : top;
    } else {
      this.#count = this.#count > this.#rise ? this.#count - 1 : 0;
    }
    this.#known = true; // from keepalived's initial rise - 1, any first result decides
    return this.ok;
  }
}
