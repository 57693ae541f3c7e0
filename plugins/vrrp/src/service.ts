/**
 * The vrrp plugin's service in `ha agent` (the `ha:services` hook): every instance of the
 * section running, the trackers' sources (links, files, scripts; the check plugin adds 'check'
 * trackers to the same registry), notifications in order, sync groups, reloads that keep what did
 * not change, and the control methods `vrrp.status`, `vrrp.stats`, `vrrp.demote`, `vrrp.promote`.
 */
import { closeSync, constants as fsConstants, openSync, readSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { UsageError } from '@ha/lib';
import type { Service, ServiceContext } from '@ha/lib/agent';
import type { TimerHandle } from '@ha/lib/agent';
import { NETLINK_ROUTE, decodeLink, listLinks } from '@ha/lib/netlink';
import { Counter, Gauge } from 'prom-client';
import { DEFAULTS, Instance, Script, VrrpSection } from './model.js';
import { NotifyQueue, lookupUser, shellCommand, transitionJobs } from './notify.js';
import { RiseFall, TrackerKind, TrackerRegistry } from './priority.js';
import { SyncGroup } from './group.js';
import { InstanceRunner, InstanceStatus, RunnerDeps, identityOf } from './speaker.js';
import type { VrrpState } from './types.js';
import { SocketWire, VipKernel, Wire, netlinkVips } from './wire.js';

const RTNLGRP_LINK = 1;
const STATE_NUMBER: Record<VrrpState, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 98 };

export interface ServiceOptions {
  wire?: Wire;
  kernel?: VipKernel;
  /** Watch links over netlink (off in tests without a kernel). */
  watchLinks?: boolean;
}

export interface VrrpStatus {
  instances: InstanceStatus[];
  groups: Array<{ name: string; instances: string[]; state: VrrpState }>;
}

/** Link state for interface trackers: rtnetlink notifications, read again after an overrun. */
class LinkSource {
  private unsubscribe?: () => void;
  constructor(private readonly ctx: ServiceContext, private readonly registry: TrackerRegistry, private readonly names: () => Set<string>) {}

  async start(): Promise<void> {
    const session = this.ctx.netlink.session(NETLINK_ROUTE);
    this.unsubscribe = session.subscribe(RTNLGRP_LINK, (msg) => {
      try {
        const link = decodeLink(msg);
        this.set(link.name, msg.type === 16 && link.up && link.lowerUp);
      } catch { /* not a link we can read */ }
    }, () => { void this.resync(); });
    await this.resync();
  }

  async resync(): Promise<void> {
    const wanted = this.names();
    let links: Awaited<ReturnType<typeof listLinks>> = [];
    try {
      links = await listLinks();
    } catch (error) {
      this.ctx.logger.warn(`cannot read the links: ${(error as Error).message}`);
    }
    for (const name of wanted) {
      const l = links.find((x) => x.name === name);
      this.set(name, !!l && l.up && l.lowerUp);
    }
  }

  private set(name: string, up: boolean): void {
    if (!this.names().has(name)) return;
    if (!this.registry.has('interface', name)) this.registry.register('interface', name);
    const had = this.registry.get('interface', name)?.ok;
    if (had !== up) this.ctx.logger.info(`interface ${name} ${up ? 'up' : 'down'}`, { interface: name });
    this.registry.update('interface', name, { ok: up });
  }

  stop(): void {
    this.unsubscribe?.();
  }
}

/**
 * A track_file: the integer at the start of the file, read every second. At most 64 bytes are
 * read, without blocking, so a huge file, a device (/dev/zero) or a FIFO costs nothing.
 */
