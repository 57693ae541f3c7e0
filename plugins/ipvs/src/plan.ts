/**
 * Converging the kernel's IPVS table to a desired one: the smallest set of changes, each with its
 * undo, as netlink requests that the core sends pipelined. Unchanged services and servers are not
 * touched, so their connections live on.
 */
import type { Step } from '@ha/lib/state';
import { NETLINK_GENERIC, NetlinkSession, Request } from '@ha/lib/netlink';
import { build, family, getTimeouts, listDaemons, setTimeouts, startDaemon, stopDaemon } from './kernel.js';
import {
  Server, Service, SyncDaemon, Timeouts, schedFlagBit, serverId, serverLabel, serviceId, serviceLabel,
} from './model.js';

export interface PlanOptions {
  /** Only add what is missing (ipvsadm --restore's behaviour): never delete or change. */
  addOnly?: boolean;
}

/**
 * A step that is one request. Its undo request is built only if it is needed, and its label and
 * detail only when read: a restore of 60,000 objects plans 60,000 steps and usually prints a summary.
 */
class NetlinkStep implements Step {
  readonly netlink: { session: NetlinkSession; request: Request; undo: () => Request };

  constructor(
    readonly op: Step['op'],
    private readonly label: () => string,
    private readonly describe: (() => string) | undefined,
    request: Request,
    undo: () => Request,
  ) {
    this.netlink = { session: NetlinkSession.get(NETLINK_GENERIC), request, undo };
  }

  get object(): string {
    return this.label();
  }

  get detail(): string | undefined {
    return this.describe?.();
  }

  async apply(): Promise<void> {
    await this.netlink.session.request(this.netlink.request);
  }

  async undo(): Promise<void> {
    await this.netlink.session.request(this.netlink.undo());
  }
}

function netlinkStep(op: Step['op'], object: () => string, detail: (() => string) | undefined, request: Request, undo: () => Request): Step {
  return new NetlinkStep(op, object, detail, request, undo);
}

const serviceObject = (s: Service) => (): string => `service ${serviceLabel(s)}`;
const serverObject = (s: Service, r: Server) => (): string => `real server ${serverLabel(r)} of ${serviceLabel(s)}`;

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

export function serverChanges(from: Server, to: Server): string[] {
  const out: string[] = [];
  if (from.forward !== to.forward) out.push(`forward ${from.forward} -> ${to.forward}`);
  if (from.weight !== to.weight) out.push(`weight ${from.weight} -> ${to.weight}`);
  if (from.upperThreshold !== to.upperThreshold) out.push(`upper threshold ${from.upperThreshold} -> ${to.upperThreshold}`);
  if (from.lowerThreshold !== to.lowerThreshold) out.push(`lower threshold ${from.lowerThreshold} -> ${to.lowerThreshold}`);
  const t = (r: Server): string => (r.forward === 'tunnel' && r.tunnel ? `${r.tunnel.type}${r.tunnel.port ? `:${r.tunnel.port}` : ''} ${r.tunnel.checksum}` : '');
  if (t(from) !== t(to)) out.push(`tunnel ${t(from) || 'none'} -> ${t(to) || 'none'}`);
  return out;
}

const describeServer = (r: Server): string => `${r.forward} weight ${r.weight}`;

/** The steps that turn `current` into `desired`. */
export async function planServices(desired: Service[], current: Service[], options: PlanOptions = {}): Promise<Step[]> {
  const steps: Step[] = [];
  const f = await family();
  const now = new Map(current.map((s) => [serviceId(s), s]));
  const want = new Map(desired.map((s) => [serviceId(s), s]));

  if (!options.addOnly) {
    for (const [id, s] of now) {
      if (want.has(id)) continue;
      // servers first, each with its own undo, then the service: undone newest first, this
      // re-creates the service and then its servers, all as pipelined requests
      for (const r of s.servers) {
        steps.push(netlinkStep('delete', serverObject(s, r), undefined,
          build.deleteServer(f, s, r), () => build.addServer(f, s, r)));
      }
      steps.push(netlinkStep('delete', serviceObject(s), undefined, build.deleteService(f, s), () => build.addService(f, s)));
    }
  }

  for (const [id, s] of want) {
    const cur = now.get(id);
    if (!cur) {
      steps.push(netlinkStep('add', serviceObject(s), () => `${s.scheduler}${s.persistence ? `, persistent ${s.persistence.timeout}` : ''}`,
        build.addService(f, s), () => build.deleteService(f, s)));
      for (const r of s.servers) {
        steps.push(netlinkStep('add', serverObject(s, r), () => describeServer(r),
          build.addServer(f, s, r), () => build.deleteServer(f, s, r)));
      }
      continue;
    }
    if (!options.addOnly) {
      const changes = serviceChanges(cur, s);
      if (changes.length) {
        steps.push(netlinkStep('change', serviceObject(s), () => changes.join(', '), build.editService(f, s), () => build.editService(f, cur)));
      }
    }
    const curServers = new Map(cur.servers.map((r) => [serverId(r), r]));
    const wantServers = new Map(s.servers.map((r) => [serverId(r), r]));
    if (!options.addOnly) {
      for (const [rid, r] of curServers) {
        if (wantServers.has(rid)) continue;
        steps.push(netlinkStep('delete', serverObject(s, r), undefined,
          build.deleteServer(f, s, r), () => build.addServer(f, s, r)));
      }
    }
    for (const [rid, r] of wantServers) {
      const c = curServers.get(rid);
      if (!c) {
        steps.push(netlinkStep('add', serverObject(s, r), () => describeServer(r),
          build.addServer(f, s, r), () => build.deleteServer(f, s, r)));
      } else if (!options.addOnly) {
        const changes = serverChanges(c, r);
        if (changes.length) {
          steps.push(netlinkStep('change', serverObject(s, r), () => changes.join(', '),
            build.editServer(f, s, r), () => build.editServer(f, s, c)));
        }
      }
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
