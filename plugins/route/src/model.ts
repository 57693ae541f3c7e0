/**
 * The route model: plain typed objects for routes, their paths (legs) and nexthop objects, as the
 * state file holds them and as every command passes them around, with the parsing and checking of
 * what people type (prefixes, gateways, tables, weights). Routes are decoded from what the kernel
 * replies (codec.ts), never echoed from what was sent.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { UsageError } from '@ha/lib';
import { IpAddress, IpFamily, checkIfname as checkLinkName, formatIp, parseIp, parseIpCached } from '@ha/lib/netlink';

export type Family = IpFamily;

export const MAIN_TABLE = 254;
export const LOCAL_TABLE = 255;
/** The metric the kernel gives an IPv6 route added without one (IP6_RT_PRIO_USER). */
export const IPV6_DEFAULT_METRIC = 1024;
/** Largest weight a path of a multipath route can have (rtnh_hops is a u8 holding weight - 1). */
export const MAX_WEIGHT = 256;

export const ROUTE_TYPES = ['unicast', 'blackhole', 'unreachable', 'prohibit', 'throw'] as const;
export type RouteType = (typeof ROUTE_TYPES)[number];
/** rtm_type numbers of the route types above (RTN_*). */
export const RTN: Record<RouteType, number> = { unicast: 1, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9 };

export const HASH_POLICIES = ['l3', 'l4', 'l3-inner'] as const;
export type HashPolicy = (typeof HASH_POLICIES)[number];

/** One path of a route: a gateway, an interface, or both, with its weight in a multipath route. */
export interface Leg {
  via?: string;
  dev?: string;
  /** 1 to 256; the share of flows is weight / sum of weights. */
  weight: number;
  onlink?: boolean;
  /** As the kernel reports it (read-only): "dead" (interface down), "linkdown" (no carrier). */
  state?: string[];
}

export interface Route {
  family: Family;
  /** "default" or a canonical prefix, "192.0.2.0/24". */
  dst: string;
  table: number;
  metric: number;
  type: RouteType;
  /** rtm_protocol by name (boot, static, kernel, dhcp…) or number. */
  protocol: string;
  /** global, link, host, or a number. */
  scope: string;
  /** Preferred source address. */
  src?: string;
  /** A single path: gateway and/or interface. */
  via?: string;
  dev?: string;
  onlink?: boolean;
  /** Several paths (a multipath route). */
  nexthops?: Leg[];
  /** A nexthop object (ip nexthop) the route uses. */
  nhid?: number;
  /** Read-only, as the kernel reports it: "dead", "linkdown". */
  state?: string[];
  /** Read-only, in `list`: the route the kernel uses for this prefix now (lowest alive metric). */
  inUse?: boolean;
}

/** A nexthop object: one gateway/interface/blackhole, or a group of other nexthops. */
export interface Nexthop {
  id: number;
  family?: Family;
  via?: string;
  dev?: string;
  onlink?: boolean;
  blackhole?: boolean;
  /** Members of a group, with weights 1-256. */
  group?: Array<{ id: number; weight: number }>;
  /** Group type: hash-threshold "mpath" (the default) or "resilient". */
  type?: 'mpath' | 'resilient';
  /** Resilient groups: number of buckets, idle and unbalanced timers in seconds. */
  buckets?: number;
  idleTimer?: number;
  unbalancedTimer?: number;
  protocol?: string;
  /** Read-only: "dead", "linkdown". */
  state?: string[];
}

// ---- names of tables, protocols, scopes ----

const BUILTIN_TABLES: Record<string, number> = { unspec: 0, default: 253, main: 254, local: 255 };