function readTrackFile(path: string): number {
  let fd: number | undefined;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const buf = Buffer.alloc(64);
    const n = readSync(fd, buf, 0, 64, null);
    const m = /^\s*[+-]?\d{1,10}/.exec(buf.toString('utf8', 0, n));
    return m ? Number(m[0]) : 0;
  } catch {
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A vrrp_script: run every interval, killed at its timeout, not restarted while running. */
class ScriptSource {
  private timer?: TimerHandle;
  private running = false;
  private readonly riseFall: RiseFall;
  private stopped = false;

  constructor(readonly name: string, readonly script: Script, private readonly ctx: ServiceContext, private readonly registry: TrackerRegistry, private readonly runAs: { uid?: number; gid?: number }) {
    this.riseFall = new RiseFall(script.rise ?? DEFAULTS.rise, script.fall ?? DEFAULTS.fall);
    if (!registry.has('script', name)) registry.register('script', name);
  }

  start(): void {
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    const interval = (this.script.interval ?? DEFAULTS.scriptInterval) * 1000;
    this.timer = this.ctx.clock.setTimer(interval, () => this.tick());
    if (this.running) return;
    this.running = true;
    const timeout = (this.script.timeout ?? this.script.interval ?? DEFAULTS.scriptInterval) * 1000;
    const [file, argv] = shellCommand(this.script.command);
    const child = spawn(file, argv, {
      stdio: 'ignore', detached: true, ...(this.runAs.uid !== undefined ? { uid: this.runAs.uid, gid: this.runAs.gid } : {}),
    });
    let timedOut = false;
    const kill = (sig: NodeJS.Signals): void => {
      try { process.kill(-child.pid!, sig); } catch { /* gone */ }
    };
    const t1 = setTimeout(() => { timedOut = true; kill('SIGTERM'); }, timeout);
    const t2 = setTimeout(() => kill('SIGKILL'), timeout + 1000);
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(t1);
      clearTimeout(t2);
      this.running = false;
      if (this.stopped) return;
      const before = this.registry.get('script', this.name)?.ok;
      const now = this.riseFall.push(ok && !timedOut);
      if (before !== now) this.ctx.logger.info(`script ${this.name} ${now ? 'succeeded' : timedOut ? 'timed out' : 'failed'}`, { script: this.name });
      this.registry.update('script', this.name, { ok: now });
    };
    child.once('error', () => finish(false));
    child.once('exit', (code) => finish(code === 0));
  }

  /** Stop running it; `forget` also drops its result (false: a replacement takes over the result). */
  stop(forget = true): void {
    this.stopped = true;
    this.ctx.clock.clearTimer(this.timer);
    if (forget) this.registry.unregister('script', this.name);
  }
}

export class VrrpService implements Service<VrrpSection> {
  private readonly registry = new TrackerRegistry();
  private readonly runners = new Map<string, InstanceRunner>();
  private readonly queues = new Map<string, NotifyQueue>();
  private readonly scriptSources = new Map<string, ScriptSource>();
  private readonly files = new Set<string>();
  private fileTimer?: TimerHandle;
  private links?: LinkSource;
  private readonly wire: Wire;
  private readonly kernel: VipKernel;
  private section: VrrpSection = {};
  private groups = new Map<string, SyncGroup>();
  readonly methods;

  constructor(private readonly ctx: ServiceContext, private readonly options: ServiceOptions = {}) {
    this.wire = options.wire ?? new SocketWire((e) => ctx.logger.warn(`socket: ${e.message}`));
    this.kernel = options.kernel ?? netlinkVips;
    this.methods = {
      status: (params: unknown) => this.statusOf(params),
      stats: (params: unknown) => this.statusOf(params).instances.map((i) => ({ name: i.name, state: i.state, stats: i.stats })),
      demote: (params: unknown) => this.demote(params),
      promote: (params: unknown) => this.promote(params),
    };
    this.registerMetrics();
    this.followChecks();
  }

  private checkSubscription?: { close(): void };

  /**
   * Health-check results from the check plugin's service: events of source "checks", type
   * "result", data {name, ok}. They feed the 'check' trackers by name.
   */
  private followChecks(): void {
    this.checkSubscription = this.ctx.bus.subscribe((e) => {
      const d = e.data as { name?: unknown; ok?: unknown } | undefined;
      if (e.type !== 'result' || typeof d?.name !== 'string' || typeof d.ok !== 'boolean') return;
      if (!this.registry.has('check', d.name)) this.registry.register('check', d.name);
      this.registry.update('check', d.name, { ok: d.ok });
    }, { sources: ['checks'], name: 'vrrp check trackers' });
  }

  async run(section: VrrpSection): Promise<void> {
    this.section = section;
    if (this.options.watchLinks !== false) {
      this.links = new LinkSource(this.ctx, this.registry, () => this.trackedInterfaces());
      await this.links.start();
    }
    this.startScripts(section);
    this.watchFiles(section);
    const grouped = this.groupedInstances(section);
    const fresh: string[] = [];
    for (const name of Object.keys(section.instances ?? {}).sort()) {
      await this.startInstance(name, section.instances![name]!, grouped.has(name));
      if (grouped.has(name)) fresh.push(name);
    }
    this.buildGroups(fresh);
  }

  private groupedInstances(section: VrrpSection): Set<string> {
    return new Set(Object.values(section.groups ?? {}).flatMap((g) => g.instances));
  }

