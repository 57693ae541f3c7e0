/**
 * The IPVS kernel API: every operation ipvsadm performs, over the generic netlink family "IPVS".
 * Replies are decoded back into the model; errors name the service or server concerned.
 *
 * This module is the plugin's exported API: other plugins (health checks) drive IPVS through it.
 */
import {
  ErrorContext, GenlFamily, NETLINK_GENERIC, NetlinkError, NetlinkMessage, NetlinkSession, Request, formatIp, genlHeader, genlRequest,
  ipv4Text, parseGenl, resolveFamily, withFamily,
} from '@ha/lib/netlink';
import {
  CMD, type DestAttrs, IPVS_GENL_NAME, cmdAttrs, cmdDestNoStats, daemonToAttrs, decodeDaemon, decodeServer, decodeService, decodeServiceReply, infoAttrs, serverAttrs,
  serverKeyAttrs, serviceFullAttrs, serviceKeyAttrs,
} from './codec.js';
import { closeSync, openSync } from 'node:fs';
import { UnavailableError, linePieces, moduleAvailable } from '@ha/lib';

import {
  Family, Protocol, Server, Service, ServiceKey, SyncDaemon, Timeouts, isFwmark, serverLabel, serviceId, serviceLabel,
} from './model.js';

const HINT = 'load it with "modprobe ip_vs" (and the scheduler modules you use, e.g. ip_vs_wrr)';

export interface IpvsInfo {
  version: string;
  versionCode: number;
  connTabSize: number;
}

const session = (): NetlinkSession => NetlinkSession.get(NETLINK_GENERIC);
export const family = (): Promise<GenlFamily> => resolveFamily(IPVS_GENL_NAME, HINT);

/**
 * Error contexts are built with every request but read only when the kernel refuses one: their
 * labels are computed on first use (a restore builds 60,000 requests).
 */
class ServiceContext implements ErrorContext {
  constructor(private readonly s: ServiceKey & { scheduler?: string; pe?: string }) {}

  get object(): string {
    return `service ${serviceLabel(this.s)}`;
  }

  get messages(): Record<string, string> {
    const { s, object: label } = this;
    const missingModule = s.pe
      ? `scheduler ${s.scheduler} or persistence engine ${s.pe} is not available in this kernel: load it with "modprobe ip_vs_${s.scheduler}" / "modprobe ip_vs_pe_${s.pe}"`
      : `scheduler ${s.scheduler} is not available in this kernel: load it with "modprobe ip_vs_${s.scheduler}"`;
    return {
      EEXIST: `${label} already exists`,
      ESRCH: `${label} does not exist`,
      ENOENT: s.scheduler ? missingModule : `${label} does not exist`,
      EAFNOSUPPORT: `${label}: address family not supported by this kernel's IPVS (IPv6 support missing?)`,
    };
  }
}

class ServerContext implements ErrorContext {
  constructor(private readonly s: ServiceKey, private readonly r: Pick<Server, 'family' | 'address' | 'port'>) {}

  get object(): string {
    return `real server ${serverLabel(this.r)} of service ${serviceLabel(this.s)}`;
  }

  get messages(): Record<string, string> {
    const label = this.object;
    return {
      EEXIST: `${label} already exists`,
      ENOENT: `${label} does not exist`,
      ESRCH: `service ${serviceLabel(this.s)} does not exist`,
      EAFNOSUPPORT: `${label}: mixing address families needs tunnel forwarding and a kernel that supports it`,
      ERANGE: `${label}: the lower threshold must not be above the upper threshold`,
    };
  }
}

const serviceContext = (s: ServiceKey & { scheduler?: string; pe?: string }): ErrorContext => new ServiceContext(s);
const serverContext = (s: ServiceKey, r: Pick<Server, 'family' | 'address' | 'port'>): ErrorContext => new ServerContext(s, r);

// ---- requests (built separately so that restore can pipeline them) ----

/**
 * A service's key as the SERVICE attribute of a real server request, encoded once per service
 * object: a restore sends it with each of the service's servers. The key fields of a service
 * object never change once it is made.
 */
const keyNests = new WeakMap<ServiceKey, Buffer>();
function serviceKeyNest(k: ServiceKey): Buffer {
  let b = keyNests.get(k);
  if (!b) {
    b = cmdAttrs.encode({ service: serviceKeyAttrs(k) });
    keyNests.set(k, b);
  }
  return b;
}

