/**
 * The IPVS model: plain typed objects for virtual services and real servers, as the state file
 * holds them and as every command passes them around. Decoded from what the kernel replies (see
 * codec.ts), never echoed from what was sent.
 */
import { UsageError } from '@ha/lib';
import { IpFamily, canonicalIp, parseIpCached } from '@ha/lib/netlink';
import { LIMITS } from './limits.js';

export type Family = IpFamily;
export type Protocol = 'tcp' | 'udp' | 'sctp';
/** Packet forwarding: NAT (masq), direct routing (droute), tunnelling (tunnel), local node (local). */
export type Forward = 'masq' | 'droute' | 'tunnel' | 'local';
export type TunnelType = 'ipip' | 'gue' | 'gre';
export type TunnelChecksum = 'nocsum' | 'csum' | 'remcsum';

export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
export const DEFAULT_SCHEDULER = 'wlc';
export const SCHED_FLAGS = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port', 'flag-1', 'flag-2', 'flag-3'] as const;
export type SchedFlag = (typeof SCHED_FLAGS)[number];
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'sctp'];
export const FORWARDS: readonly Forward[] = ['masq', 'droute', 'tunnel', 'local'];
export const TUNNEL_TYPES: readonly TunnelType[] = ['ipip', 'gue', 'gre'];
/** What `ipvsadm -p` without a value sets: IPVS_SVC_PERSISTENT_TIMEOUT, 6 minutes (its manual says 300). */
export const DEFAULT_PERSISTENCE_TIMEOUT = 360;

/** Which service: an address/port/protocol triple, or a firewall mark (with its family). */
export type ServiceKey =
  | { family: Family; protocol: Protocol; address: string; port: number; fwmark?: undefined }
  | { family: Family; fwmark: number; protocol?: undefined; address?: undefined; port?: undefined };

export interface Stats {
  conns: bigint;
  inpkts: bigint;
  outpkts: bigint;
  inbytes: bigint;
  outbytes: bigint;
  cps: bigint;
  inpps: bigint;
  outpps: bigint;
  inbps: bigint;
  outbps: bigint;
}

export interface Tunnel {
  type: TunnelType;
  /** UDP port for gue. */
  port?: number;
  checksum: TunnelChecksum;
}

export interface Server {
  family: Family;
  address: string;
  port: number;
  forward: Forward;
  weight: number;
  /** Upper connection threshold, 0 = none. */
  upperThreshold: number;
  /** Lower connection threshold, 0 = none. */
  lowerThreshold: number;
  /** Only with forward 'tunnel'. */
  tunnel?: Tunnel;
  /** Live counters, present when read from the kernel. */
  activeConns?: number;
  inactiveConns?: number;
  persistentConns?: number;
  stats?: Stats;
}

export type Service = ServiceKey & {
  scheduler: string;
  /** Present when the service is persistent. */
  persistence?: {
    timeout: number;
    /** IPv4: a dotted mask ("255.255.255.0"); IPv6: a prefix length (128). */
    netmask: string | number;
  };
  /** Persistence engine, e.g. "sip". */
  pe?: string;
  /** Scheduler flags by name (sh-fallback, sh-port, mh-fallback, mh-port, or flag-1..3). */
  schedFlags: SchedFlag[];
  /** One-packet scheduling (-o, --ops), for UDP. */
  onePacket: boolean;
  servers: Server[];
  stats?: Stats;
};

export interface Timeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

export interface SyncDaemon {
  state: 'master' | 'backup';
  interface: string;
  syncid: number;
  maxlen?: number;
  group?: string;
  port?: number;
  ttl?: number;
}

/** The ipvs section of the state file. */
export interface IpvsSection {
  services: Service[];
  timeouts?: Timeouts;
  daemons?: SyncDaemon[];
}

// ---- names and labels ----

export function isFwmark(k: ServiceKey): k is Extract<ServiceKey, { fwmark: number }> {
  return k.fwmark !== undefined;
}

export function hostPort(family: Family, address: string, port: number): string {
  return family === 'ipv6' ? `[${address}]:${port}` : `${address}:${port}`;
}

/** "192.0.2.10:80/tcp", "[2001:db8::1]:443/tcp", "fwmark 1", "fwmark 1/ipv6". */
export function serviceLabel(k: ServiceKey): string {
  if (isFwmark(k)) return `fwmark ${k.fwmark}${k.family === 'ipv6' ? '/ipv6' : ''}`;
  return `${hostPort(k.family, k.address, k.port)}/${k.protocol}`;
}

export function serviceId(k: ServiceKey): string {
  return isFwmark(k) ? `fwm:${k.family}:${k.fwmark}` : `${k.protocol}:${k.family}:${k.address}:${k.port}`;
}

export function serverLabel(s: Pick<Server, 'family' | 'address' | 'port'>): string {
  return hostPort(s.family, s.address, s.port);
}

