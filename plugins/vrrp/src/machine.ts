/**
 * The VRRP state machine of one instance (RFC 5798 section 6.4, as keepalived 2.2 runs it), as
 * plain code: events and the time come in, the actions to carry out come back, in order. No
 * sockets, timers or clock here: the driver (speaker.ts) owns those, and the tests drive this
 * with a simulated clock. One timer at a time: Master_Down_Timer in BACKUP, Adver_Timer in
 * MASTER; the driver calls handle({type:'tick'}) at or after nextDeadline().
 *
 * Where keepalived differs from the RFC, keepalived wins (that is what we interoperate with):
 * - A MASTER hearing a lower priority (or an equal one from a lower address) advertises at once
 *   and sends gratuitous ARPs, so a healed split brain converges at once.
 * - A BACKUP hearing a lower priority with preemption allowed discards it and lets its master
 *   down timer run (it does not take over at once); preempt_delay, started by the first lower
 *   priority advert, keeps it from discarding until the delay has passed.
 * - Becoming MASTER: the advert goes first (the old master drops the VIPs before our GARPs),
 *   then the VIPs, the GARPs and the notification (measured on keepalived 2.2.7).
 * - Two address owners: the one hearing the other lowers itself to 254 and yields.
 * - Timers are µs-exact as keepalived computes them: skew (256-P)/256 s for v2 whatever the
 *   interval, (256-P) x Master_Adver_Interval / 256 for v3, truncated to the µs.
 * Ours beyond keepalived: a MASTER whose effective priority changes advertises at once.
 * An event other than tick never fires an overdue timer: like keepalived, an advert that
 * waited in the socket while the process was busy counts before the timer that expired.
 */
import { compareIp } from '@ha/lib/netlink';
import { PRIORITY_OWNER } from './priority.js';
import type { Advert, InstanceConfig, MachineAction, MachineEvent, MachineSnapshot, VrrpState, VrrpVersion } from './types.js';

const US_PER_CS = 10_000;

/** Skew_Time in µs for priority `priority` (v3 with Master_Adver_Interval `maiCs`). */
export function skewUs(version: VrrpVersion, priority: number, maiCs: number): number {
  return version === 2
    ? Math.floor(((256 - priority) * 1_000_000) / 256)
    : Math.floor(((256 - priority) * maiCs * US_PER_CS) / 256);
}

/** Master_Down_Interval in µs: 3 x Master_Adver_Interval + Skew_Time. */
export function masterDownUs(version: VrrpVersion, priority: number, maiCs: number): number {
  return 3 * maiCs * US_PER_CS + skewUs(version, priority, maiCs);
}

/** Milliseconds kept to the µs, so that equal deadlines compare equal. */
const atUs = (ms: number): number => Math.round(ms * 1000) / 1000;

type Transition = { at: number; from: VrrpState; to: VrrpState; reason: string };

export class VrrpMachine {
  #config: InstanceConfig;
  #base: number;
  #effective: number;
  #state: VrrpState = 'INIT';
  #maiCs: number;
  #deadline: number | undefined;
  /** The BACKUP timer runs from #downFrom for 3 x MAI + skew ('full') or skew only (after priority 0). */
  #downFrom = 0;
  #downKind: 'full' | 'skew' = 'full';
  #downReason = 'master down timer expired';
  #preemptUntil: number | undefined;
  #masterSeen: MachineSnapshot['masterSeen'];
  #last: Transition | undefined;
  #transitions = 0;
  #ownFault: string | undefined;
  #groupFault: string | undefined;
  #wantsMaster = false;
  #gate: (() => boolean) | undefined;

  constructor(config: InstanceConfig) {
    checkConfig(config);
    this.#config = { ...config, vips: [...config.vips] };
    this.#base = config.priority;
    this.#effective = config.priority;
    this.#maiCs = config.intervalCs;
  }

  get name(): string {
    return this.#config.name;
  }

  get state(): VrrpState {
    return this.#state;
  }

  get effectivePriority(): number {
    return this.#effective;
  }

  /** The instance's own FAULT reason (its trackers, its link), not its sync group's. */
  get ownFault(): string | undefined {
    return this.#ownFault;
  }

  /** Its master down timer expired while its sync group held it in BACKUP. */
  get wantsMaster(): boolean {
    return this.#wantsMaster;
  }

  nextDeadline(): number | undefined {
    return this.#deadline;
  }