/** A real server request: the genl header, the service's key and the DEST attribute (cmdAttrs's order). */
function destRequest(f: GenlFamily, cmd: number, s: ServiceKey, dest: DestAttrs, context: ErrorContext): Request {
  return { context, type: f.id, payload: [genlHeader(cmd, f.version), serviceKeyNest(s), cmdAttrs.encode({ dest })] };
}

/** Request builders for a resolved family: synchronous, so plans can build undo requests lazily. */
export const build = {
  addService: (f: GenlFamily, s: Service): Request =>
    genlRequest(f, CMD.NEW_SERVICE, cmdAttrs.encode({ service: serviceFullAttrs(s) }), { context: serviceContext(s) }),
  editService: (f: GenlFamily, s: Service): Request =>
    genlRequest(f, CMD.SET_SERVICE, cmdAttrs.encode({ service: serviceFullAttrs(s) }), { context: serviceContext(s) }),
  deleteService: (f: GenlFamily, k: ServiceKey): Request =>
    genlRequest(f, CMD.DEL_SERVICE, cmdAttrs.encode({ service: serviceKeyAttrs(k) }), { context: serviceContext(k) }),
  addServer: (f: GenlFamily, s: ServiceKey, r: Server): Request =>
    destRequest(f, CMD.NEW_DEST, s, serverAttrs(r), serverContext(s, r)),
  editServer: (f: GenlFamily, s: ServiceKey, r: Server): Request =>
    destRequest(f, CMD.SET_DEST, s, serverAttrs(r), serverContext(s, r)),
  deleteServer: (f: GenlFamily, s: ServiceKey, r: Pick<Server, 'family' | 'address' | 'port'>): Request =>
    destRequest(f, CMD.DEL_DEST, s, serverKeyAttrs(r), serverContext(s, r)),
  flush: (f: GenlFamily): Request => genlRequest(f, CMD.FLUSH, Buffer.alloc(0), { context: { object: 'IPVS table' } }),
  zero: (f: GenlFamily, k?: ServiceKey): Request =>
    genlRequest(f, CMD.ZERO, k ? cmdAttrs.encode({ service: serviceKeyAttrs(k) }) : Buffer.alloc(0), { context: k ? serviceContext(k) : { object: 'IPVS counters' } }),
  /** A value of 0 leaves that timeout as it is (as ipvsadm --set does). */
  setTimeouts: (f: GenlFamily, t: Partial<Timeouts>): Request => genlRequest(f, CMD.SET_CONFIG, cmdAttrs.encode({
    timeoutTcp: t.tcp ?? 0, timeoutTcpFin: t.tcpfin ?? 0, timeoutUdp: t.udp ?? 0,
  }), { context: { object: 'IPVS timeouts' } }),
  startDaemon: (f: GenlFamily, d: SyncDaemon): Request => {
    const label = `${d.state} sync daemon`;
    return genlRequest(f, CMD.NEW_DAEMON, cmdAttrs.encode({ daemon: daemonToAttrs(d) }), {
      context: {
        object: label,
        messages: {
          EEXIST: `the ${label} is already running (stop it first)`,
          ENODEV: `interface ${d.interface} does not exist`,
          EINVAL: `${label}: the kernel refused these options (interface ${d.interface}, syncid ${d.syncid})`,
        },
      },
    });
  },
  stopDaemon: (f: GenlFamily, state: 'master' | 'backup'): Request =>
    genlRequest(f, CMD.DEL_DAEMON, cmdAttrs.encode({ daemon: { state: state === 'master' ? 1 : 2 } }), {
      context: { object: `${state} sync daemon`, messages: { ESRCH: `no ${state} sync daemon is running` } },
    }),
};

// ---- operations ----

/** Send one request to IPVS; if the module was reloaded meanwhile (a new family id), once more with the new id. */
async function send(req: (f: GenlFamily) => Request): Promise<void> {
  await withFamily(IPVS_GENL_NAME, HINT, (f) => session().request(req(f)));
}

