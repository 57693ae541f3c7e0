/**
 * One VRRP instance at run time: the pure state machine (machine.ts) between the wire and the
 * kernel. Received packets are parsed and checked (each refusal counted under its reason) and
 * handed to the machine; the machine's actions are carried out in order: adverts at once (they
 * never wait for anything), VIP changes and gratuitous ARPs in one chain per instance, and the
 * notification scripts after the VIP changes of the same transition (keepalived adds VIPs before
 * the master notification and removes them before the backup one).
 *
 * Everything outside is injected (wire, kernel, clock, tracker registry, notifications), so the
 * runtime can be tested without sockets; the agent's service (service.ts) makes the real ones.
 */
import type { Clock, TimerHandle } from '@ha/lib/agent';
import type { Logger } from '@ha/lib';
import { VrrpMachine } from './machine.js';
import { DEFAULTS, Instance, Notify, Vip, centiseconds, instanceFamily, instanceVersion, parseVip } from './model.js';
import { MAX_V2_ADDRESSES, VRRP_GROUP_V4, VRRP_GROUP_V6, addressListDiffers, checkAdvert, encodeAdvert, parseAdvert, passwordBytes } from './packet.js';
import { EffectivePriority, PRIORITY_OWNER, TrackerRef, TrackerRegistry, TrackerState, effectivePriority, priorityEvents } from './priority.js';
import { NotifyJob, transitionJobs } from './notify.js';
import { AUTH_NONE, AUTH_PASS, Advert, DropReason, Family, InstanceConfig, MachineAction, MachineEvent, Received, VrrpState, VrrpVersion } from './types.js';
import type { Endpoint, Link, VipKernel, Wire } from './wire.js';

/** Counters of one instance; the error names are keepalived's (its stats and JSON dump). */
export interface InstanceStats {
  advertsReceived: number;
  advertsSent: number;
  becameMaster: number;
  releasedMaster: number;
  priorityZeroReceived: number;
  priorityZeroSent: number;
  /** Adverts whose VIP list differs from ours (accepted, as keepalived does). */
  addressListMismatch: number;
  /** Packets refused, by reason (packet_len_err, ip_ttl_err, auth_failure…). */
  errors: Partial<Record<DropReason, number>>;
  garpsSent: number;
  notifications: { run: number; failed: number; timedOut: number };
}

export interface Transition {
  at: string;
  from: VrrpState;
  to: VrrpState;
  reason: string;
  priority: number;
}

/** What the runtime needs from outside. */
export interface RunnerDeps {
  wire: Wire;
  kernel: VipKernel;
  clock: Clock;
  logger: Logger;
  registry: TrackerRegistry;
  /** Publish an event on the agent's bus (source "vrrp"). */
  emit: (type: string, data: Record<string, unknown>) => void;
  /** Queue notification jobs of this instance (run in order, one at a time). */
  notify: (instance: string, jobs: NotifyJob[]) => void;
  /** Wall-clock time for reports (ISO); the protocol never reads it. */
  wallClock?: () => Date;
}

/** A run-time change of the effective priority (`ha vrrp demote/promote`), not written to the file. */
export interface Demotion { by?: number; to?: number }

const emptyStats = (): InstanceStats => ({
  advertsReceived: 0, advertsSent: 0, becameMaster: 0, releasedMaster: 0, priorityZeroReceived: 0, priorityZeroSent: 0,
  addressListMismatch: 0, errors: {}, garpsSent: 0, notifications: { run: 0, failed: 0, timedOut: 0 },
});

/** The identity keepalived matches instances by on reload: interface, family, VRID, unicast source. */
export const identityOf = (i: Instance): string => `${i.interface}/${instanceFamily(i)}/${i.vrid}/${i.unicastSource ?? ''}`;

export function trackerRefs(i: Instance, scripts: Record<string, { weight?: number }>): TrackerRef[] {
  return [
    // the instance's own interface: down means FAULT (keepalived does the same)
    { kind: 'interface', name: i.interface, weight: 0, reverse: false },
    ...(i.trackInterfaces ?? []).filter((t) => t.interface !== i.interface || t.weight).map((t) => ({ kind: 'interface' as const, name: t.interface, weight: t.weight ?? 0, reverse: t.reverse ?? false })),
    ...(i.trackFiles ?? []).map((t) => ({ kind: 'file' as const, name: t.path, weight: t.weight ?? 1, reverse: t.reverse ?? false })),
    ...(i.trackScripts ?? []).map((t) => ({ kind: 'script' as const, name: t.script, weight: t.weight ?? scripts[t.script]?.weight ?? 0, reverse: t.reverse ?? false })),
    ...(i.trackChecks ?? []).map((t) => ({ kind: 'check' as const, name: t.check, weight: t.weight ?? 0, reverse: t.reverse ?? false })),
  ];
}