  handle(event: MachineEvent, now: number): MachineAction[] {
    if (!Number.isFinite(now)) throw new RangeError(`time ${now} is not a number of milliseconds`);
    switch (event.type) {
      case 'startup': return this.#startup(now);
      case 'advert': return this.#advert(event.source, event.advert, now);
      case 'priority': return this.#priority(event.effective, now);
      case 'fault': return event.failed ? this.#fault(event.reason, now) : this.#recover(event.reason, now);
      case 'shutdown': return this.#shutdown(now);
      case 'tick': return this.#tick(now);
    }
  }

  /**
   * Take a new configuration of the same virtual router (same VRID, version, family) without
   * leaving MASTER: a master advertises at once when what it advertises changed, and reports a
   * changed VIP set with 'vips-changed'. `effective` is the priority the trackers give the new
   * base; without it the trackers' adjustment is assumed unchanged.
   */
  reconfigure(config: InstanceConfig, now: number, effective?: number): MachineAction[] {
    checkConfig(config);
    const old = this.#config;
    if (config.vrid !== old.vrid || config.version !== old.version || config.family !== old.family) {
      throw new RangeError(`${old.name}: reconfigure cannot change VRID, version or family (make a new instance)`);
    }
    this.#config = { ...config, vips: [...config.vips] };
    const oldBase = this.#base;
    const oldEffective = this.#effective;
    this.#base = config.priority;
    this.#effective = this.#base === PRIORITY_OWNER ? PRIORITY_OWNER
      : clampPriority(effective ?? (oldBase === PRIORITY_OWNER ? this.#base : oldEffective + this.#base - oldBase));
    if (this.#preemptDelayMs() === 0) this.#preemptUntil = undefined;
    const added = config.vips.filter((v) => !old.vips.includes(v));
    const removed = old.vips.filter((v) => !config.vips.includes(v));
    const actions: MachineAction[] = [];
    if (this.#state === 'MASTER') {
      if (added.length > 0 || removed.length > 0) actions.push({ type: 'vips-changed', added, removed });
      if (actions.length > 0 || this.#effective !== oldEffective || config.intervalCs !== old.intervalCs) {
        actions.push({ type: 'send-advert', priority: this.#effective });
        this.#deadline = atUs(now + this.#intervalMs());
      }
    } else if (this.#state === 'BACKUP') {
      if (config.version === 2 || this.#masterSeen === undefined) this.#maiCs = config.intervalCs;
      this.#deadline = atUs(this.#downFrom + this.#downLengthMs());
    } else {
      this.#maiCs = config.intervalCs;
    }
    return actions;
  }

  /** For SyncGroup: consulted when the master down timer expires; false holds the instance in BACKUP. */
  setMasterGate(gate: (() => boolean) | undefined): void {
    this.#gate = gate;
  }

  /** For SyncGroup: follow another member to MASTER (from BACKUP only). */
  forceMaster(now: number, reason: string): MachineAction[] {
    return this.#state === 'BACKUP' ? this.#becomeMaster(now, reason) : [];
  }

  /** For SyncGroup: follow another member to BACKUP (from MASTER only). */
  forceBackup(now: number, reason: string): MachineAction[] {
    return this.#state === 'MASTER' ? this.#leaveMaster(now, 'BACKUP', reason) : [];
  }

  /** For SyncGroup: held in FAULT by the group (until releaseFault). */
  holdFault(now: number, reason: string): MachineAction[] {
    this.#groupFault = reason;
    return this.#enterFault(now, reason);
  }

  /** For SyncGroup: the group left FAULT; BACKUP unless the instance's own trackers still fail. */
  releaseFault(now: number, reason: string): MachineAction[] {
    this.#groupFault = undefined;
    return this.#leaveFault(now, reason);
  }

  snapshot(now: number): MachineSnapshot {
    const c = this.#config;
    return {
      state: this.#state,
      basePriority: this.#base,
      effectivePriority: this.#effective,
      masterSeen: this.#masterSeen && { ...this.#masterSeen },
      advertIntervalCs: c.intervalCs,
      masterAdverIntervalCs: this.#maiCs,
      skewMs: skewUs(c.version, this.#effective, this.#maiCs) / 1000,
      masterDownMs: masterDownUs(c.version, this.#effective, this.#maiCs) / 1000,
      nextDeadline: this.#deadline,
      lastTransition: this.#last && { ...this.#last },
      transitions: this.#transitions,
      preemptDelayUntil: this.#preemptUntil !== undefined && this.#preemptUntil > now ? this.#preemptUntil : undefined,
      faultReason: this.#ownFault ?? this.#groupFault,
      wantsMaster: this.#wantsMaster,
    };
  }

  // ---- events

  #startup(now: number): MachineAction[] {
    if (this.#state !== 'INIT' && this.#state !== 'STOP') return [];
    this.#maiCs = this.#config.intervalCs;
    this.#preemptUntil = undefined;
    this.#masterSeen = undefined;
    this.#wantsMaster = false;
    const fault = this.#ownFault ?? this.#groupFault;
    if (fault !== undefined) return [this.#transition(now, 'FAULT', fault)];
    if (this.#base === PRIORITY_OWNER) {
      if (!this.#gate || this.#gate()) return this.#becomeMaster(now, 'address owner (priority 255)');
      this.#wantsMaster = true;
      return this.#enterBackup(now, 'address owner held in BACKUP by its sync group');
    }
    return this.#enterBackup(now, 'startup');
  }

  #tick(now: number): MachineAction[] {
    if (this.#deadline === undefined || now < this.#deadline) return [];
    if (this.#state === 'MASTER') {
      this.#deadline = atUs(now + this.#intervalMs());
      return [{ type: 'send-advert', priority: this.#effective }];
    }
    // BACKUP: Master_Down_Timer fired
    if (this.#gate && !this.#gate()) {
      this.#wantsMaster = true;
      this.#armDown(now, 'full', 'master down timer expired');
      return [];
    }
    return this.#becomeMaster(now, this.#downReason);
  }

  #advert(source: string, advert: Advert, now: number): MachineAction[] {
    if (this.#state === 'BACKUP') return this.#backupHears(source, advert, now);
    if (this.#state === 'MASTER') return this.#masterHears(source, advert, now);
    return []; // INIT, FAULT and STOP take no part
  }

  #backupHears(source: string, advert: Advert, now: number): MachineAction[] {
    const p = advert.priority;
    this.#masterSeen = { address: source, priority: p, intervalCs: advert.intervalCs, at: now };
    if (p === 0) {
      this.#armDown(now, 'skew', `priority 0 from ${source}`);
      return [];
    }
    const delay = this.#preemptDelayMs();
    const delayRunning = delay > 0 && (this.#preemptUntil === undefined || this.#preemptUntil > now);
    if (this.#nopreempt() || p >= this.#effective || delayRunning) {
      if (this.#config.version === 3 && advert.intervalCs > 0) this.#maiCs = advert.intervalCs;
      this.#armDown(now, 'full', 'master down timer expired');
      if (delay > 0) {
        if (p >= this.#effective) this.#preemptUntil = undefined;
        else if (this.#preemptUntil === undefined) this.#preemptUntil = atUs(now + delay);
      }
      this.#wantsMaster = false;
      return [];
    }
    // preemption allowed, lower priority, no delay running: discard; the timer runs on
    this.#downReason = `preempting lower priority ${p} from ${source}`;
    return [];
  }

  #masterHears(source: string, advert: Advert, now: number): MachineAction[] {
    const p = advert.priority;
    if (p === 0) return this.#advertiseNow(now, false);
    const cmp = compareIp(source, this.#config.primaryAddress);
    if (p === this.#effective && cmp === 0) return []; // our own address: a loop or a misconfiguration
    if (p === PRIORITY_OWNER && this.#effective === PRIORITY_OWNER) {
      // two address owners: keepalived lowers itself and yields
      this.#base = PRIORITY_OWNER - 1;
      this.#effective = PRIORITY_OWNER - 1;
    }
    if (p < this.#effective || (p === this.#effective && cmp < 0)) return this.#advertiseNow(now, true);
    if (this.#config.version === 3 && advert.intervalCs > 0) this.#maiCs = advert.intervalCs;
    this.#masterSeen = { address: source, priority: p, intervalCs: advert.intervalCs, at: now };
    const reason = p > this.#effective ? `higher priority ${p} from ${source}` : `equal priority ${p} from higher address ${source}`;
    return this.#leaveMaster(now, 'BACKUP', reason);
  }

  #priority(value: number, now: number): MachineAction[] {
    if (this.#base === PRIORITY_OWNER) return []; // the owner is never changed by trackers
    const p = clampPriority(value);
    if (p === this.#effective) return [];
    this.#effective = p;
    if (this.#state === 'MASTER') return this.#advertiseNow(now, false);
    // BACKUP: the skew changed; the timer keeps its start (keepalived moves it by the difference)
    if (this.#state === 'BACKUP') this.#deadline = atUs(this.#downFrom + this.#downLengthMs());
    return [];
  }

  #fault(reason: string, now: number): MachineAction[] {
    this.#ownFault = reason;
    return this.#enterFault(now, reason);
  }

  #recover(reason: string, now: number): MachineAction[] {
    this.#ownFault = undefined;
    return this.#leaveFault(now, reason);
  }

  #shutdown(now: number): MachineAction[] {
    if (this.#state === 'STOP') return [];
    if (this.#state === 'MASTER') return this.#leaveMaster(now, 'STOP', 'shutdown');
    this.#deadline = undefined;
    return [this.#transition(now, 'STOP', 'shutdown')];
  }

  // ---- transitions

  #becomeMaster(now: number, reason: string): MachineAction[] {
    this.#wantsMaster = false;
    this.#preemptUntil = undefined;
    this.#deadline = atUs(now + this.#intervalMs());
    return [
      { type: 'send-advert', priority: this.#effective },
      { type: 'add-vips' },
      { type: 'announce' },
      this.#transition(now, 'MASTER', reason),
    ];
  }

  /** MASTER to BACKUP (VIPs go, no priority 0), or to FAULT / STOP (priority 0 first). */
  #leaveMaster(now: number, to: 'BACKUP' | 'FAULT' | 'STOP', reason: string): MachineAction[] {
    const actions: MachineAction[] = [];
    if (to !== 'BACKUP') actions.push({ type: 'send-advert', priority: 0 });
    actions.push({ type: 'remove-vips' });
    this.#preemptUntil = undefined;
    this.#wantsMaster = false;
    if (to === 'BACKUP') this.#armDown(now, 'full', 'master down timer expired');
    else this.#deadline = undefined;
    actions.push(this.#transition(now, to, reason));
    return actions;
  }

  #enterBackup(now: number, reason: string): MachineAction[] {
    this.#armDown(now, 'full', 'master down timer expired');
    return [this.#transition(now, 'BACKUP', reason)];
  }

  #enterFault(now: number, reason: string): MachineAction[] {
    if (this.#state === 'MASTER') return this.#leaveMaster(now, 'FAULT', reason);
    if (this.#state !== 'BACKUP') return []; // INIT: startup enters FAULT; FAULT, STOP: nothing to do
    this.#deadline = undefined;
    this.#wantsMaster = false;
    this.#preemptUntil = undefined;
    return [this.#transition(now, 'FAULT', reason)];
  }

  #leaveFault(now: number, reason: string): MachineAction[] {
    if (this.#state !== 'FAULT' || this.#ownFault !== undefined || this.#groupFault !== undefined) return [];
    this.#maiCs = this.#config.intervalCs;
    this.#preemptUntil = undefined;
    return this.#enterBackup(now, reason);
  }

  #advertiseNow(now: number, announce: boolean): MachineAction[] {
    this.#deadline = atUs(now + this.#intervalMs());
    const actions: MachineAction[] = [{ type: 'send-advert', priority: this.#effective }];
    if (announce) actions.push({ type: 'announce' });
    return actions;
  }

  #transition(now: number, to: VrrpState, reason: string): MachineAction {
    const from = this.#state;
    this.#state = to;
    this.#transitions++;
    this.#last = { at: now, from, to, reason };
    return { type: 'transition', from, to, reason };
  }

  // ---- timers and settings

  #armDown(now: number, kind: 'full' | 'skew', reason: string): void {
    this.#downFrom = now;
    this.#downKind = kind;
    this.#downReason = reason;
    this.#deadline = atUs(now + this.#downLengthMs());
  }

  #downLengthMs(): number {
    const { version } = this.#config;
    const us = this.#downKind === 'full' ? masterDownUs(version, this.#effective, this.#maiCs) : skewUs(version, this.#effective, this.#maiCs);
    return us / 1000;
  }

  #intervalMs(): number {
    return this.#config.intervalCs * 10;
  }

  /** nopreempt and preempt_delay mean nothing to the address owner (keepalived drops them). */
  #nopreempt(): boolean {
    return this.#config.nopreempt && this.#config.priority !== PRIORITY_OWNER;
  }

  #preemptDelayMs(): number {
    return this.#config.priority === PRIORITY_OWNER ? 0 : Math.max(0, this.#config.preemptDelayMs);
  }
}

function clampPriority(p: number): number {
  const n = Math.round(p);
  return Number.isFinite(n) ? Math.min(PRIORITY_OWNER - 1, Math.max(1, n)) : 1;
}

function checkConfig(c: InstanceConfig): void {
  if (!Number.isInteger(c.priority) || c.priority < 1 || c.priority > PRIORITY_OWNER) {
    throw new RangeError(`${c.name}: priority ${c.priority} is not in 1..255`);
  }
  if (!Number.isInteger(c.intervalCs) || c.intervalCs < 1 || c.intervalCs > 4095) {
    throw new RangeError(`${c.name}: advert interval ${c.intervalCs} cs is not in 1..4095`);
  }
}
