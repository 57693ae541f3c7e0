/**
 * The IPVS kernel API: every operation ipvsadm performs, over the generic netlink family "IPVS".
 * Replies are decoded back into the model; errors name the service or server concerned.
 *
 * This module is the plugin's exported API: other plugins (health checks) drive IPVS through it.
 */
import { UsageError } from '@ha/lib';
import {
  ErrorContext, GenlFamily, NETLINK_GENERIC, NLM_F_DUMP, NetlinkError, NetlinkSession, Outcome, Request, genlRequest,
  parseGenl, resolveFamily,
} from '@ha/lib/netlink';
import {
  CMD, IPVS_GENL_NAME, cmdAttrs, daemonToAttrs, decodeDaemon, decodeServer, decodeService, infoAttrs, serverAttrs,
  serverKeyAttrs, serviceFullAttrs, serviceKeyAttrs,
} from './codec.js';
import {
  Server, Service, ServiceKey, SyncDaemon, Timeouts, isFwmark, serverLabel, serviceLabel,
} from './model.js';

const HINT = 'load it with "modprobe ip_vs" (and the scheduler modules you use, e.g. ip_vs_wrr)';

export interface IpvsInfo {
  version: string;
  versionCode: number;
  connTabSize: number;
}

const session = (): NetlinkSession => NetlinkSession.get(NETLINK_GENERIC);
export const family = (): Promise<GenlFamily> => resolveFamily(IPVS_GENL_NAME, HINT);

function serviceContext(s: ServiceKey & { scheduler?: string; pe?: string }): ErrorContext {
  const label = `service ${serviceLabel(s)}`;
  const missingModule = s.pe
    ? `scheduler ${s.scheduler} or persistence engine ${s.pe} is not available in this kernel: load it with "modprobe ip_vs_${s.scheduler}" / "modprobe ip_vs_pe_${s.pe}"`
    : `scheduler ${s.scheduler} is not available in this kernel: load it with "modprobe ip_vs_${s.scheduler}"`;
  return {
    object: label,
    messages: {
      EEXIST: `${label} already exists`,
      ESRCH: `${label} does not exist`,
      ENOENT: s.scheduler ? missingModule : `${label} does not exist`,
      EAFNOSUPPORT: `${label}: address family not supported by this kernel's IPVS (IPv6 support missing?)`,
    },
  };
}

function serverContext(s: ServiceKey, r: Pick<Server, 'family' | 'address' | 'port'>): ErrorContext {
  const label = `real server ${serverLabel(r)} of service ${serviceLabel(s)}`;
  return {
    object: label,
    messages: {
      EEXIST: `${label} already exists`,
      ENOENT: `${label} does not exist`,
      ESRCH: `service ${serviceLabel(s)} does not exist`,
      EAFNOSUPPORT: `${label}: mixing address families needs tunnel forwarding and a kernel that supports it`,
      ERANGE: `${label}: the lower threshold must not be above the upper threshold`,
    },
  };
}

// ---- requests (built separately so that restore can pipeline them) ----

export async function addServiceRequest(s: Service): Promise<Request> {
  return genlRequest(await family(), CMD.NEW_SERVICE, cmdAttrs.encode({ service: serviceFullAttrs(s) }), { context: serviceContext(s) });
}

export async function editServiceRequest(s: Service): Promise<Request> {
  return genlRequest(await family(), CMD.SET_SERVICE, cmdAttrs.encode({ service: serviceFullAttrs(s) }), { context: serviceContext(s) });
}

export async function deleteServiceRequest(k: ServiceKey): Promise<Request> {
  return genlRequest(await family(), CMD.DEL_SERVICE, cmdAttrs.encode({ service: serviceKeyAttrs(k) }), { context: serviceContext(k) });
}

export async function addServerRequest(s: ServiceKey, r: Server): Promise<Request> {
  return genlRequest(await family(), CMD.NEW_DEST, cmdAttrs.encode({ service: serviceKeyAttrs(s), dest: serverAttrs(r) }), { context: serverContext(s, r) });
}

export async function editServerRequest(s: ServiceKey, r: Server): Promise<Request> {
  return genlRequest(await family(), CMD.SET_DEST, cmdAttrs.encode({ service: serviceKeyAttrs(s), dest: serverAttrs(r) }), { context: serverContext(s, r) });
}

export async function deleteServerRequest(s: ServiceKey, r: Pick<Server, 'family' | 'address' | 'port'>): Promise<Request> {
  return genlRequest(await family(), CMD.DEL_DEST, cmdAttrs.encode({ service: serviceKeyAttrs(s), dest: serverKeyAttrs(r) }), { context: serverContext(s, r) });
}

// ---- operations ----

async function send(req: Promise<Request>): Promise<void> {
  await session().request(await req);
}

export const addService = (s: Service): Promise<void> => send(addServiceRequest(s));
export const editService = (s: Service): Promise<void> => send(editServiceRequest(s));
export const deleteService = (k: ServiceKey): Promise<void> => send(deleteServiceRequest(k));
export const addServer = (s: ServiceKey, r: Server): Promise<void> => send(addServerRequest(s, r));
export const editServer = (s: ServiceKey, r: Server): Promise<void> => send(editServerRequest(s, r));
export const deleteServer = (s: ServiceKey, r: Pick<Server, 'family' | 'address' | 'port'>): Promise<void> => send(deleteServerRequest(s, r));

/** Send many requests pipelined; stops at the first failure. */
export function bulk(requests: Request[], options?: { window?: number; perDatagram?: number }): Promise<(Outcome | undefined)[]> {
  return session().bulk(requests, options);
}

