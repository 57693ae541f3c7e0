/**
 * Converging the kernel's IPVS table to a desired one: the smallest set of changes, each with its
 * undo, as netlink requests that the core sends pipelined. Unchanged services and servers are not
 * touched, so their connections live on.
 */
import type { Step } from '@ha/lib/state';
import { BulkOptions, GenlFamily, NETLINK_GENERIC, NetlinkSession, Request } from '@ha/lib/netlink';
import { thresholdsOmitted } from './ipvsadm/rules.js';
import { build, family, fillServers, getTimeouts, serversAreBasic, listDaemons, setTimeouts, startDaemon, stopDaemon } from './kernel.js';
import {
  Server, Service, SyncDaemon, Timeouts, indexOfServer, schedFlagBit, serverId, serverLabel, serviceId, serviceLabel,
} from './model.js';

export interface PlanOptions {
  /** Only add what is missing (ipvsadm --restore's behaviour): never delete or change. */
  addOnly?: boolean;
}

/**
 * IPVS requests are small (about 150 bytes) and only the last of a datagram is acknowledged, so
 * 128 of them per datagram and 1,024 in flight stay far below the socket buffers while a restore
 * of 60,000 objects needs a quarter of the system calls the defaults (32, 256) take.
 */
const BULK: BulkOptions = { window: 1024, perDatagram: 128 };
const ipvsSession = (): NetlinkSession => NetlinkSession.get(NETLINK_GENERIC);

/**
 * One change to a service or a real server: one request, its undo built only when needed, and
 * its label and detail made only when read. A restore of 60,000 objects holds 60,000 of these and
 * usually prints a summary, and the garbage collector's work grows with the objects kept per step.
 */
class IpvsStep implements Step {
  readonly netlink: IpvsStepNetlink;

  constructor(
    readonly op: Step['op'],
    readonly f: GenlFamily,
    /** The service (for a change: the desired one; for a delete: the kernel's). */
    readonly s: Service,
    /** The real server, for a server step (same rule as s). */
    readonly r: Server | undefined,
    /** For a change: what the kernel has now. */
    readonly prev: Service | Server | undefined,
  ) {
    this.netlink = new IpvsStepNetlink(this);
  }

  /**
   * The request, built each time it is read: a restore of 60,000 changes sends them as a stream,
   * and building each just before it goes keeps only a window of requests alive instead of all.
   */
  get request(): Request {
    const { op, f, s, r } = this;
    if (r) return op === 'add' ? build.addServer(f, s, r) : op === 'delete' ? build.deleteServer(f, s, r) : build.editServer(f, s, r);
    return op === 'add' ? build.addService(f, s) : op === 'delete' ? build.deleteService(f, s) : build.editService(f, s);
  }

  get object(): string {
    return this.r ? `real server ${serverLabel(this.r)} of ${serviceLabel(this.s)}` : `service ${serviceLabel(this.s)}`;
  }

  get detail(): string | undefined {
    const { op, s, r, prev } = this;
    if (op === 'delete') return undefined;
    if (op === 'change') return (r ? serverChanges(prev as Server, r) : serviceChanges(prev as Service, s)).join(', ');
    return r ? serverText(r) : serviceText(s);
  }

  undoRequest(): Request {
    const { op, f, s, r, prev } = this;
    if (r) return op === 'add' ? build.deleteServer(f, s, r) : op === 'delete' ? build.addServer(f, s, r) : build.editServer(f, s, prev as Server);
    return op === 'add' ? build.deleteService(f, s) : op === 'delete' ? build.addService(f, s) : build.editService(f, prev as Service);
  }

  async apply(): Promise<void> {
    await ipvsSession().request(this.request);
  }

  async undo(): Promise<void> {
    await ipvsSession().request(this.undoRequest());
  }
}

/** Step.netlink of an IPVS step: the undo request is built only when it is read. */
class IpvsStepNetlink {
  constructor(private readonly step: IpvsStep) {}

  readonly bulk = BULK;

  get session(): NetlinkSession {
    return ipvsSession();
  }

  get request(): Request {
    return this.step.request;
  }

  get undo(): Request {
    return this.step.undoRequest();
  }
}

/** A new service's settings, for people: "wrr", "sh, flags sh-port, persistent 600 mask 255.255.255.0, pe sip, ops". */
export function serviceText(s: Service): string {
  const parts = [s.scheduler];
  if (s.schedFlags.length) parts.push(`flags ${s.schedFlags.join(',')}`);
  if (s.persistence) parts.push(`persistent ${s.persistence.timeout} mask ${s.persistence.netmask}`);
  if (s.pe) parts.push(`pe ${s.pe}`);
  if (s.onePacket) parts.push('ops');
  return parts.join(', ');
}

/** A new real server's settings, for people: "masq weight 3", "tunnel gue:6080 csum weight 1, thresholds 100/10". */
export function serverText(r: Server): string {
  const t = tunnelText(r);
  const thresholds = r.upperThreshold || r.lowerThreshold ? `, thresholds ${r.upperThreshold}/${r.lowerThreshold}` : '';
  return `${r.forward}${t ? ` ${t}` : ''} weight ${r.weight}${thresholds}`;
}

