/**
 * Sync groups (keepalived's vrrp_sync_group): instances that must change state together, e.g.
 * the outside and inside addresses of a router pair. Pure coordination over VrrpMachine: the
 * driver feeds an instance's events, ticks included, to the group (handle(instance, event);
 * tick(now) at nextDeadline()) instead of to the instance, and gets back the actions of every member that moved, in order, then the group's
 * own transition (keepalived notifies the group after all its members).
 *
 * The rules, as keepalived 2.2's vrrp_sync.c applies them:
 * - A member goes MASTER only when every other member wants to (its master down timer expired
 *   too, or it is MASTER already), or the group is MASTER: otherwise it stays BACKUP and waits
 *   another master down interval ("prefer backup to avoid thrashing"). An advert that keeps a
 *   member BACKUP clears its wish. When one member becomes MASTER, the others follow at once.
 * - When a MASTER member goes BACKUP (it heard a higher priority), the other masters follow.
 * - When one member goes FAULT, all go FAULT (a master sends priority 0 first); the group
 *   leaves FAULT only when no member has a fault of its own left, and then all go BACKUP.
 */
import type { VrrpMachine } from './machine.js';
import type { MachineAction, MachineEvent, VrrpState } from './types.js';

export interface GroupTransition {
  from: VrrpState;
  to: VrrpState;
  reason: string;
}

export interface GroupResult {
  /** Each member's actions, in the order they must be carried out (the member the event was for first). */
  actions: Array<{ instance: string; actions: MachineAction[] }>;
  /** The group's own transitions, to carry out after the members' actions. */
  transitions: GroupTransition[];
}

export interface GroupSnapshot {
  name: string;
  state: VrrpState;
  members: string[];
  lastTransition: (GroupTransition & { at: number }) | undefined;
}

export class SyncGroup {
  readonly name: string;
  readonly #members: VrrpMachine[];
  #state: VrrpState = 'INIT';
  #last: (GroupTransition & { at: number }) | undefined;