  /**
   * (Re)build the sync groups over the running machines; `fresh` members have not started yet
   * and start through their group. Instances no longer in a group run on their own again.
   */
  private buildGroups(fresh: string[]): void {
    for (const r of this.runners.values()) {
      r.router = undefined;
      r.stateMachine.setMasterGate(undefined);
    }
    this.groups.clear();
    const now = this.ctx.clock.now();
    for (const [gname, g] of Object.entries(this.section.groups ?? {})) {
      const members = g.instances.map((n) => this.runners.get(n)).filter((r): r is InstanceRunner => r !== undefined);
      if (members.length === 0) continue;
      const group = new SyncGroup(gname, members.map((r) => r.stateMachine));
      this.groups.set(gname, group);
      for (const r of members) {
        r.router = (instance, events) => {
          for (const e of events) this.carryGroup(gname, group.handle(instance, e, this.ctx.clock.now()));
        };
      }
      for (const r of members) if (fresh.includes(r.name)) this.carryGroup(gname, group.handle(r.name, { type: 'startup' }, now));
    }
  }

  private carryGroup(gname: string, result: ReturnType<SyncGroup['handle']>): void {
    for (const { instance, actions } of result.actions) this.runners.get(instance)?.carryOut(actions);
    // an event may move a member's deadline without any action: re-arm every member's timer
    for (const n of this.section.groups?.[gname]?.instances ?? []) this.runners.get(n)?.schedule();
    const g = this.section.groups?.[gname];
    for (const t of result.transitions) {
      this.ctx.logger.info(`sync group ${gname}: ${t.from} -> ${t.to} (${t.reason})`, { group: gname });
      this.ctx.bus.publish('vrrp', 'group-transition', { group: gname, from: t.from, to: t.to, reason: t.reason });
      const jobs = transitionJobs('GROUP', gname, t.to, 0, g?.notify);
      if (jobs.length) this.queueOf(`group:${gname}`).push(...jobs);
    }
  }

  async reload(next: VrrpSection): Promise<string[]> {
    const changes: string[] = [];
    const old = this.section;
    this.section = next;
    // scripts first: instances may track new ones; another script user restarts them all
    if ((old.scriptUser ?? DEFAULTS.scriptUser) !== (next.scriptUser ?? DEFAULTS.scriptUser)) {
      for (const src of this.scriptSources.values()) src.stop(false);
      this.scriptSources.clear();
      changes.push(`vrrp scripts now run as ${next.scriptUser ?? DEFAULTS.scriptUser}`);
    }
    this.startScripts(next, changes);
    this.watchFiles(next);
    const oldByIdentity = new Map<string, string>();
    for (const [name, i] of Object.entries(old.instances ?? {})) oldByIdentity.set(identityOf(i), name);
    const kept = new Set<string>();
    const grouped = this.groupedInstances(next);
    const fresh: string[] = [];
    for (const [name, i] of Object.entries(next.instances ?? {})) {
      const was = oldByIdentity.get(identityOf(i));
      const runner = was !== undefined ? this.runners.get(was) : undefined;
      if (runner && was !== undefined) {
        kept.add(was);
        if (was !== name) {
          this.runners.delete(was);
          runner.name = name;
          this.runners.set(name, runner);
          this.queues.set(name, this.queues.get(was)!);
          this.queues.delete(was);
          changes.push(`vrrp instance ${was} renamed to ${name}`);
        }
        if (JSON.stringify(old.instances![was]) !== JSON.stringify(i)) changes.push(...runner.reconfigure(i, next.scripts ?? {}));
      } else {
        await this.startInstance(name, i, grouped.has(name));
        if (grouped.has(name)) fresh.push(name);
        changes.push(`vrrp instance ${name} started`);
      }
    }
    for (const name of Object.keys(old.instances ?? {})) {
      if (kept.has(name)) continue;
      const runner = this.runners.get(name);
      if (!runner) continue;
      await runner.stop();
      this.runners.delete(name);
      this.queues.delete(name);
      changes.push(`vrrp instance ${name} stopped`);
    }
    for (const name of [...this.scriptSources.keys()]) {
      if (!next.scripts?.[name]) {
        this.scriptSources.get(name)!.stop();
        this.scriptSources.delete(name);
        changes.push(`vrrp script ${name} removed`);
      }
    }
    if (JSON.stringify(old.groups ?? {}) !== JSON.stringify(next.groups ?? {})) changes.push('vrrp sync groups changed');
    this.buildGroups(fresh);
    await this.links?.resync();
    return changes;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    for (const s of this.scriptSources.values()) s.stop();
    this.scriptSources.clear();
    this.ctx.clock.clearTimer(this.fileTimer);
    this.links?.stop();
    for (const m of this.metricNames) this.ctx.metrics.removeSingleMetric(m);
    this.checkSubscription?.close();
    // let the STOP notifications start before the process goes
    await new Promise((r) => setTimeout(r, 10));
    this.wire.close();
  }