export class InstanceRunner {
  readonly stats: InstanceStats = emptyStats();
  private machine!: VrrpMachine;
  /** Set when the instance is in a sync group: its events go through the group (service.ts). */
  router?: (instance: string, events: MachineEvent[]) => void;
  private timer?: TimerHandle;
  private leaveWire?: () => void;
  private unsubscribe?: () => void;
  private link!: Link;
  private endpoint!: Endpoint;
  private chain: Promise<void> = Promise.resolve();
  private tracked?: EffectivePriority;
  private demotion: Demotion = {};
  private held = new Set<string>();
  private garpTimers: TimerHandle[] = [];
  private refreshTimer?: TimerHandle;
  private lastTransition?: Transition;
  private stopped = false;
  /** Sends are failing (said once, until one works again). */
  private sendFailing = false;
  /** Where the master's adverts come from, for status. */
  private masterSeen?: { address: string; priority: number; intervalCs: number; at: number };

  constructor(
    public name: string,
    private cfg: Instance,
    private scripts: Record<string, { weight?: number }>,
    private readonly deps: RunnerDeps,
  ) {}

  get state(): VrrpState {
    return this.machine?.state ?? 'INIT';
  }

  get config(): Instance {
    return this.cfg;
  }

  /** Family and version, derived from the configuration once (they are read for every packet). */
  private fv?: { family: Family; version: VrrpVersion };

  get family(): Family {
    this.fv ??= { family: instanceFamily(this.cfg), version: instanceVersion(this.cfg) };
    return this.fv.family;
  }

  get version(): VrrpVersion {
    this.fv ??= { family: instanceFamily(this.cfg), version: instanceVersion(this.cfg) };
    return this.fv.version;
  }

  /** The state machine (a sync group coordinates the machines of its members). */
  get stateMachine(): VrrpMachine {
    return this.machine;
  }

  /**
   * Open the socket, clear VIPs a crashed run left, follow the trackers, and start as the
   * protocol says (`deferStartup`: the sync group starts it).
   */
  async start(options: { deferStartup?: boolean } = {}): Promise<void> {
    this.link = await this.deps.kernel.link(this.cfg.interface);
    this.derived = undefined;
    this.endpoint = { ifname: this.cfg.interface, ifindex: this.link.ifindex, family: this.family, source: this.cfg.unicastSource, unicast: (this.cfg.unicastPeers ?? []).length > 0 };
    this.machine = new VrrpMachine(this.machineConfig());
    await this.removeLeftovers();
    this.leaveWire = this.deps.wire.join(this.endpoint, this.cfg.vrid, (payload, rx) => this.receive(payload, rx));
    this.followTrackers();
    if (!options.deferStartup) this.apply([{ type: 'startup' }]);
  }

  /** Graceful stop: a master sends priority 0 and removes its VIPs; notifications for STOP run. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.apply([{ type: 'shutdown' }]);
    this.stopped = true;
    this.deps.clock.clearTimer(this.timer);
    this.clearGarps();
    this.unsubscribe?.();
    await this.chain;
    this.leaveWire?.();
  }

  /**
   * Run a changed configuration without leaving the state it is in when that is still right:
   * a master keeps its VIPs (adding and removing only the difference) and advertises the change
   * at once. Returns one line per change.
   */
  reconfigure(next: Instance, scripts: Record<string, { weight?: number }>): string[] {
    const before = this.cfg;
    const changes = describeChanges(this.name, before, next);
    this.cfg = next;
    this.scripts = scripts;
    this.derived = undefined;
    this.fv = undefined;
    const master = this.state === 'MASTER';
    const oldVips = allVips(before);
    const newVips = allVips(next);
    const added = newVips.filter((v) => !oldVips.includes(v));
    const removed = oldVips.filter((v) => !newVips.includes(v));
    const actions = this.machine.reconfigure(this.machineConfig(), this.deps.clock.now());
    if (master) {
      if (removed.length) this.enqueue(async () => { for (const v of removed) await this.removeVip(v); });
      if (added.length) this.enqueue(async () => { for (const v of added) await this.addVip(v); });
      if (added.length) this.enqueue(async () => this.announceNow(added));
    }
    this.followTrackers();
    this.carryOut(actions);
    return changes;
  }