export const addService = (s: Service): Promise<void> => send((f) => build.addService(f, s));
export const editService = (s: Service): Promise<void> => send((f) => build.editService(f, s));
export const deleteService = (k: ServiceKey): Promise<void> => send((f) => build.deleteService(f, k));
export const addServer = (s: ServiceKey, r: Server): Promise<void> => send((f) => build.addServer(f, s, r));
export const editServer = (s: ServiceKey, r: Server): Promise<void> => send((f) => build.editServer(f, s, r));
export const deleteServer = (s: ServiceKey, r: Pick<Server, 'family' | 'address' | 'port'>): Promise<void> => send((f) => build.deleteServer(f, s, r));

export async function info(): Promise<IpvsInfo> {
  const f = await family();
  const [reply] = await session().request(genlRequest(f, CMD.GET_INFO, Buffer.alloc(0), { context: { object: 'IPVS' } }));
  const a = infoAttrs.decode(parseGenl(reply!).attrs);
  const v = a.version ?? 0;
  return { version: `${v >> 16}.${(v >> 8) & 0xff}.${v & 0xff}`, versionCode: v, connTabSize: a.connTabSize ?? 0 };
}

export interface ListOptions {
  /** Leave the real servers out (default: include them). */
  servers?: boolean;
  /**
   * "full" (the default): every attribute, through one netlink dump per service.
   * "basic": real servers' address, port, forwarding, weight and connection counts from one read
   * of /proc/net/ip_vs, the kernel's table in text; netlink only for services that need more
   * (tunnel servers, or a fwmark in both families). Thresholds read as 0 and there are no
   * counters: use it only for output that shows neither (ha ipvs list's table, ha ipvs save).
   */
  detail?: 'full' | 'basic';
  /** Decode the services' counters (default: true; "basic" never has them). */
  stats?: boolean;
}

/** The services and, unless told otherwise, their real servers, in kernel order. */
export async function listServices(options: ListOptions = {}): Promise<Service[]> {
  const f = await family();
  const req = genlRequest(f, CMD.GET_SERVICE, Buffer.alloc(0), { context: { object: 'IPVS services' } });
  let services: Service[];
  if (options.stats === false || options.detail === 'basic') {
    // each reply decoded as it arrives (it copies what it keeps): 10,000 replies are not held
    services = await session().dumpEach(req, (m) => decodeServiceReply(parseGenl(m).attrs));
  } else {
    const msgs = await session().dump(req);
    services = [];
    for (const m of msgs) {
      const a = cmdAttrs.decode(parseGenl(m).attrs);
      if (a.service) services.push(decodeService(a.service));
    }
  }
  if (options.servers === false || services.length === 0) return services;
  let need = services;
  if (options.detail === 'basic') {
    const proc = await procServers(services);
    need = [];
    for (const s of services) {
      const found = proc?.get(serviceId(s));
      if (found && !found.some((r) => r.forward === 'tunnel')) {
        s.servers = found;
        fromProc.add(s);
      } else {
        need.push(s);
      }
    }
  }
  await dumpServers(f, need, options.stats !== false);
  return services;
}

/** Services of a "basic" listing whose real servers came from /proc/net/ip_vs (thresholds unknown). */
const fromProc = new WeakSet<Service>();

/** Did listServices({detail: 'basic'}) read this service's real servers from the text table? */
export function serversAreBasic(s: Service): boolean {
  return fromProc.has(s);
}

/** Read these services' real servers again with every attribute (a dump each, several at a time). */
export async function fillServers(services: Service[]): Promise<void> {
  if (services.length === 0) return;
  await dumpServers(await family(), services, false);
}

/** Each service's real servers over netlink: one dump per service (the kernel has no "all destinations" dump), several at a time. */
async function dumpServers(f: GenlFamily, services: Service[], stats: boolean): Promise<void> {
  const replies = await session().dumpMany(services.map((s) => destDump(f, s)));
  services.forEach((s, i) => {
    s.servers = decodeServers(replies[i]!, s, stats);
    fromProc.delete(s);
  });
}

const PROC_FORWARD: Record<string, Server['forward']> = { Masq: 'masq', Route: 'droute', Tunnel: 'tunnel', Local: 'local' };