  status(): { instances: number; master: number; backup: number; fault: number } {
    const states = [...this.runners.values()].map((r) => r.state);
    return { instances: states.length, master: states.filter((s) => s === 'MASTER').length, backup: states.filter((s) => s === 'BACKUP').length, fault: states.filter((s) => s === 'FAULT').length };
  }

  private trackedInterfaces(): Set<string> {
    const out = new Set<string>();
    for (const i of Object.values(this.section.instances ?? {})) {
      out.add(i.interface);
      for (const t of i.trackInterfaces ?? []) out.add(t.interface);
    }
    return out;
  }

  private startScripts(section: VrrpSection, changes?: string[]): void {
    const runAs = this.runAs();
    for (const [name, s] of Object.entries(section.scripts ?? {})) {
      const had = this.scriptSources.get(name);
      if (had && JSON.stringify(had.script) === JSON.stringify(s)) continue;
      had?.stop(false);
      const src = new ScriptSource(name, s, this.ctx, this.registry, runAs);
      this.scriptSources.set(name, src);
      src.start();
      changes?.push(`vrrp script ${name} ${had ? 'changed' : 'added'}`);
    }
  }

  private watchFiles(section: VrrpSection): void {
    this.files.clear();
    for (const i of Object.values(section.instances ?? {})) for (const f of i.trackFiles ?? []) this.files.add(f.path);
    for (const f of this.files) if (!this.registry.has('file', f)) this.registry.register('file', f, { value: readTrackFile(f) });
    this.ctx.clock.clearTimer(this.fileTimer);
    if (this.files.size === 0) return;
    const poll = (): void => {
      for (const f of this.files) this.registry.update('file', f, { value: readTrackFile(f) });
      this.fileTimer = this.ctx.clock.setTimer(1000, poll);
    };
    this.fileTimer = this.ctx.clock.setTimer(1000, poll);
  }

  private runAs(): { uid?: number; gid?: number } {
    const user = this.section.scriptUser ?? DEFAULTS.scriptUser;
    const found = lookupUser(user);
    if (!found) {
      this.ctx.logger.warn(`script user ${user} does not exist; scripts run as root`);
      return {};
    }
    return found;
  }

  private queueOf(name: string): NotifyQueue {
    let q = this.queues.get(name);
    if (!q) {
      const service = this;
      q = new NotifyQueue({
        // read at each run: a reload that changes notifyTimeout applies to queues already made
        get timeoutMs() { return (service.section.notifyTimeout ?? DEFAULTS.notifyTimeout) * 1000; },
        get runAs() { return service.runAs(); },
        onDone: (r) => {
          const runner = this.runners.get(name);
          if (runner) {
            runner.stats.notifications.run++;
            if (r.timedOut) runner.stats.notifications.timedOut++;
            else if (r.exitCode !== 0) runner.stats.notifications.failed++;
          }
          const line = `${r.command}${r.args.length ? ` ${r.args.join(' ')}` : ''}`;
          if (r.timedOut) this.ctx.logger.warn(`${name}: notify "${line}" killed after ${r.ms} ms (timeout)`, { instance: name });
          else if (r.exitCode !== 0) this.ctx.logger.warn(`${name}: notify "${line}" exited ${r.exitCode ?? r.signal}`, { instance: name });
          this.ctx.bus.publish('vrrp', 'notified', { instance: name, command: r.command, args: r.args, exitCode: r.exitCode, timedOut: r.timedOut, ms: r.ms });
        },
      });
      this.queues.set(name, q);
    }
    return q;
  }

  private deps(): RunnerDeps {
    return {
      wire: this.wire,
      kernel: this.kernel,
      clock: this.ctx.clock,
      logger: this.ctx.logger,
      registry: this.registry,
      emit: (type, data) => {
        this.ctx.bus.publish('vrrp', type, data);
      },
      notify: (instance, jobs) => this.queueOf(instance).push(...jobs),
    };
  }

  private async startInstance(name: string, i: Instance, deferStartup = false): Promise<void> {
    const runner = new InstanceRunner(name, i, this.section.scripts ?? {}, this.deps());
    this.runners.set(name, runner);
    try {
      await runner.start({ deferStartup });
    } catch (error) {
      this.runners.delete(name);
      throw error;
    }
  }