  /** `ha vrrp demote/promote`: change the effective priority without touching the file. */
  setDemotion(d: Demotion): void {
    this.demotion = d;
    this.recompute();
  }

  /** What every packet needs, derived once per configuration (machineConfig, VIP addresses, auth, encoded adverts). */
  private derived?: { config: InstanceConfig; addresses: string[]; authData?: Uint8Array; adverts: Map<string, Uint8Array> };

  private get d(): NonNullable<InstanceRunner['derived']> {
    if (!this.derived) {
      const config = this.buildMachineConfig();
      this.derived = {
        config,
        addresses: advertisedVips(this.cfg).map((v) => vip(v).address),
        ...(this.cfg.authPass ? { authData: passwordBytes(this.cfg.authPass) } : {}),
        adverts: new Map(),
      };
    }
    return this.derived;
  }

  private machineConfig(): InstanceConfig {
    return this.d.config;
  }

  private buildMachineConfig(): InstanceConfig {
    const i = this.cfg;
    const interval = i.advertInterval ?? DEFAULTS.advertInterval;
    return {
      name: this.name,
      version: this.version,
      family: this.family,
      vrid: i.vrid,
      priority: i.priority ?? DEFAULTS.priority,
      intervalCs: centiseconds(interval) ?? Math.round(interval * 100),
      nopreempt: i.nopreempt ?? false,
      preemptDelayMs: Math.round((i.preemptDelay ?? 0) * 1000),
      accept: i.accept ?? false,
      primaryAddress: this.sourceAddress() ?? '0.0.0.0',
      vips: advertisedVips(i),
    };
  }

  /** The address our adverts come from (the tie-break address). */
  private sourceAddress(): string | undefined {
    if (this.cfg.unicastSource) return this.cfg.unicastSource;
    return this.family === 4 ? this.link?.ipv4 : this.link?.ipv6LinkLocal;
  }

  private followTrackers(): void {
    this.unsubscribe?.();
    const refs = trackerRefs(this.cfg, this.scripts);
    const sub = this.deps.registry.subscribe(this.name, refs, (states) => this.trackersChanged(states));
    this.unsubscribe = sub.unsubscribe;
    this.trackersChanged(sub.states, true);
  }

  private trackerStates: TrackerState[] = [];

  private trackersChanged(states: TrackerState[], quiet = false): void {
    this.trackerStates = states;
    if (!quiet || this.machine) this.recompute();
  }

  /** Effective priority from the trackers and the demotion, handed to the machine when it changed. */
  private recompute(): void {
    if (!this.machine) return;
    const base = this.cfg.priority ?? DEFAULTS.priority;
    // the instance's own interface has no result before the link watcher's first word: count it up
    const states = this.trackerStates.map((s) => (s.kind === 'interface' && s.ok === undefined ? { ...s, ok: this.link?.up ?? true } : s));
    const computed = effectivePriority(base, states);
    let priority = computed.priority;
    if (base !== PRIORITY_OWNER && (this.demotion.to !== undefined || this.demotion.by !== undefined)) {
      priority = Math.min(254, Math.max(1, this.demotion.to ?? priority - (this.demotion.by ?? 0)));
    }
    const next = { ...computed, priority };
    const events = priorityEvents(this.tracked, next);
    this.tracked = next;
    if (events.length) this.apply(events);
  }

  private receive(payload: Uint8Array, rx: Received): void {
    if (this.stopped) return;
    const parsed = parseAdvert(payload, this.family, rx.source, rx.destination);
    if (!parsed.ok) {
      // not ours to count unless it names our VRID (a parse error does not know it: count it here)
      if (payload.length >= 2 && payload[1] === this.cfg.vrid) this.count(parsed.reason);
      return;
    }
    const a = parsed.advert;
    if (a.vrid !== this.cfg.vrid) return;
    if (rx.source === this.sourceAddress()) {
      this.count('own_packet');
      return;
    }
    const d = this.d;
    const reason = checkAdvert(a, rx, {
      version: d.config.version,
      intervalCs: d.config.intervalCs,
      authType: d.authData ? AUTH_PASS : AUTH_NONE,
      ...(d.authData ? { authData: d.authData } : {}),
    });
    if (reason || a.intervalCs === 0) {
      // an interval of 0 would make a v3 backup's master down interval its skew alone
      this.count(reason ?? 'advert_interval_err');
      return;
    }
    this.stats.advertsReceived++;
    if (a.priority === 0) this.stats.priorityZeroReceived++;
    if (addressListDiffers(a, d.addresses)) this.stats.addressListMismatch++;
    // wall-clock ms, formatted only when someone asks (status)
    const seen = this.masterSeen ??= { address: rx.source, priority: a.priority, intervalCs: a.intervalCs, at: 0 };
    seen.address = rx.source;
    seen.priority = a.priority;
    seen.intervalCs = a.intervalCs;
    seen.at = this.deps.wallClock ? this.deps.wallClock().getTime() : Date.now();
    this.apply([{ type: 'advert', source: rx.source, advert: a }]);
  }