let tableNames: Map<string, number> | undefined;
/** Table names from /etc/iproute2/rt_tables (and rt_tables.d/*.conf), as ip(8) reads them. */
export function knownTables(): Map<string, number> {
  if (tableNames) return tableNames;
  const m = new Map<string, number>(Object.entries(BUILTIN_TABLES));
  const files = ['/usr/share/iproute2/rt_tables', '/etc/iproute2/rt_tables'];
  for (const dir of ['/usr/share/iproute2/rt_tables.d', '/etc/iproute2/rt_tables.d']) {
    try {
      for (const f of readdirSync(dir).sort()) if (f.endsWith('.conf')) files.push(`${dir}/${f}`);
    } catch { /* no such folder */ }
  }
  for (const f of files) {
    let text = '';
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n')) {
      const w = line.replace(/#.*/, '').trim().split(/\s+/);
      if (w.length >= 2 && /^(0x[0-9a-f]+|\d+)$/i.test(w[0]!)) m.set(w[1]!, Number(w[0]));
    }
  }
  tableNames = m;
  return m;
}

/** "main", "100", or a name from rt_tables; a UsageError naming what is accepted otherwise. */
export function parseTable(text: string | number): number {
  if (typeof text === 'number') return text;
  if (/^\d{1,10}$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 0xffffffff) return n;
    throw new UsageError(`no such table: ${text} (a table is a number from 1 to 4294967295 or a name: main, default, local or one in /etc/iproute2/rt_tables)`);
  }
  const n = knownTables().get(text);
  if (n === undefined || n === 0) {
    const names = [...knownTables().keys()].filter((k) => k !== 'unspec');
    throw new UsageError(`no such table: ${JSON.stringify(text)} (known names: ${names.join(', ')}; or a number from 1 to 4294967295)`);
  }
  return n;
}

export function tableName(n: number): string {
  for (const [name, id] of knownTables()) if (id === n && name !== 'unspec') return name;
  return String(n);
}

const PROTOCOLS: Record<number, string> = {
  0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 8: 'gated', 9: 'ra', 10: 'mrt', 11: 'zebra', 12: 'bird',
  13: 'dnrouted', 14: 'xorp', 15: 'ntk', 16: 'dhcp', 17: 'mrouted', 18: 'keepalived', 42: 'babel', 99: 'openr', 186: 'bgp',
  187: 'isis', 188: 'ospf', 189: 'rip', 192: 'eigrp',
};
const PROTOCOL_NUMBERS = new Map(Object.entries(PROTOCOLS).map(([n, name]) => [name, Number(n)]));
export const protocolName = (n: number): string => PROTOCOLS[n] ?? String(n);
export function protocolNumber(p: string): number | undefined {
  const n = PROTOCOL_NUMBERS.get(p);
  if (n !== undefined) return n;
  return /^\d{1,3}$/.test(p) && Number(p) <= 255 ? Number(p) : undefined;
}
/** Routes ha creates are marked "static", as routes an administrator installed. */
export const HA_PROTOCOL = 'static';

export { scopeName, scopeNumber } from '@ha/lib/netlink';

/**
 * Routes ha manages in save/restore: those an administrator or ha installed (protocols boot, static
 * and unspec), in any table but local. Routes of the kernel (connected networks), of router
 * advertisements, redirects, DHCP clients and routing daemons belong to their owners.
 */
export function isManaged(r: Pick<Route, 'protocol' | 'table'>): boolean {
  return r.table !== LOCAL_TABLE && (r.protocol === 'boot' || r.protocol === 'static' || r.protocol === 'unspec');
}

// ---- addresses ----

export interface Prefix extends IpAddress {
  prefixlen: number;
}