export async function info(): Promise<IpvsInfo> {
  const f = await family();
  const [reply] = await session().request(genlRequest(f, CMD.GET_INFO, Buffer.alloc(0), { context: { object: 'IPVS' } }));
  const a = infoAttrs.decode(parseGenl(reply!).attrs);
  const v = a.version ?? 0;
  return { version: `${v >> 16}.${(v >> 8) & 0xff}.${v & 0xff}`, versionCode: v, connTabSize: a.connTabSize ?? 0 };
}

/** The services and, unless told otherwise, their real servers, in kernel order. */
export async function listServices(options: { servers?: boolean } = {}): Promise<Service[]> {
  const f = await family();
  const msgs = await session().dump(genlRequest(f, CMD.GET_SERVICE, Buffer.alloc(0), { context: { object: 'IPVS services' } }));
  const services: Service[] = [];
  for (const m of msgs) {
    const a = cmdAttrs.decode(parseGenl(m).attrs);
    if (a.service) services.push(decodeService(a.service));
  }
  if (options.servers !== false) {
    for (const s of services) s.servers = await listServers(s);
  }
  return services;
}

export async function listServers(s: ServiceKey): Promise<Server[]> {
  const f = await family();
  const msgs = await session().dump({
    ...genlRequest(f, CMD.GET_DEST, cmdAttrs.encode({ service: serviceKeyAttrs(s) }), { context: serviceContext(s) }),
    flags: NLM_F_DUMP,
  });
  const out: Server[] = [];
  for (const m of msgs) {
    const a = cmdAttrs.decode(parseGenl(m).attrs);
    if (a.dest) out.push(decodeServer(a.dest, s.family));
  }
  return out;
}

/** One service with its servers; undefined if it does not exist. */
export async function getService(k: ServiceKey): Promise<Service | undefined> {
  const f = await family();
  let msgs;
  try {
    msgs = await session().request(genlRequest(f, CMD.GET_SERVICE, cmdAttrs.encode({ service: serviceKeyAttrs(k) }), { context: serviceContext(k) }));
  } catch (error) {
    if (error instanceof NetlinkError && (error.errnoName === 'ESRCH' || error.errnoName === 'ENOENT')) return undefined;
    throw error;
  }
  const a = msgs[0] ? cmdAttrs.decode(parseGenl(msgs[0]).attrs) : undefined;
  if (!a?.service) return undefined;
  const svc = decodeService(a.service);
  svc.servers = await listServers(svc);
  return svc;
}

/** Remove every service and real server. */
export async function flush(): Promise<void> {
  const f = await family();
  await session().request(genlRequest(f, CMD.FLUSH, Buffer.alloc(0), { context: { object: 'IPVS table' } }));
}

/** Zero the counters of one service, or of all. */
export async function zero(k?: ServiceKey): Promise<void> {
  const f = await family();
  const attrs = k ? cmdAttrs.encode({ service: serviceKeyAttrs(k) }) : Buffer.alloc(0);
  await session().request(genlRequest(f, CMD.ZERO, attrs, { context: k ? serviceContext(k) : { object: 'IPVS counters' } }));
}

export async function getTimeouts(): Promise<Timeouts> {
  const f = await family();
  const [reply] = await session().request(genlRequest(f, CMD.GET_CONFIG, Buffer.alloc(0), { context: { object: 'IPVS timeouts' } }));
  const a = cmdAttrs.decode(parseGenl(reply!).attrs);
  return { tcp: a.timeoutTcp ?? 0, tcpfin: a.timeoutTcpFin ?? 0, udp: a.timeoutUdp ?? 0 };
}

/** Set timeouts; a value of 0 leaves that timeout as it is (as ipvsadm --set does). */
export async function setTimeouts(t: Partial<Timeouts>): Promise<void> {
  const f = await family();
  await session().request(genlRequest(f, CMD.SET_CONFIG, cmdAttrs.encode({
    timeoutTcp: t.tcp ?? 0, timeoutTcpFin: t.tcpfin ?? 0, timeoutUdp: t.udp ?? 0,
  }), { context: { object: 'IPVS timeouts' } }));
}

export async function listDaemons(): Promise<SyncDaemon[]> {
  const f = await family();
  const msgs = await session().dump(genlRequest(f, CMD.GET_DAEMON, Buffer.alloc(0), { context: { object: 'IPVS sync daemons' } }));
  const out: SyncDaemon[] = [];
  for (const m of msgs) {
    const a = cmdAttrs.decode(parseGenl(m).attrs);
    if (a.daemon) out.push(decodeDaemon(a.daemon));
  }
  return out.sort((a, b) => (a.state === b.state ? 0 : a.state === 'master' ? -1 : 1));
}

export async function startDaemon(d: SyncDaemon): Promise<void> {
  const f = await family();
  const label = `${d.state} sync daemon`;
  await session().request(genlRequest(f, CMD.NEW_DAEMON, cmdAttrs.encode({ daemon: daemonToAttrs(d) }), {
    context: {
      object: label,
      messages: {
        EEXIST: `the ${label} is already running (stop it first)`,
        ENODEV: `interface ${d.interface} does not exist`,
        EINVAL: `${label}: the kernel refused these options (interface ${d.interface}, syncid ${d.syncid})`,
      },
    },
  }));
}

export async function stopDaemon(state: 'master' | 'backup'): Promise<void> {
  const f = await family();
  await session().request(genlRequest(f, CMD.DEL_DAEMON, cmdAttrs.encode({ daemon: { state: state === 'master' ? 1 : 2 } }), {
    context: { object: `${state} sync daemon`, messages: { ESRCH: `no ${state} sync daemon is running` } },
  }));
}

/** Refuse early, with exit 2, when a service key is malformed. */
export function assertKey(k: ServiceKey): void {
  if (!isFwmark(k) && (k.port < 0 || k.port > 65535)) throw new UsageError(`port ${k.port} is out of range`);
}