  private count(reason: DropReason): void {
    this.stats.errors[reason] = (this.stats.errors[reason] ?? 0) + 1;
  }

  private apply(events: MachineEvent[]): void {
    if (this.router) {
      this.router(this.name, events);
      return;
    }
    const now = this.deps.clock.now();
    const actions: MachineAction[] = [];
    for (const e of events) actions.push(...this.machine.handle(e, now));
    this.carryOut(actions);
  }

  /** Carry out actions in order; notifications of the transitions go after the VIP changes. */
  carryOut(actions: MachineAction[]): void {
    const jobs: NotifyJob[] = [];
    for (const a of actions) {
      switch (a.type) {
        case 'send-advert':
          this.sendAdvert(a.priority);
          break;
        case 'add-vips':
          this.enqueue(async () => { for (const v of allVips(this.cfg)) await this.addVip(v); });
          break;
        case 'remove-vips':
          this.clearGarps();
          this.enqueue(async () => { for (const v of [...this.held]) await this.removeVip(v); });
          break;
        case 'announce':
          this.enqueue(async () => this.announceBurst());
          break;
        case 'transition':
          jobs.push(...this.transition(a.from, a.to, a.reason));
          break;
        default:
          break;
      }
    }
    if (jobs.length) this.enqueue(async () => this.deps.notify(this.name, jobs));
    this.schedule();
  }

  private transition(from: VrrpState, to: VrrpState, reason: string): NotifyJob[] {
    const priority = this.tracked?.priority ?? this.cfg.priority ?? DEFAULTS.priority;
    if (to === 'MASTER') this.stats.becameMaster++;
    if (from === 'MASTER') this.stats.releasedMaster++;
    this.lastTransition = { at: this.wall(), from, to, reason, priority };
    this.deps.emit('transition', { instance: this.name, from, to, reason, priority });
    return transitionJobs('INSTANCE', this.name, to, priority, this.cfg.notify);
  }

  /** Arm the timer for the machine's next deadline (a sync group calls it for every member). */
  schedule(): void {
    this.deps.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    const at = this.machine.nextDeadline();
    if (at === undefined) return;
    this.timer = this.deps.clock.setTimer(at - this.deps.clock.now(), () => {
      this.timer = undefined;
      this.apply([{ type: 'tick' }]);
    });
  }

  /** The advert's bytes for a priority and destination (the checksum covers both in v3), made once. */
  private advertBytes(priority: number, destination: string): Uint8Array {
    const d = this.d;
    const key = `${priority} ${destination}`;
    let bytes = d.adverts.get(key);
    if (!bytes) {
      const cfg = d.config;
      const advert: Advert = {
        version: cfg.version,
        family: cfg.family,
        vrid: cfg.vrid,
        priority,
        intervalCs: cfg.intervalCs,
        addresses: d.addresses.slice(0, cfg.version === 2 ? MAX_V2_ADDRESSES : 255),
        authType: d.authData ? AUTH_PASS : AUTH_NONE,
        ...(d.authData ? { authData: d.authData } : {}),
      };
      bytes = encodeAdvert(advert, this.sourceAddress() ?? (this.family === 4 ? '0.0.0.0' : '::'), destination);
      // a bounded cache: priorities change at run time (trackers, demotion)
      if (d.adverts.size > 64) d.adverts.clear();
      d.adverts.set(key, bytes);
    }
    return bytes;
  }