// The common lines of /proc/net/ip_vs, matched by the regular expression engine (compiled to
// native code) rather than read character by character in JavaScript: under qemu's TCG, where
// every JavaScript operation is emulated, reading 60,000 lines by character code cost seconds
// more. The kernel prints an IPv4 real server as "  -> %08X:%04X      %-7s %-6d %-10d %-10d" and
// an IPv4 service as "%s  %08X:%04X %s ..." (protocol, address, port, scheduler and flags).
const PROC_V4_SERVER = /  -> ([0-9A-F]{8}):([0-9A-F]{4}) +(Masq|Route|Tunnel|Local) +(\d+) +(\d+) +(\d+) *$/my;
const PROC_V4_SERVICE = /(TCP|UDP|SCTP)  ([0-9A-F]{8}):([0-9A-F]{4}) /y;
const PROC_PROTOCOL: Record<string, Protocol> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/** An IPv4 real server's line from `at`, or undefined for any other line (the general reader's). */
function procV4Server(text: string, at: number): Server | undefined {
  PROC_V4_SERVER.lastIndex = at;
  const m = PROC_V4_SERVER.exec(text);
  if (!m) return undefined;
  return {
    family: 'ipv4', address: ipv4Text(Number.parseInt(m[1]!, 16)), port: Number.parseInt(m[2]!, 16), forward: PROC_FORWARD[m[3]!]!,
    weight: Number(m[4]), upperThreshold: 0, lowerThreshold: 0, activeConns: Number(m[5]), inactiveConns: Number(m[6]),
  };
}

function procEndpoint(text: string): { family: Family; address: string; port: number } | undefined {
  const v6 = /^\[([0-9a-fA-F:]+)\]:([0-9A-F]{4})$/.exec(text);
  if (v6) {
    const b = Buffer.alloc(16);
    v6[1]!.split(':').forEach((w, i) => b.writeUInt16BE(Number.parseInt(w, 16), i * 2));
    return { family: 'ipv6', address: formatIp(b), port: Number.parseInt(v6[2]!, 16) };
  }
  const v4 = /^([0-9A-F]{8}):([0-9A-F]{4})$/.exec(text);
  if (!v4) return undefined;
  const n = Number.parseInt(v4[1]!, 16);
  return { family: 'ipv4', address: `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`, port: Number.parseInt(v4[2]!, 16) };
}

/**
 * Real servers per service id from /proc/net/ip_vs; undefined if it cannot be read. A fwmark line
 * does not say its family: it is matched only when the mark is used by one family.
 */
async function procServers(services: Service[]): Promise<Map<string, Server[]> | undefined> {
  let fd: number;
  try {
    fd = openSync('/proc/net/ip_vs', 'r');
  } catch {
    return undefined;
  }
  try {
    // read in pieces: 10,000 services are 3 MB of text
    return parseProcServers(linePieces(fd), services);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).syscall === 'read') return undefined;
    throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * The real servers in /proc/net/ip_vs text, by service id; the text whole or in pieces that each
 * end at a line's end (exported for tests and benchmarks).
 */
export function parseProcServers(text: string | Iterable<string>, services: Service[]): Map<string, Server[]> {
  const markFamilies = new Map<number, Family[]>();
  for (const s of services) if (isFwmark(s)) markFamilies.set(s.fwmark, [...(markFamilies.get(s.fwmark) ?? []), s.family]);
  const out = new Map<string, Server[]>();
  let current: Server[] | undefined;
  for (const piece of typeof text === 'string' ? [text] : text) current = procLines(piece, markFamilies, out, current);
  return out;
}