const flagBits = (s: Service): number => s.schedFlags.reduce((n, f) => n | (1 << schedFlagBit(f)), 0);

/** What differs in a service's own settings (not its servers), for people. */
export function serviceChanges(from: Service, to: Service): string[] {
  const out: string[] = [];
  if (from.scheduler !== to.scheduler) out.push(`scheduler ${from.scheduler} -> ${to.scheduler}`);
  const p = (s: Service): string => (s.persistence ? `persistent ${s.persistence.timeout} mask ${s.persistence.netmask}` : 'not persistent');
  if (p(from) !== p(to)) out.push(`${p(from)} -> ${p(to)}`);
  if ((from.pe ?? '') !== (to.pe ?? '')) out.push(`pe ${from.pe ?? 'none'} -> ${to.pe ?? 'none'}`);
  if (flagBits(from) !== flagBits(to)) out.push(`flags ${from.schedFlags.join(',') || 'none'} -> ${to.schedFlags.join(',') || 'none'}`);
  if (from.onePacket !== to.onePacket) out.push(`ops ${from.onePacket ? 'on' : 'off'} -> ${to.onePacket ? 'on' : 'off'}`);
  return out;
}

/** serviceChanges(from, to).length > 0, without building the texts. */
function serviceDiffers(from: Service, to: Service): boolean {
  if (from.scheduler !== to.scheduler || from.onePacket !== to.onePacket || (from.pe ?? '') !== (to.pe ?? '')) return true;
  const a = from.persistence;
  const b = to.persistence;
  if (a || b) {
    if (!a || !b || a.timeout !== b.timeout || String(a.netmask) !== String(b.netmask)) return true;
  }
  return (from.schedFlags.length !== 0 || to.schedFlags.length !== 0) && flagBits(from) !== flagBits(to);
}

export function serverChanges(from: Server, to: Server): string[] {
  const out: string[] = [];
  if (from.forward !== to.forward) out.push(`forward ${from.forward} -> ${to.forward}`);
  if (from.weight !== to.weight) out.push(`weight ${from.weight} -> ${to.weight}`);
  if (from.upperThreshold !== to.upperThreshold) out.push(`upper threshold ${from.upperThreshold} -> ${to.upperThreshold}`);
  if (from.lowerThreshold !== to.lowerThreshold) out.push(`lower threshold ${from.lowerThreshold} -> ${to.lowerThreshold}`);
  const t = tunnelText(from);
  const u = tunnelText(to);
  if (t !== u) out.push(`tunnel ${t || 'none'} -> ${u || 'none'}`);
  return out;
}

const tunnelText = (r: Server): string => (r.forward === 'tunnel' && r.tunnel ? `${r.tunnel.type}${r.tunnel.port ? `:${r.tunnel.port}` : ''} ${r.tunnel.checksum}` : '');

/** serverChanges(from, to).length > 0, without building the texts. */
function serverDiffers(from: Server, to: Server): boolean {
  if (from.forward !== to.forward || from.weight !== to.weight || from.upperThreshold !== to.upperThreshold || from.lowerThreshold !== to.lowerThreshold) return true;
  return (from.forward === 'tunnel' || to.forward === 'tunnel') && tunnelText(from) !== tunnelText(to);
}

/** A real server (by family, address and port) in a list, or undefined. */
function findServer(servers: readonly Server[], k: Server): Server | undefined {
  const i = indexOfServer(servers, k);
  return i === -1 ? undefined : servers[i];
}

/** Finds real servers in a list: by scanning a short list, through a map for a long one. */
function serverFinder(servers: readonly Server[]): (k: Server) => Server | undefined {
  if (servers.length <= 16) return (k) => findServer(servers, k);
  const byId = new Map(servers.map((r) => [serverId(r), r]));
  return (k) => byId.get(serverId(k));
}

/**
 * Prepare a restore from ipvsadm rules against a basic listing (kernel.listServices with detail
 * "basic": real servers from /proc/net/ip_vs, without thresholds). Real servers whose rules left
 * the thresholds out take the kernel's, and the services where the plan needs the kernel's real
 * thresholds are read in full first: where a real server changes (its edit must carry them, and
 * its undo restore them), is deleted (its undo re-creates it), or its rule gives -x/-y (to
 * compare). The rest keep their one-read listing: a restore that changes one server of 10,000
 * services reads a handful of services in full instead of all of them.
 */
export async function settleRules(desired: Service[], current: Service[]): Promise<void> {
  const now = new Map<string, Service>();
  for (const s of current) now.set(serviceId(s), s);
  const kept = new Set<Service>();
  const pairs: Array<[Service, Service]> = [];
  const need: Service[] = [];
  for (const s of desired) {
    const cur = now.get(serviceId(s));
    if (!cur) continue;
    kept.add(cur);
    pairs.push([s, cur]);
    if (serversAreBasic(cur) && needsDetail(s.servers, cur.servers)) need.push(cur);
  }
  for (const cur of current) if (!kept.has(cur) && serversAreBasic(cur)) need.push(cur);
  await fillServers(need);
  // what the rules left out is what the kernel has
  for (const [s, cur] of pairs) {
    for (const r of s.servers) {
      if (!thresholdsOmitted(r)) continue;
      const c = findServer(cur.servers, r);
      if (c) {
        r.upperThreshold = c.upperThreshold;
        r.lowerThreshold = c.lowerThreshold;
      }
    }
  }
}