  private sendAdvert(priority: number): void {
    const peers = this.cfg.unicastPeers ?? [];
    const destinations = peers.length ? peers : [this.family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6];
    for (const d of destinations) {
      try {
        this.deps.wire.send(this.endpoint, this.advertBytes(priority, d), d);
        this.stats.advertsSent++;
        if (priority === 0) this.stats.priorityZeroSent++;
        if (this.sendFailing) this.deps.logger.info(`${this.name}: adverts are sent again`, { instance: this.name });
        this.sendFailing = false;
      } catch (error) {
        if (!this.sendFailing) this.deps.logger.warn(`${this.name}: advert to ${d} not sent: ${(error as Error).message} (said once until sending works again)`, { instance: this.name });
        this.sendFailing = true;
      }
    }
  }

  private enqueue(fn: () => Promise<void> | void): void {
    this.chain = this.chain.then(fn).catch((error: Error) => {
      this.deps.logger.error(`${this.name}: ${error.message}`, { instance: this.name });
    });
  }

  /** The interface a VIP lives on: the instance's, or its own `dev`. */
  private async linkOf(v: string): Promise<Link> {
    const dev = vip(v).dev;
    if (!dev || dev === this.cfg.interface) return this.link;
    let l = this.otherLinks.get(dev);
    if (!l) {
      l = await this.deps.kernel.link(dev);
      this.otherLinks.set(dev, l);
    }
    return l;
  }

  private readonly otherLinks = new Map<string, Link>();

  private async addVip(v: string): Promise<void> {
    const parsed = vip(v);
    await this.deps.kernel.add(await this.linkOf(v), parsed.prefix, parsed.label);
    this.held.add(v);
  }

  private async removeVip(v: string): Promise<void> {
    await this.deps.kernel.remove(await this.linkOf(v), vip(v).prefix);
    this.held.delete(v);
  }

  private async removeLeftovers(): Promise<void> {
    if ((this.cfg.priority ?? DEFAULTS.priority) === PRIORITY_OWNER) return;
    for (const v of allVips(this.cfg)) {
      const link = await this.linkOf(v);
      if (!(await this.deps.kernel.held(link)).includes(vip(v).prefix)) continue;
      await this.deps.kernel.remove(link, vip(v).prefix);
      this.deps.logger.info(`${this.name}: removed VIP ${v} left behind by an earlier run (starting as BACKUP)`, { instance: this.name });
    }
  }

  private announceNow(vips: string[]): void {
    const repeat = this.cfg.garpRepeat ?? DEFAULTS.garpRepeat;
    for (let k = 0; k < repeat; k++) {
      for (const v of vips) {
        try {
          const dev = vip(v).dev;
          this.deps.wire.announce((dev && this.otherLinks.get(dev)) || this.link, vip(v).prefix);
          this.stats.garpsSent++;
        } catch (error) {
          this.deps.logger.warn(`${this.name}: gratuitous ARP/NA for ${v} not sent: ${(error as Error).message}`);
        }
      }
    }
  }

  /** A burst now, another after garpDelay, then every garpRefresh while master. */
  private announceBurst(): void {
    if (this.state !== 'MASTER') return;
    const vips = allVips(this.cfg);
    this.announceNow(vips);
    this.clearGarps();
    const delay = (this.cfg.garpDelay ?? DEFAULTS.garpDelay) * 1000;
    if (delay > 0) {
      this.garpTimers.push(this.deps.clock.setTimer(delay, () => {
        if (this.state === 'MASTER') this.announceNow(vips);
      }));
    }
    const refresh = (this.cfg.garpRefresh ?? DEFAULTS.garpRefresh) * 1000;
    if (refresh > 0) {
      const again = (): void => {
        if (this.state !== 'MASTER' || this.stopped) return;
        this.announceNow(allVips(this.cfg));
        this.refreshTimer = this.deps.clock.setTimer(refresh, again);
      };
      this.refreshTimer = this.deps.clock.setTimer(refresh, again);
    }
  }