  constructor(name: string, members: VrrpMachine[]) {
    if (members.length === 0) throw new RangeError(`sync group ${name} has no members`);
    const names = new Set<string>();
    for (const m of members) {
      if (names.has(m.name)) throw new RangeError(`sync group ${name}: instance ${m.name} is listed twice`);
      names.add(m.name);
    }
    this.name = name;
    this.#members = [...members];
    for (const m of this.#members) m.setMasterGate(() => this.#mayGoMaster(m));
  }

  get state(): VrrpState {
    return this.#state;
  }

  get members(): readonly VrrpMachine[] {
    return this.#members;
  }

  member(instance: string): VrrpMachine | undefined {
    return this.#members.find((m) => m.name === instance);
  }

  /** The earliest deadline of any member. */
  nextDeadline(): number | undefined {
    let best: number | undefined;
    for (const m of this.#members) {
      const d = m.nextDeadline();
      if (d !== undefined && (best === undefined || d < best)) best = d;
    }
    return best;
  }

  /** An event for one member (an advert, its trackers' priority or fault, a tick of its own). */
  handle(instance: string, event: MachineEvent, now: number): GroupResult {
    const m = this.member(instance);
    if (!m) throw new RangeError(`sync group ${this.name} has no instance ${instance}`);
    const out: GroupResult = { actions: [], transitions: [] };
    this.#apply(m, event, now, out);
    return out;
  }

  /** The same event for every member in order (startup, shutdown). */
  handleAll(event: MachineEvent, now: number): GroupResult {
    const out: GroupResult = { actions: [], transitions: [] };
    for (const m of this.#members) this.#apply(m, event, now, out);
    return out;
  }

  /** Fire every member timer due at `now`, earliest first (a late driver may find several due). */
  tick(now: number): GroupResult {
    const out: GroupResult = { actions: [], transitions: [] };
    for (let guard = 0; guard < 4 * this.#members.length + 4; guard++) {
      let due: VrrpMachine | undefined;
      for (const m of this.#members) {
        const d = m.nextDeadline();
        if (d !== undefined && d <= now && (due === undefined || d < (due.nextDeadline() as number))) due = m;
      }
      if (!due) break;
      this.#apply(due, { type: 'tick' }, now, out);
    }
    return out;
  }

  snapshot(): GroupSnapshot {
    return { name: this.name, state: this.#state, members: this.#members.map((m) => m.name), lastTransition: this.#last && { ...this.#last } };
  }

  // ----

  #apply(m: VrrpMachine, event: MachineEvent, now: number, out: GroupResult): void {
    const before = m.state;
    add(out, m, m.handle(event, now));
    const after = m.state;
    if (event.type === 'fault') {
      if (!event.failed) this.#faultCleared(m, event.reason, now, out);
      else if (after !== 'STOP') this.#syncFault(m, event.reason, now, out);
      return;
    }
    if (after === before) return;
    if (after === 'FAULT') return this.#syncFault(m, m.ownFault ?? 'fault', now, out); // started in FAULT (no-op if held)
    if (after === 'MASTER') return this.#syncMaster(m, now, out);
    if (after === 'BACKUP' && before === 'MASTER') return this.#syncBackup(m, now, out);
    if (after === 'BACKUP' && this.#state !== 'BACKUP' && this.#state !== 'MASTER' && this.#state !== 'FAULT') {
      return this.#setState('BACKUP', `${m.name} entered BACKUP`, now, out);
    }
    if (after === 'STOP' && this.#members.every((o) => o.state === 'STOP')) this.#setState('STOP', 'shutdown', now, out);
  }

  /** Can `m` go MASTER now? Only if every other member wants to, or the group is MASTER. */
  #mayGoMaster(m: VrrpMachine): boolean {
    if (this.#state === 'MASTER') return true;
    return this.#members.every((o) => o === m || o.state === 'MASTER' || o.wantsMaster);
  }

  #syncMaster(trigger: VrrpMachine, now: number, out: GroupResult): void {
    if (this.#state === 'MASTER') return;
    for (const o of this.#members) {
      if (o !== trigger) add(out, o, o.forceMaster(now, `sync group ${this.name}: ${trigger.name} became MASTER`));
    }
    this.#setState('MASTER', `${trigger.name} became MASTER`, now, out);
  }

  #syncBackup(trigger: VrrpMachine, now: number, out: GroupResult): void {
    if (this.#state === 'BACKUP') return;
    for (const o of this.#members) {
      if (o !== trigger) add(out, o, o.forceBackup(now, `sync group ${this.name}: ${trigger.name} became BACKUP`));
    }
    this.#setState('BACKUP', `${trigger.name} became BACKUP`, now, out);
  }

  #syncFault(trigger: VrrpMachine, reason: string, now: number, out: GroupResult): void {
    if (this.#state === 'FAULT') return; // every member is held already
    const why = `${trigger.name}: ${reason}`;
    // every member is held, the trigger too: its own recovery alone must not take it out
    for (const o of [trigger, ...this.#members.filter((x) => x !== trigger)]) {
      add(out, o, o.holdFault(now, `sync group ${this.name}: ${why}`));
    }
    this.#setState('FAULT', why, now, out);
  }

  #faultCleared(m: VrrpMachine, reason: string, now: number, out: GroupResult): void {
    if (this.#state !== 'FAULT' || this.#members.some((o) => o.ownFault !== undefined)) return;
    add(out, m, m.releaseFault(now, reason));
    for (const o of this.#members) {
      if (o !== m) add(out, o, o.releaseFault(now, `sync group ${this.name}: leaving FAULT`));
    }
    this.#setState('BACKUP', `${m.name}: ${reason}`, now, out);
  }

  #setState(to: VrrpState, reason: string, now: number, out: GroupResult): void {
    if (to === this.#state) return;
    const t = { from: this.#state, to, reason };
    this.#state = to;
    this.#last = { ...t, at: now };
    out.transitions.push(t);
  }
}

/** Append a member's actions, merging with its previous entry when it is the last one. */
function add(out: GroupResult, m: VrrpMachine, actions: MachineAction[]): void {
  if (actions.length === 0) return;
  const last = out.actions[out.actions.length - 1];
  if (last && last.instance === m.name) last.actions.push(...actions);
  else out.actions.push({ instance: m.name, actions });
}