export function serverId(s: Pick<Server, 'family' | 'address' | 'port'>): string {
  return `${s.family}:${s.address}:${s.port}`;
}

/** Where a real server (by family, address and port) is in a list, or -1. */
export function indexOfServer(servers: readonly Server[], k: Pick<Server, 'family' | 'address' | 'port'>): number {
  for (let i = 0; i < servers.length; i++) {
    const r = servers[i]!;
    if (r.port === k.port && r.address === k.address && r.family === k.family) return i;
  }
  return -1;
}

export function keyOf(s: ServiceKey): ServiceKey {
  return isFwmark(s)
    ? { family: s.family, fwmark: s.fwmark }
    : { family: s.family, protocol: s.protocol, address: s.address, port: s.port };
}

// ---- parsing what people type ----

/**
 * Parse "ADDR[:PORT]" or "[ADDR6][:PORT]" (an IP address, never a hostname). `what` names the
 * flag for the error message.
 */
export function parseHostPort(text: string, what: string, defaultPort?: number): { family: Family; address: string; port: number } {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if ((text.match(/:/g) ?? []).length > 1) {
    throw new UsageError(`${what}: "${text}": write IPv6 addresses in brackets, e.g. [2001:db8::1]:80`);
  } else {
    const i = text.lastIndexOf(':');
    host = i === -1 ? text : text.slice(0, i);
    portText = i === -1 ? undefined : text.slice(i + 1);
  }
  const parsed = canonicalIp(host);
  if (!parsed) {
    throw new UsageError(`${what}: "${host}" is not an IPv4 or IPv6 address (hostnames are not resolved; write the address)`);
  }
  let port: number;
  if (portText === undefined || portText === '') {
    if (defaultPort === undefined) throw new UsageError(`${what}: "${text}" has no port; write ADDRESS:PORT`);
    port = defaultPort;
  } else {
    port = parsePort(portText, what);
  }
  return { family: parsed.family, address: parsed.text, port };
}

export function parsePort(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) > LIMITS.port.max) throw new UsageError(`${what}: port "${text}" is not a number from ${LIMITS.port.min} to ${LIMITS.port.max}`);
  return Number(text);
}

/**
 * An IPv4-mapped IPv6 address (::ffff:192.0.2.20) names an IPv4 host in IPv6 form: an IPv6
 * service on it never sees IPv4 traffic, and a real server on it cannot be reached over IPv6.
 * The kernel takes them (and ipvsadm makes them), so a table that has them is read, saved and
 * restored as it is, with a warning; the commands that create one refuse it.
 */
export function v4MappedProblem(family: Family, address: string): string | undefined {
  const m = family === 'ipv6' ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address) : null;
  return m ? `[${address}] is an IPv4-mapped IPv6 address, which never matches IPv4 traffic: write the IPv4 address ${m[1]}` : undefined;
}


/** Which scheduler flags are meaningful for a scheduler (flag-N are accepted for any). */
export function schedFlagAllowed(flag: SchedFlag, scheduler: string): boolean {
  if (flag.startsWith('sh-')) return scheduler === 'sh';
  if (flag.startsWith('mh-')) return scheduler === 'mh';
  return true;
}

/** The kernel's flag bit (1, 2 or 3) for a flag name. */
export function schedFlagBit(flag: SchedFlag): 1 | 2 | 3 {
  switch (flag) {
    case 'sh-fallback': case 'mh-fallback': case 'flag-1': return 1;
    case 'sh-port': case 'mh-port': case 'flag-2': return 2;
    default: return 3;
  }
}

/** Names for the kernel's flag bits, as the scheduler calls them. */
export function schedFlagNames(bits: number, scheduler: string): SchedFlag[] {
  const out: SchedFlag[] = [];
  for (const bit of [1, 2, 3] as const) {
    if (!(bits & (1 << (bit - 1)))) continue;
    if (scheduler === 'sh' && bit < 3) out.push(bit === 1 ? 'sh-fallback' : 'sh-port');
    else if (scheduler === 'mh' && bit < 3) out.push(bit === 1 ? 'mh-fallback' : 'mh-port');
    else out.push(`flag-${bit}` as SchedFlag);
  }
  return out;
}

/** The default persistence netmask for a family: a single client address. */
export function defaultNetmask(family: Family): string | number {
  return family === 'ipv6' ? 128 : '255.255.255.255';
}

/**
 * Check a service (and its servers) the way ipvsadm and the kernel would, before anything is sent.
 * Returns problems as [path, message] relative to the service.
 */