  private clearGarps(): void {
    for (const t of this.garpTimers.splice(0)) this.deps.clock.clearTimer(t);
    this.deps.clock.clearTimer(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  private wall(): string {
    return (this.deps.wallClock?.() ?? new Date()).toISOString();
  }

  /** The instance as `ha vrrp status` shows it. */
  status(): InstanceStatus {
    const snap = this.machine.snapshot(this.deps.clock.now());
    const cfg = this.cfg;
    const states = this.trackerStates;
    const contributions = this.tracked?.contributions ?? [];
    return {
      name: this.name,
      interface: cfg.interface,
      vrid: cfg.vrid,
      family: this.family,
      version: this.version,
      state: snap.state,
      basePriority: cfg.priority ?? DEFAULTS.priority,
      effectivePriority: snap.effectivePriority,
      demotion: this.demotion,
      trackers: states.map((s, k) => ({
        kind: s.kind, name: s.name, weight: s.weight, reverse: s.reverse,
        ...(s.ok !== undefined ? { ok: s.ok } : {}), ...(s.value !== undefined ? { value: s.value } : {}),
        contribution: contributions[k]?.contribution ?? 0, fault: contributions[k]?.fault ?? false,
      })),
      master: snap.state === 'MASTER'
        ? { address: this.sourceAddress() ?? '', priority: snap.effectivePriority, advertInterval: snap.advertIntervalCs / 100, self: true }
        : this.masterSeen ? { address: this.masterSeen.address, priority: this.masterSeen.priority, advertInterval: this.masterSeen.intervalCs / 100, self: false, lastSeen: new Date(this.masterSeen.at).toISOString() } : null,
      advertInterval: snap.advertIntervalCs / 100,
      masterAdvertInterval: snap.masterAdverIntervalCs / 100,
      skew: snap.skewMs / 1000,
      masterDownInterval: snap.masterDownMs / 1000,
      nextTimer: snap.nextDeadline === undefined ? null : Math.max(0, Math.round(snap.nextDeadline - this.deps.clock.now())) / 1000,
      sourceAddress: this.sourceAddress() ?? null,
      preempt: !cfg.nopreempt,
      preemptDelay: cfg.preemptDelay ?? 0,
      accept: cfg.accept ?? false,
      vips: advertisedVips(cfg),
      excludedVips: (cfg.excludedVips ?? []).map((v) => (parseVip(v) as { text: string }).text),
      vipsHeld: [...this.held].sort(),
      unicastPeers: cfg.unicastPeers ?? [],
      lastTransition: this.lastTransition ?? null,
      transitions: snap.transitions,
      stats: this.stats,
    };
  }
}

export interface InstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  family: Family;
  version: VrrpVersion;
  state: VrrpState;
  basePriority: number;
  effectivePriority: number;
  demotion: Demotion;
  trackers: Array<{ kind: string; name: string; weight: number; reverse: boolean; ok?: boolean; value?: number; contribution: number; fault: boolean }>;
  /** The master as we know it: ourselves, the last advert heard, or null. */
  master: { address: string; priority: number; advertInterval: number; self: boolean; lastSeen?: string } | null;
  /** Seconds. */
  advertInterval: number;
  masterAdvertInterval: number;
  skew: number;
  masterDownInterval: number;
  /** Seconds until the next timer: the next advert (MASTER) or the master down timer (BACKUP); null when none runs. */
  nextTimer: number | null;
  sourceAddress: string | null;
  preempt: boolean;
  preemptDelay: number;
  accept: boolean;
  vips: string[];
  excludedVips: string[];
  vipsHeld: string[];
  unicastPeers: string[];
  lastTransition: Transition | null;
  transitions: number;
  stats: InstanceStats;
}

/** A VIP's canonical text, parsed (it was validated with the section). */
function vip(text: string): Vip {
  return parseVip(text) as Vip;
}

/** The advertised VIPs in canonical form. */
export function advertisedVips(i: Instance): string[] {
  return i.vips.map((v) => (parseVip(v) as { text: string }).text);
}

/** Advertised and excluded VIPs: what a master holds. */
export function allVips(i: Instance): string[] {
  return [...advertisedVips(i), ...(i.excludedVips ?? []).map((v) => (parseVip(v) as { text: string }).text)];
}

const SHOWN: Array<keyof Instance> = ['priority', 'advertInterval', 'version', 'vips', 'excludedVips', 'nopreempt', 'preemptDelay', 'accept', 'authPass', 'unicastPeers', 'trackInterfaces', 'trackFiles', 'trackScripts', 'trackChecks', 'garpRepeat', 'garpDelay', 'garpRefresh', 'notify'];

function describeChanges(name: string, a: Instance, b: Instance): string[] {
  const out: string[] = [];
  for (const k of SHOWN) {
    const x = JSON.stringify(a[k] ?? null);
    const y = JSON.stringify(b[k] ?? null);
    if (x === y) continue;
    out.push(k === 'authPass' ? `vrrp instance ${name}: password changed` : `vrrp instance ${name}: ${k} ${x} -> ${y}`);
  }
  return out;
}

export type { Notify };