  private pick(params: unknown): InstanceRunner[] {
    const name = (params as { name?: unknown } | undefined)?.name;
    if (name === undefined || name === null) return [...this.runners.values()].sort((a, b) => a.name.localeCompare(b.name));
    const r = typeof name === 'string' ? this.runners.get(name) : undefined;
    if (!r) throw new UsageError(`no running VRRP instance named ${String(name)} (running: ${[...this.runners.keys()].sort().join(', ') || 'none'})`);
    return [r];
  }

  private statusOf(params: unknown): VrrpStatus {
    return {
      instances: this.pick(params).map((r) => r.status()),
      groups: Object.entries(this.section.groups ?? {}).map(([name, g]) => ({ name, instances: g.instances, state: this.groups.get(name)?.state ?? 'INIT' })),
    };
  }

  private demote(params: unknown): InstanceStatus {
    const p = (params ?? {}) as { name?: unknown; by?: unknown };
    if (typeof p.name !== 'string') throw new UsageError('demote needs an instance name');
    if (!Number.isInteger(p.by) || (p.by as number) < 0 || (p.by as number) > 254) throw new UsageError('demote: --by must be a whole number from 0 to 254');
    const r = this.pick({ name: p.name })[0]!;
    r.setDemotion(p.by === 0 ? {} : { by: p.by as number });
    return r.status();
  }

  private promote(params: unknown): InstanceStatus {
    const p = (params ?? {}) as { name?: unknown; to?: unknown };
    if (typeof p.name !== 'string') throw new UsageError('promote needs an instance name');
    if (p.to !== undefined && (!Number.isInteger(p.to) || (p.to as number) < 1 || (p.to as number) > 254)) throw new UsageError('promote: --to must be a whole number from 1 to 254');
    const r = this.pick({ name: p.name })[0]!;
    r.setDemotion(p.to === undefined ? {} : { to: p.to as number });
    return r.status();
  }

  private readonly metricNames: string[] = [];

  private registerMetrics(): void {
    const registry = this.ctx.metrics;
    // a service started again (the section removed, then back) replaces the metrics of the last one
    for (const m of registry.getMetricsAsArray()) if (m.name.startsWith('ha_vrrp_')) registry.removeSingleMetric(m.name);
    const each = (fn: (r: InstanceRunner) => void): void => { for (const r of this.runners.values()) fn(r); };
    new Gauge({
      name: 'ha_vrrp_state', help: 'VRRP instance state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP (keepalived\'s numbers).', labelNames: ['instance', 'interface', 'vrid'], registers: [registry],
      collect() { this.reset(); each((r) => this.set({ instance: r.name, interface: r.config.interface, vrid: String(r.config.vrid) }, STATE_NUMBER[r.state])); },
    });
    new Gauge({
      name: 'ha_vrrp_priority', help: 'VRRP priority: base (configured) and effective (after trackers and demotion).', labelNames: ['instance', 'kind'], registers: [registry],
      collect() { this.reset(); each((r) => { const s = r.status(); this.set({ instance: r.name, kind: 'base' }, s.basePriority); this.set({ instance: r.name, kind: 'effective' }, s.effectivePriority); }); },
    });
    const counter = (name: string, help: string, value: (r: InstanceRunner) => number): void => {
      new Counter({
        name, help, labelNames: ['instance'], registers: [registry],
        collect() { this.reset(); each((r) => this.inc({ instance: r.name }, value(r))); },
      });
    };
    counter('ha_vrrp_transitions_total', 'State transitions of the instance.', (r) => r.status().transitions);
    counter('ha_vrrp_adverts_sent_total', 'Adverts sent.', (r) => r.stats.advertsSent);
    counter('ha_vrrp_adverts_received_total', 'Valid adverts received.', (r) => r.stats.advertsReceived);
    counter('ha_vrrp_became_master_total', 'Times the instance became master.', (r) => r.stats.becameMaster);
    counter('ha_vrrp_released_master_total', 'Times the instance left master.', (r) => r.stats.releasedMaster);
    counter('ha_vrrp_priority_zero_sent_total', 'Priority-0 adverts sent.', (r) => r.stats.priorityZeroSent);
    counter('ha_vrrp_priority_zero_received_total', 'Priority-0 adverts received.', (r) => r.stats.priorityZeroReceived);
    new Counter({
      name: 'ha_vrrp_packet_errors_total', help: 'Received VRRP packets refused, by reason (keepalived\'s counter names).', labelNames: ['instance', 'reason'], registers: [registry],
      collect() { this.reset(); each((r) => { for (const [reason, n] of Object.entries(r.stats.errors)) this.inc({ instance: r.name, reason }, n ?? 0); }); },
    });
    for (const m of registry.getMetricsAsArray()) if (m.name.startsWith('ha_vrrp_')) this.metricNames.push(m.name);
  }
}

export type { TrackerKind };