/** "default", "192.0.2.0/24", "2001:db8::/32", or an address (a host route); bits past the length must be 0. */
export function parseDestination(text: string, family?: Family): Prefix {
  if (text === 'default' || text === 'all') {
    const f = family ?? 'ipv4';
    return { family: f, bytes: Buffer.alloc(f === 'ipv4' ? 4 : 16), prefixlen: 0 };
  }
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!ip) throw new UsageError(`not a destination: ${JSON.stringify(text)} (expected default, an IPv4/IPv6 prefix such as 192.0.2.0/24 or 2001:db8::/32, or an address)`);
  if (family && ip.family !== family) throw new UsageError(`destination ${text} is not ${family === 'ipv4' ? 'IPv4' : 'IPv6'}`);
  const max = ip.family === 'ipv4' ? 32 : 128;
  let prefixlen = max;
  if (slash !== -1) {
    const t = text.slice(slash + 1);
    prefixlen = /^\d{1,3}$/.test(t) ? Number(t) : NaN;
    if (!(prefixlen >= 0 && prefixlen <= max)) throw new UsageError(`bad prefix length in ${JSON.stringify(text)}: expected 0 to ${max}`);
  }
  if (hostBits(ip.bytes, prefixlen)) {
    const net = Buffer.from(ip.bytes);
    for (let b = prefixlen; b < max; b++) net[b >> 3]! &= ~(0x80 >> (b & 7));
    throw new UsageError(`destination ${text} has host bits set: did you mean ${formatIp(net)}/${prefixlen}?`);
  }
  return { ...ip, prefixlen };
}

function hostBits(b: Buffer, prefixlen: number): boolean {
  const whole = prefixlen >> 3;
  const rest = prefixlen & 7;
  if (rest && (b[whole]! & (0xff >> rest))) return true;
  for (let i = whole + (rest ? 1 : 0); i < b.length; i++) if (b[i]) return true;
  return false;
}

export function formatDestination(p: Pick<Prefix, 'bytes' | 'prefixlen'>): string {
  return p.prefixlen === 0 ? 'default' : `${formatIp(p.bytes)}/${p.prefixlen}`;
}

/** A gateway address, checked against the route's family. */
export function parseGateway(text: string, family?: Family): IpAddress {
  const ip = parseIpCached(text);
  if (!ip) throw new UsageError(`not a gateway address: ${JSON.stringify(text)} (expected an IPv4 or IPv6 address)`);
  if (family && ip.family !== family) {
    throw new UsageError(`gateway ${text} is ${ip.family === 'ipv4' ? 'IPv4' : 'IPv6'} but the destination is ${family === 'ipv4' ? 'IPv4' : 'IPv6'}`);
  }
  const b = ip.bytes;
  const zero = b.every((x) => x === 0);
  const multicast = ip.family === 'ipv4' ? (b[0]! & 0xf0) === 0xe0 : b[0] === 0xff;
  const broadcast = ip.family === 'ipv4' && b.every((x) => x === 255);
  if (zero || multicast || broadcast) throw new UsageError(`gateway ${text} cannot be a gateway (unspecified, multicast or broadcast address)`);
  return ip;
}

/** An interface name the kernel takes, without "@" (which separates gateway and interface in GW@IF). */
export function checkIfname(name: string, what = 'interface'): string {
  if (name.includes('@')) throw new UsageError(`${what} ${JSON.stringify(name)} is not an interface name ha can use: it contains "@", which separates GW@IF`);
  return checkLinkName(name, what);
}

/**
 * A path as people write it: `GW`, `GW@IF`, `GW:WEIGHT`, `GW@IF:WEIGHT`, `@IF` (an interface alone),
 * IPv6 gateways in brackets when a weight or interface follows: `[2001:db8::1]@eth0:2`.
 */
export function parseLegSpec(text: string, options: { weights: boolean; what: string }): { via?: IpAddress; dev?: string; weight: number } {
  const bad = (why: string): never => {
    throw new UsageError(`${options.what} ${JSON.stringify(text)}: ${why} (expected GW[@IF]${options.weights ? '[:WEIGHT]' : ''}, IPv6 in brackets: [2001:db8::1]${options.weights ? '@eth0:2' : '@eth0'})`);
  };
  let rest = text;
  let gw: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) bad('missing "]"');
    gw = rest.slice(1, close);
    rest = rest.slice(close + 1);
  } else if (!rest.startsWith('@')) {
    // an IPv6 gateway without brackets runs to "@" (interface names hold no ":"); IPv4 to "@" or ":"
    const at = rest.indexOf('@');
    const head = at === -1 ? rest : rest.slice(0, at);
    const end = (head.match(/:/g) ?? []).length > 1 ? head.length : /^[^:]*/.exec(head)![0].length;
    gw = rest.slice(0, end);
    rest = rest.slice(end);
  }
  let dev: string | undefined;
  let weight = 1;
  const m = /^(?:@([^:]+))?(?::([^:]*))?$/.exec(rest);
  if (!m) bad('cannot read it');
  if (m![1] !== undefined) dev = checkIfname(m![1], `${options.what} interface`);
  if (m![2] !== undefined) {
    if (!options.weights) bad('a weight is not accepted here');
    if (!/^\d{1,3}$/.test(m![2]) || Number(m![2]) < 1 || Number(m![2]) > MAX_WEIGHT) bad(`weight ${JSON.stringify(m![2])} is not a number from 1 to ${MAX_WEIGHT}`);
    weight = Number(m![2]);
  }
  if (gw === undefined || gw === '') {
    if (!dev) bad('give a gateway, an interface or both');
    return { dev, weight };
  }
  return { via: parseGateway(gw), dev, weight };
}