/**
 * Does the plan need the kernel's every attribute of these real servers (`current` from the text
 * table)? Yes when one of them changes, goes, or has thresholds in its rule.
 */
function needsDetail(wanted: readonly Server[], current: readonly Server[]): boolean {
  let matched = 0;
  const find = current.length > 16 ? serverFinder(current) : (k: Server): Server | undefined => findServer(current, k);
  for (const r of wanted) {
    const c = find(r);
    if (!c) continue;
    matched++;
    if (!thresholdsOmitted(r) || c.forward !== r.forward || c.weight !== r.weight) return true;
  }
  // a real server of the kernel's that the rules do not have is deleted
  return matched !== current.length;
}

/** The steps that turn `current` into `desired`. */
export async function planServices(desired: Service[], current: Service[], options: PlanOptions = {}): Promise<Step[]> {
  const steps: Step[] = [];
  const f = await family();
  const now = new Map<string, Service>();
  for (const s of current) now.set(serviceId(s), s);
  const want = new Map<string, Service>();
  for (const s of desired) want.set(serviceId(s), s);

  if (!options.addOnly) {
    for (const [id, s] of now) {
      if (want.has(id)) continue;
      // servers first, each with its own undo, then the service: undone newest first, this
      // re-creates the service and then its servers, all as pipelined requests
      for (const r of s.servers) steps.push(new IpvsStep('delete', f, s, r, undefined));
      steps.push(new IpvsStep('delete', f, s, undefined, undefined));
    }
  }

  for (const [id, s] of want) {
    const cur = now.get(id);
    if (!cur) {
      steps.push(new IpvsStep('add', f, s, undefined, undefined));
      for (const r of s.servers) steps.push(new IpvsStep('add', f, s, r, undefined));
      continue;
    }
    if (!options.addOnly && serviceDiffers(cur, s)) steps.push(new IpvsStep('change', f, s, undefined, cur));
    const inCurrent = serverFinder(cur.servers);
    if (!options.addOnly) {
      const inWanted = serverFinder(s.servers);
      for (const r of cur.servers) {
        if (!inWanted(r)) steps.push(new IpvsStep('delete', f, cur, r, undefined));
      }
    }
    for (const r of s.servers) {
      const c = inCurrent(r);
      if (!c) steps.push(new IpvsStep('add', f, s, r, undefined));
      else if (!options.addOnly && serverDiffers(c, r)) steps.push(new IpvsStep('change', f, s, r, c));
    }
  }
  return steps;
}

export async function planTimeouts(desired: Timeouts | undefined): Promise<Step[]> {
  if (!desired) return [];
  const cur = await getTimeouts();
  if (cur.tcp === desired.tcp && cur.tcpfin === desired.tcpfin && cur.udp === desired.udp) return [];
  const fmt = (t: Timeouts): string => `${t.tcp}/${t.tcpfin}/${t.udp}`;
  return [{
    op: 'change',
    object: 'timeouts (tcp/tcpfin/udp)',
    detail: `${fmt(cur)} -> ${fmt(desired)}`,
    apply: () => setTimeouts(desired),
    undo: () => setTimeouts(cur),
  }];
}

const daemonText = (d: SyncDaemon): string =>
  [`interface ${d.interface}`, `syncid ${d.syncid}`, d.maxlen !== undefined ? `maxlen ${d.maxlen}` : '', d.group ? `group ${d.group}` : '',
    d.port !== undefined ? `port ${d.port}` : '', d.ttl !== undefined ? `ttl ${d.ttl}` : ''].filter(Boolean).join(', ');

export async function planDaemons(desired: SyncDaemon[] | undefined, options: PlanOptions = {}): Promise<Step[]> {
  if (!desired) return [];
  const cur = await listDaemons();
  const steps: Step[] = [];
  for (const state of ['master', 'backup'] as const) {
    const c = cur.find((d) => d.state === state);
    const w = desired.find((d) => d.state === state);
    if (c && w && daemonText(c) === daemonText(w)) continue;
    if (c && (!options.addOnly || w)) {
      if (options.addOnly) continue;
      steps.push({ op: w ? 'change' : 'delete', object: `${state} sync daemon`, detail: w ? `${daemonText(c)} -> ${daemonText(w)}` : daemonText(c),
        apply: async () => { await stopDaemon(state); if (w) await startDaemon(w); },
        undo: async () => { if (w) await stopDaemon(state).catch(() => undefined); await startDaemon(c); } });
    } else if (w && !c) {
      steps.push({ op: 'add', object: `${state} sync daemon`, detail: daemonText(w), apply: () => startDaemon(w), undo: () => stopDaemon(state) });
    }
  }
  return steps;
}