/** Warnings for IPv4-mapped IPv6 addresses in a table (services and real servers). */
export function mappedWarnings(services: Iterable<Service>): string[] {
  const out: string[] = [];
  for (const s of services) {
    if (!isFwmark(s) && v4MappedProblem(s.family, s.address)) out.push(`service ${serviceLabel(s)}: ${v4MappedProblem(s.family, s.address)}`);
    for (const r of s.servers) {
      const p = v4MappedProblem(r.family, r.address);
      if (p) out.push(`real server ${serverLabel(r)} of ${serviceLabel(s)}: ${p}`);
    }
  }
  return out;
}

export function checkService(s: Service): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const add = (path: string, message: string): void => {
    problems.push([path, message]);
  };
  if (!isFwmark(s) && s.port === 0 && !s.persistence) add('.port', 'port 0 (all ports) needs persistence');
  if (isFwmark(s) && (s.fwmark < LIMITS.fwmark.min || s.fwmark > LIMITS.fwmark.max)) add('.fwmark', `firewall mark must be from ${LIMITS.fwmark.min} to ${LIMITS.fwmark.max}`);
  if (!(SCHEDULERS as readonly string[]).includes(s.scheduler)) add('.scheduler', `unknown scheduler "${s.scheduler}" (expected one of ${SCHEDULERS.join(', ')})`);
  s.schedFlags.forEach((f, i) => {
    if (!schedFlagAllowed(f, s.scheduler)) add(`.schedFlags[${i}]`, `${f} is only valid with the ${f.slice(0, 2)} scheduler, not ${s.scheduler}`);
  });
  if (s.pe && !s.persistence) add('.pe', `persistence engine ${s.pe} needs persistence`);
  if (s.persistence) {
    const nm = s.persistence.netmask;
    if (s.family === 'ipv6') {
      if (typeof nm !== 'number' || nm < 1 || nm > 128) add('.persistence.netmask', 'IPv6 persistence netmask is a prefix length from 1 to 128');
    } else if (typeof nm !== 'string' || !isContiguousMask(nm)) {
      add('.persistence.netmask', `"${String(nm)}" is not a contiguous IPv4 netmask like 255.255.255.0`);
    }
  }
  s.servers.forEach((r, i) => {
    for (const [p, m] of checkServer(s, r)) add(`.servers[${i}]${p}`, m);
  });
  const seen = new Set<string>();
  s.servers.forEach((r, i) => {
    const id = serverId(r);
    if (seen.has(id)) add(`.servers[${i}]`, `real server ${serverLabel(r)} is listed twice`);
    seen.add(id);
  });
  return problems;
}

export function checkServer(svc: ServiceKey, r: Server): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (r.family !== svc.family && r.forward !== 'tunnel') {
    problems.push(['.address', `${r.family === 'ipv6' ? 'IPv6' : 'IPv4'} real server ${serverLabel(r)} in an ${svc.family === 'ipv6' ? 'IPv6' : 'IPv4'} service needs tunnel forwarding`]);
  }
  if (r.weight < LIMITS.weight.min || r.weight > LIMITS.weight.max) problems.push(['.weight', `weight must be from ${LIMITS.weight.min} to ${LIMITS.weight.max}`]);
  // the kernel refuses l > u even when u is 0 ("no upper threshold"): ERANGE
  if (r.lowerThreshold > r.upperThreshold) problems.push(['.lowerThreshold', `lower threshold ${r.lowerThreshold} is above the upper threshold ${r.upperThreshold}`]);
  if (r.tunnel && r.forward !== 'tunnel') problems.push(['.tunnel', 'tunnel settings need tunnel forwarding']);
  if (r.tunnel) {
    if (r.tunnel.type === 'gue' && !r.tunnel.port) problems.push(['.tunnel.port', 'a gue tunnel needs a port']);
    if (r.tunnel.type !== 'gue' && r.tunnel.port) problems.push(['.tunnel.port', `a tunnel port is only for gue tunnels, not ${r.tunnel.type}`]);
    if (r.tunnel.type === 'ipip' && r.tunnel.checksum !== 'nocsum') problems.push(['.tunnel.checksum', 'checksums are only for gue and gre tunnels']);
    if (r.tunnel.type === 'gre' && r.tunnel.checksum === 'remcsum') problems.push(['.tunnel.checksum', 'remote checksum offload (remcsum) is only for gue tunnels']);
  }
  // a NAT real server with port 0 is valid: the kernel then keeps the packet's destination port
  return problems;
}

function isContiguousMask(text: string): boolean {
  const p = parseIpCached(text);
  if (!p || p.family !== 'ipv4') return false;
  const n = p.bytes.readUInt32BE(0);
  const inv = ~n >>> 0;
  return n !== 0 && (inv & (inv + 1)) === 0;
}

/** Prefix length of a contiguous IPv4 mask. */
export function maskBits(mask: string): number {
  const n = parseIpCached(mask)!.bytes.readUInt32BE(0);
  let bits = 0;
  for (let m = n; m & 0x80000000; m = (m << 1) >>> 0) bits++;
  return bits;
}