export const familyOfAddress = (text: string): Family | undefined => parseIpCached(text)?.family;

// ---- labels and identity ----

export const defaultMetric = (f: Family): number => (f === 'ipv6' ? IPV6_DEFAULT_METRIC : 0);

/** "default via 198.51.100.1 metric 100 table main": how messages name a route. */
export function routeLabel(r: Pick<Route, 'dst' | 'family' | 'metric' | 'table'>): string {
  const dst = r.dst === 'default' && r.family === 'ipv6' ? 'default (IPv6)' : r.dst;
  return `route ${dst} metric ${r.metric}${r.table === MAIN_TABLE ? '' : ` table ${tableName(r.table)}`}`;
}

/** What identifies a route in the kernel: family, table, destination, metric. */
export const routeId = (r: Pick<Route, 'family' | 'table' | 'dst' | 'metric'>): string => `${r.family} ${r.table} ${r.dst} ${r.metric}`;

export function legText(l: Pick<Leg, 'via' | 'dev' | 'weight' | 'onlink'>, withWeight = true): string {
  const parts: string[] = [];
  if (l.via) parts.push(`via ${l.via}`);
  if (l.dev) parts.push(`dev ${l.dev}`);
  if (l.onlink) parts.push('onlink');
  if (withWeight) parts.push(`weight ${l.weight}`);
  return parts.join(' ');
}

/** The paths of a route as text: "via 198.51.100.1 dev eth0", "nexthop via … weight 1, nexthop via … weight 2". */
export function pathText(r: Route): string {
  if (r.nhid !== undefined) return `nhid ${r.nhid}`;
  if (!r.nexthops && r.type === 'unicast' && !r.onlink) {
    return r.via ? (r.dev ? `via ${r.via} dev ${r.dev}` : `via ${r.via}`) : r.dev ? `dev ${r.dev}` : '-';
  }
  if (r.nexthops?.length) return r.nexthops.map((l) => legText(l)).join(', ');
  if (r.type !== 'unicast') return r.type;
  return legText({ via: r.via, dev: r.dev, onlink: r.onlink, weight: 1 }, false) || '-';
}

/** Everything of a route but its identity and read-only fields, for comparing desired with current. */
export function routeSignature(r: Route): string {
  const legs = r.nexthops?.map((l) => `${l.via ?? ''}@${l.dev ?? ''}:${l.weight}${l.onlink ? ' onlink' : ''}`).sort().join(',') ?? '';
  return `${r.type} ${r.protocol} ${r.scope} ${r.src ?? ''} ${r.via ?? ''} ${r.dev ?? ''} ${r.onlink ? 'onlink' : ''} [${legs}] ${r.nhid ?? ''}`;
}

/** Canonical text of an address (as inet_ntop prints it), or the text itself when it is not one. */
const canonical = new Map<string, string>();
export function canonicalIp(text: string): string {
  let c = canonical.get(text);
  if (c === undefined) {
    const ip = parseIpCached(text);
    c = ip ? formatIp(ip.bytes) : text;
    if (canonical.size > 4096) canonical.clear();
    canonical.set(text, c);
  }
  return c;
}