/** The lines of one piece of /proc/net/ip_vs into `out`; returns the service whose servers follow. */
function procLines(text: string, markFamilies: Map<number, Family[]>, out: Map<string, Server[]>, current: Server[] | undefined): Server[] | undefined {
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end === -1) end = text.length;
    const start = at;
    at = end + 1;
    if (text.startsWith('  -> ', start)) {
      if (!current) continue;
      // the common case, an IPv4 server
      const fast = procV4Server(text, start);
      if (fast) {
        current.push(fast);
        continue;
      }
      const line = text.slice(start, end);
      const f = line.slice(5).trim().split(/\s+/);
      const ep = procEndpoint(f[0] ?? '');
      const forward = PROC_FORWARD[f[1] ?? ''];
      if (!ep || !forward || f[0] === 'RemoteAddress:Port') continue;
      current.push({
        ...ep, forward, weight: Number(f[2]), upperThreshold: 0, lowerThreshold: 0,
        activeConns: Number(f[3]), inactiveConns: Number(f[4]),
      });
      continue;
    }
    current = undefined;
    // an IPv4 service ("TCP  C0000201:2710 wrr ")
    PROC_V4_SERVICE.lastIndex = start;
    const sv = PROC_V4_SERVICE.exec(text);
    if (sv) {
      out.set(`${PROC_PROTOCOL[sv[1]!]}:ipv4:${ipv4Text(Number.parseInt(sv[2]!, 16))}:${Number.parseInt(sv[3]!, 16)}`, (current = []));
      continue;
    }
    const f = text.slice(start, end).trim().split(/\s+/);
    if (f[0] === 'FWM') {
      const mark = Number.parseInt(f[1] ?? '', 16);
      const fams = markFamilies.get(mark);
      if (fams?.length === 1) out.set(serviceId({ family: fams[0]!, fwmark: mark }), (current = []));
    } else if (f[0] === 'TCP' || f[0] === 'UDP' || f[0] === 'SCTP') {
      const ep = procEndpoint(f[1] ?? '');
      if (ep) out.set(serviceId({ ...ep, protocol: f[0].toLowerCase() as Protocol }), (current = []));
    }
  }
  return current;
}

/** The request that dumps one service's real servers (dump() and dumpMany() add NLM_F_DUMP). */
const destDump = (f: GenlFamily, s: ServiceKey): Request =>
  genlRequest(f, CMD.GET_DEST, cmdAttrs.encode({ service: serviceKeyAttrs(s) }), { context: serviceContext(s) });

export async function listServers(s: ServiceKey): Promise<Server[]> {
  const f = await family();
  const msgs = await session().dump(destDump(f, s));
  return decodeServers(msgs, s);
}

function decodeServers(msgs: NetlinkMessage[], s: ServiceKey, stats = true): Server[] {
  const out: Server[] = [];
  const codec = stats ? cmdAttrs : cmdDestNoStats;
  for (const m of msgs) {
    const a = codec.decode(parseGenl(m).attrs);
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
export const flush = (): Promise<void> => send((f) => build.flush(f));

/** Zero the counters of one service, or of all. */
export const zero = (k?: ServiceKey): Promise<void> => send((f) => build.zero(f, k));

export async function getTimeouts(): Promise<Timeouts> {
  const f = await family();
  const [reply] = await session().request(genlRequest(f, CMD.GET_CONFIG, Buffer.alloc(0), { context: { object: 'IPVS timeouts' } }));
  const a = cmdAttrs.decode(parseGenl(reply!).attrs);
  return { tcp: a.timeoutTcp ?? 0, tcpfin: a.timeoutTcpFin ?? 0, udp: a.timeoutUdp ?? 0 };
}

/** Set timeouts; a value of 0 leaves that timeout as it is (as ipvsadm --set does). */
export const setTimeouts = (t: Partial<Timeouts>): Promise<void> => send((f) => build.setTimeouts(f, t));

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

export const startDaemon = (d: SyncDaemon): Promise<void> => send((f) => build.startDaemon(f, d));

export const stopDaemon = (state: 'master' | 'backup'): Promise<void> => send((f) => build.stopDaemon(f, state));

/**
 * Refuse a table whose schedulers or persistence engines this kernel cannot load, before anything
 * changes, naming only what is missing (exit 1: the kernel lacks them).
 */
export function checkModules(services: Iterable<Pick<Service, 'scheduler' | 'pe'>>): void {
  const missing = new Map<string, string>();
  const seen = new Set<string>();
  for (const s of services) {
    for (const [kind, name, mod] of [['scheduler', s.scheduler, `ip_vs_${s.scheduler}`], ['persistence engine', s.pe, `ip_vs_pe_${s.pe}`]] as const) {
      if (!name || seen.has(mod)) continue;
      seen.add(mod);
      if (!moduleAvailable(mod)) missing.set(mod, `${kind} ${name}`);
    }
  }
  if (missing.size === 0) return;
  const what = [...missing.values()];
  throw new UnavailableError(`${what.join(', ')} ${what.length === 1 ? 'is' : 'are'} not available in this kernel: load ${what.length === 1 ? 'it' : 'them'} with "modprobe ${[...missing.keys()].join(' ')}"; nothing was changed`);
}
