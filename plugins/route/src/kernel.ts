/**
 * Routes and nexthop objects in the kernel, over rtnetlink: dumps decoded into the model, request
 * builders (synchronous, so that restore can pipeline them and build undo requests lazily), route
 * lookups, and the multipath sysctls. Errors name the route or nexthop concerned.
 *
 * This module is the plugin's exported API.
 */
import {
  ErrorContext, IpAddress, NETLINK_ROUTE, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NetlinkError,
  NetlinkMessage, NetlinkSession, Request, familyName, familyNumber, formatIp, listLinks, parseIp, parseIpCached, readSysctl,
} from '@ha/lib/netlink';
import { OperationError, UsageError } from '@ha/lib';
import { writeDestination } from './addr.js';
import {
  AF_INET, AF_INET6, NHMSG_LEN, NEXTHOP_GRP_TYPE_RES, RTA_DST, RTA_GATEWAY, RTA_MULTIPATH, RTA_NH_ID, RTA_OIF, RTA_PREFSRC,
  RTA_PRIORITY, RTA_TABLE, RTA_VIA, RTMSG_LEN, RTM_DELNEXTHOP, RTM_DELROUTE, RTM_F_FIB_MATCH,
  RTM_GETNEXTHOP, RTM_GETROUTE, RTM_NEWNEXTHOP, RTM_NEWROUTE, RTNH_F_DEAD, RTNH_F_LINKDOWN, RTNH_F_ONLINK,
  USER_HZ, decodeGroup, decodeMultipath, decodeNhMsg, decodeRtMsg, encodeGroup, encodeMultipath, encodeNhMsg, nexthopAttrs,
  routeAttrs, writeRtMsg,
} from './codec.js';
import {
  Family, HA_PROTOCOL, LOCAL_TABLE, Leg, MAIN_TABLE, Nexthop, RTN, ROUTE_TYPES, Route, RouteType, formatDestination,
  protocolName, protocolNumber, routeLabel, scopeName, scopeNumber,
} from './model.js';

export const rtnl = (): NetlinkSession => NetlinkSession.get(NETLINK_ROUTE);

const familyOf = familyName;

// ---- interfaces by name and index ----

export interface Links {
  index(name: string): number;
  name(index: number): string;
  has(name: string): boolean;
}

/** The interfaces of this namespace, read once. */
export async function links(): Promise<Links> {
  const all = await listLinks();
  const byName = new Map(all.map((l) => [l.name, l.index]));
  const byIndex = new Map(all.map((l) => [l.index, l.name]));
  return {
    has: (n) => byName.has(n),
    index(n) {
      const i = byName.get(n);
      if (i === undefined) throw new OperationError(`interface ${n} does not exist`, 'ENODEV');
      return i;
    },
    name: (i) => byIndex.get(i) ?? `if${i}`,
  };
}

// ---- decoding ----

const stateOf = (flags: number): string[] | undefined => {
  const s: string[] = [];
  if (flags & RTNH_F_DEAD) s.push('dead');
  if (flags & RTNH_F_LINKDOWN) s.push('linkdown');
  return s.length ? s : undefined;
};

function addressOf(gateway: Buffer | undefined, via: Buffer | undefined): string | undefined {
  if (gateway) return formatIp(gateway);
  if (via && via.length >= 6) return formatIp(via.subarray(2));
  return undefined;
}

const TYPE_NAMES = new Map<number, RouteType>(ROUTE_TYPES.map((t) => [RTN[t], t]));

/** One RTM_NEWROUTE message as a route; undefined for families and types this plugin does not model. */
export function decodeRoute(msg: NetlinkMessage, l: Links): Route | undefined {
  const h = decodeRtMsg(msg.data);
  const family = familyOf(h.family);
  const type = TYPE_NAMES.get(h.type);
  if (!family || !type) return undefined;
  const a = routeAttrs.decode(msg.data.subarray(RTMSG_LEN));
  const r: Route = {
    family,
    dst: formatDestination({ bytes: a.dst ?? Buffer.alloc(family === 'ipv4' ? 4 : 16), prefixlen: h.dstLen }),
    table: a.table ?? h.table,
    metric: a.priority ?? 0,
    type,
    protocol: protocolName(h.protocol),
    scope: scopeName(h.scope),
  };
  if (a.prefsrc) r.src = formatIp(a.prefsrc);
  if (a.nhId !== undefined) r.nhid = a.nhId;
  if (a.multipath && r.nhid === undefined) {
    const legs = decodeMultipath(a.multipath);
    r.nexthops = legs.map((n) => {
      const leg: Leg = { weight: n.hops + 1 };
      const via = addressOf(n.gateway, n.via);
      if (via) leg.via = via;
      if (n.ifindex) leg.dev = l.name(n.ifindex);
      if (n.flags & RTNH_F_ONLINK) leg.onlink = true;
      const st = stateOf(n.flags);
      if (st) leg.state = st;
      return leg;
    });
    // every leg dead or without carrier: the route as a whole is
    const common = r.nexthops.reduce((f, n, i) => (i === 0 ? legs[0]!.flags : f & legs[i]!.flags), 0);
    const st = stateOf(common);
    if (st) r.state = st;
  } else if (r.nhid === undefined && type === 'unicast') {
    // (IPv6 reject routes come with "dev lo": an artefact, not a path)
    const via = addressOf(a.gateway, a.via);
    if (via) r.via = via;
    if (a.oif) r.dev = l.name(a.oif);
    if (h.flags & RTNH_F_ONLINK) r.onlink = true;
  }
  if (!r.nexthops) {
    const st = stateOf(h.flags);
    if (st) r.state = st;
  }
  return r;
}

export interface RouteFilter {
  family?: Family;
  /** Only this table; undefined = main; 'all' = every table but local. */
  table?: number | 'all';
}

/** Routes of the kernel (not the route cache), IPv4 then IPv6, in the kernel's order. */
export async function listRoutes(filter: RouteFilter = {}, l?: Links): Promise<Route[]> {
  const names = l ?? await links();
  const families: Family[] = filter.family ? [filter.family] : ['ipv4', 'ipv6'];
  const out: Route[] = [];
  for (const f of families) {
    const h = Buffer.alloc(RTMSG_LEN);
    h[0] = familyNumber(f);
    const msgs = await rtnl().dump({ type: RTM_GETROUTE, payload: h, context: { object: `${f} routes` } });
    for (const m of msgs) {
      if (m.type !== RTM_NEWROUTE) continue;
      const r = decodeRoute(m, names);
      if (!r) continue;
      if (filter.table === 'all' ? r.table === LOCAL_TABLE : r.table !== (filter.table ?? MAIN_TABLE)) continue;
      out.push(r);
    }
  }
  return out;
}

// ---- requests ----

/** The scope a route gets when none is given: link for a route straight onto an interface. */
export function defaultScope(r: Pick<Route, 'type' | 'via' | 'nexthops' | 'nhid'>): string {
  if (r.type !== 'unicast' || r.via || r.nexthops?.length || r.nhid !== undefined) return 'global';
  return 'link';
}

function bytesOf(text: string, what: string): IpAddress {
  const ip = parseIpCached(text);
  if (!ip) throw new UsageError(`${what}: not an IP address: ${JSON.stringify(text)}`);
  return ip;
}

function gatewayBytes(route: Family, via: string): { gateway?: Buffer; via?: Buffer } {
  const ip = bytesOf(via, 'gateway');
  if (ip.family === route) return { gateway: ip.bytes };
  // an IPv6 gateway of an IPv4 route travels as RTA_VIA: family, then the address
  const b = Buffer.alloc(2 + ip.bytes.length);
  b.writeUInt16LE(familyNumber(ip.family), 0);
  ip.bytes.copy(b, 2);
  return { via: b };
}

export type RouteOp = 'add' | 'replace' | 'delete' | 'append';

const OP_FLAGS: Record<RouteOp, number> = {
  add: NLM_F_CREATE | NLM_F_EXCL,
  replace: NLM_F_CREATE | NLM_F_REPLACE,
  append: NLM_F_CREATE | NLM_F_APPEND,
  delete: 0,
};

/** How errors about a route read (built only when an error needs it: a restore makes 100,000 of these). */
export function routeMessages(r: Route): Partial<Record<string, string>> {
    const label = routeLabel(r);
    const gws = [r.via, ...(r.nexthops ?? []).map((n) => n.via)].filter(Boolean).join(', ');
    const unreachable = `${label}: gateway ${gws || '?'} is not reachable on any interface (no connected network covers it; add an address in its network first, or use --onlink)`;
    return {
      EEXIST: `${label} already exists`,
      ESRCH: `${label} does not exist`,
      ENOENT: `${label} does not exist`,
      ENETUNREACH: unreachable,
      EHOSTUNREACH: unreachable,
      ENODEV: `${label}: its interface does not exist or is down`,
    };
}

class RouteContext implements ErrorContext {
  constructor(private readonly r: Route) {}
  get object(): string {
    return routeLabel(this.r);
  }
  get messages(): Partial<Record<string, string>> {
    return routeMessages(this.r);
  }
}

export function routeContext(r: Route): ErrorContext {
  return new RouteContext(r);
}


function putU32(b: Buffer, off: number, type: number, v: number): number {
  b.writeUInt32LE(0x00000008 | (type << 16), off);
  b.writeUInt32LE(v >>> 0, off + 4);
  return off + 8;
}

function putBytes(b: Buffer, off: number, type: number, v: Buffer): number {
  b.writeUInt16LE(4 + v.length, off);
  b.writeUInt16LE(type, off + 2);
  v.copy(b, off + 4);
  const end = off + 4 + v.length;
  const padded = off + 4 + ((v.length + 3) & ~3);
  if (padded > end) b.fill(0, end, padded);
  return padded;
}

/**
 * The request for one route. `l` maps interface names to indexes. For IPv6 multipath routes the
 * kernel keeps each path as a sibling route; NLM_F_APPEND on creation tells it to add the paths to
 * each other (and to an existing route of the same metric) rather than refuse them.
 *
 * Written straight into one buffer (no attribute table): a restore builds 100,000 of these.
 */
export function routeRequest(op: RouteOp, r: Route, l: Links, context?: ErrorContext): Request {
  return { type: routeMessageType(op), flags: routeRequestFlags(op, r), payload: routePayload(op, r, l), context: context ?? new RouteContext(r) };
}

export const routeMessageType = (op: RouteOp): number => (op === 'delete' ? RTM_DELROUTE : RTM_NEWROUTE);

export function routeRequestFlags(op: RouteOp, r: Route): number {
  if (op === 'add' && r.family === 'ipv6' && r.nexthops && r.nexthops.length > 1) return NLM_F_CREATE | NLM_F_APPEND | NLM_F_EXCL;
  return OP_FLAGS[op];
}

/**
 * Throws what routePayload would throw for this route (an interface that does not exist, an
 * address that is not one), without building it.
 */
export function checkRoutePayload(op: RouteOp, r: Route, l: Links): void {
  if (op === 'delete') return;
  if (r.src) bytesOf(r.src, 'source');
  if (r.nhid !== undefined) return;
  if (r.nexthops?.length) {
    for (const n of r.nexthops) {
      if (n.dev) l.index(n.dev);
      if (n.via) bytesOf(n.via, 'gateway');
    }
    return;
  }
  if (r.via) bytesOf(r.via, 'gateway');
  if (r.dev) l.index(r.dev);
}

/** The rtmsg and attributes of a route request. */
export function routePayload(op: RouteOp, r: Route, l: Links): Buffer {
  const table = r.table;
  const alen = r.family === 'ipv4' ? 4 : 16;
  const slash = r.dst.indexOf('/');
  const prefixlen = r.dst === 'default' ? 0 : slash === -1 ? alen * 8 : Number(r.dst.slice(slash + 1));
  let src: Buffer | undefined;
  let multipath: Buffer | undefined;
  let gw: Buffer | undefined;
  let gwType = RTA_GATEWAY;
  let oif = 0;
  if (op !== 'delete') {
    if (r.src) src = bytesOf(r.src, 'source').bytes;
    if (r.nhid === undefined && r.nexthops?.length) {
      multipath = encodeMultipath(r.nexthops.map((n) => ({
        flags: n.onlink ? RTNH_F_ONLINK : 0,
        hops: n.weight - 1,
        ifindex: n.dev ? l.index(n.dev) : 0,
        ...(n.via ? gatewayBytes(r.family, n.via) : {}),
      })));
    } else if (r.nhid === undefined) {
      if (r.via) {
        const ip = bytesOf(r.via, 'gateway');
        if (ip.family === r.family) gw = ip.bytes;
        else {
          gw = gatewayBytes(r.family, r.via).via!;
          gwType = RTA_VIA;
        }
      }
      if (r.dev) oif = l.index(r.dev);
    }
  }
  const pad = (n: number): number => 4 + ((n + 3) & ~3);
  let size = RTMSG_LEN + 8;
  if (table > 255) size += 8;
  if (prefixlen) size += 4 + alen;
  if (src) size += pad(src.length);
  if (op !== 'delete' && r.nhid !== undefined) size += 8;
  if (multipath) size += pad(multipath.length);
  if (gw) size += pad(gw.length);
  if (oif) size += 8;
  const payload = Buffer.allocUnsafe(size);
  writeRtMsg(payload, 0, {
    family: r.family === 'ipv4' ? AF_INET : AF_INET6,
    dstLen: prefixlen,
    srcLen: 0,
    tos: 0,
    table: table > 255 ? 0 : table,
    protocol: op === 'delete' ? 0 : PROTOCOL_CACHE.get(r.protocol) ?? protocolNumber(r.protocol) ?? 4,
    scope: op === 'delete' ? 255 : r.scope === 'global' ? 0 : scopeNumber(r.scope) ?? 0,
    type: op === 'delete' ? 0 : RTN[r.type],
    flags: !r.nexthops && r.onlink ? RTNH_F_ONLINK : 0,
  });
  let off = RTMSG_LEN;
  if (table > 255) off = putU32(payload, off, RTA_TABLE, table);
  if (prefixlen) {
    payload.writeUInt16LE(4 + alen, off);
    payload.writeUInt16LE(RTA_DST, off + 2);
    writeDestination(r.dst, payload, off + 4);
    off += 4 + alen;
  }
  off = putU32(payload, off, RTA_PRIORITY, r.metric);
  if (src) off = putBytes(payload, off, RTA_PREFSRC, src);
  if (op !== 'delete' && r.nhid !== undefined) off = putU32(payload, off, RTA_NH_ID, r.nhid);
  if (multipath) off = putBytes(payload, off, RTA_MULTIPATH, multipath);
  if (gw) off = putBytes(payload, off, gwType, gw);
  if (oif) off = putU32(payload, off, RTA_OIF, oif);
  return payload;
}

const PROTOCOL_CACHE = new Map<string, number>([['boot', 3], ['static', 4], ['unspec', 0]]);

export async function sendRoute(op: RouteOp, r: Route, l?: Links): Promise<void> {
  await rtnl().request(routeRequest(op, r, l ?? await links()));
}

/** The kernel's routes with this route's identity (family, table, destination, metric). */
export async function findRoute(k: Pick<Route, 'family' | 'table' | 'dst' | 'metric'>, l?: Links): Promise<Route | undefined> {
  const all = await listRoutes({ family: k.family, table: k.table }, l);
  return all.find((r) => r.dst === k.dst && r.metric === k.metric);
}

// ---- lookups (ha route get) ----

export interface Lookup {
  /** What the kernel would do for a packet to this address now. */
  address: string;
  family: Family;
  /** The route that matched (RTM_F_FIB_MATCH): its prefix, metric, table and every path. */
  route?: Route;
  /** The path chosen for this flow. */
  via?: string;
  dev?: string;
  src?: string;
  table: number;
  type: string;
}

export interface LookupOptions {
  from?: string;
  dev?: string;
  mark?: number;
  ipProto?: number;
  sport?: number;
  dport?: number;
}

function lookupRequest(ip: IpAddress, o: LookupOptions, l: Links | undefined, fibMatch: boolean): Request {
  const attrs: Parameters<typeof routeAttrs.encode>[0] = { dst: ip.bytes };
  if (o.from) attrs.src = bytesOf(o.from, 'source').bytes;
  if (o.dev) attrs.oif = l!.index(o.dev);
  if (o.mark !== undefined) attrs.mark = o.mark;
  if (o.ipProto !== undefined) attrs.ipProto = o.ipProto;
  if (o.sport !== undefined) attrs.sport = o.sport;
  if (o.dport !== undefined) attrs.dport = o.dport;
  const h = Buffer.alloc(RTMSG_LEN);
  writeRtMsg(h, 0, {
    family: familyNumber(ip.family), dstLen: ip.bytes.length * 8, srcLen: o.from ? ip.bytes.length * 8 : 0, tos: 0, table: 0,
    protocol: 0, scope: 0, type: 0, flags: fibMatch ? RTM_F_FIB_MATCH : 0,
  });
  const unreachable = `no route to ${formatIp(ip.bytes)}${o.dev ? ` through ${o.dev}` : ''}`;
  return {
    type: RTM_GETROUTE,
    payload: [h, routeAttrs.encode(attrs)],
    context: { object: `route to ${formatIp(ip.bytes)}`, messages: { ENETUNREACH: unreachable, EHOSTUNREACH: unreachable, ESRCH: unreachable } },
  };
}

/** Which route and path the kernel would use for a packet to `address` (with the flow details given). */
export async function lookup(address: string, o: LookupOptions = {}, l?: Links): Promise<Lookup> {
  const ip = parseIp(address);
  if (!ip) throw new UsageError(`not an IP address: ${JSON.stringify(address)} (expected an IPv4 or IPv6 address, e.g. 203.0.113.7 or 2001:db8::7)`);
  const names = l ?? await links();
  const [reply] = await rtnl().request(lookupRequest(ip, o, names, false));
  const h = decodeRtMsg(reply!.data);
  const a = routeAttrs.decode(reply!.data.subarray(RTMSG_LEN));
  const out: Lookup = { address: formatIp(ip.bytes), family: ip.family, table: a.table ?? h.table, type: TYPE_NAMES.get(h.type) ?? (h.type === 2 ? 'local' : String(h.type)) };
  const via = addressOf(a.gateway, a.via);
  if (via) out.via = via;
  if (a.oif) out.dev = names.name(a.oif);
  if (a.prefsrc) out.src = formatIp(a.prefsrc);
  try {
    const [m] = await rtnl().request(lookupRequest(ip, o, names, true));
    const r = m ? decodeRoute(m, names) : undefined;
    if (r) out.route = r;
  } catch {
    // older kernels without RTM_F_FIB_MATCH: the resolved path alone
  }
  return out;
}

const RTN_LOCAL = 2;

/**
 * Is the gateway reachable directly (a connected network), through the given interface if any?
 * Returns the interface it is reached through. The refusals say what is true: the gateway is an
 * address of this host, is on another interface's network, is only reachable through another
 * gateway, or is on no connected network at all.
 */
export async function checkGateway(via: string, dev: string | undefined, l: Links): Promise<string> {
  const ip = parseIp(via)!;
  const gw = ip.family === 'ipv6' ? `[${via}]` : via;
  let reply: NetlinkMessage | undefined;
  try {
    // asked without the interface: where the kernel would send to it, if anywhere
    [reply] = await rtnl().request(lookupRequest(ip, {}, l, false));
  } catch (error) {
    if (error instanceof NetlinkError) {
      throw new OperationError(`gateway ${gw} is not reachable on any interface: no connected network covers it (add an address in its network first, or use --onlink)`, 'ENETUNREACH');
    }
    throw error;
  }
  const h = decodeRtMsg(reply!.data);
  const a = routeAttrs.decode(reply!.data.subarray(RTMSG_LEN));
  const oif = a.oif === undefined ? undefined : l.name(a.oif);
  if (h.type === RTN_LOCAL) {
    throw new OperationError(`gateway ${gw} is an address of this host${oif && oif !== 'lo' ? ` (on ${oif})` : ''}: a gateway must be another host`, 'EINVAL');
  }
  if (h.type !== RTN.unicast || !oif) {
    throw new OperationError(`gateway ${gw} is not reachable: the kernel's route to it is not a unicast route (it is ${h.type === RTN.blackhole ? 'a blackhole' : h.type === RTN.unreachable ? 'unreachable' : h.type === RTN.prohibit ? 'prohibited' : `type ${h.type}`})`, 'ENETUNREACH');
  }
  if (a.gateway || a.via) {
    const through = a.gateway ? formatIp(a.gateway) : 'another gateway';
    throw new OperationError(`gateway ${gw} is not on a connected network: it is reached through ${through} on ${oif} (a gateway must be on a network of this host; use --onlink if it is directly reachable anyway)`, 'ENETUNREACH');
  }
  if (dev && oif !== dev) {
    // two interfaces may share a network: asked through dev, is it directly there too?
    const [r2] = await rtnl().request(lookupRequest(ip, { dev }, l, false)).catch(() => [undefined]);
    if (r2) {
      const h2 = decodeRtMsg(r2.data);
      const a2 = routeAttrs.decode(r2.data.subarray(RTMSG_LEN));
      if (h2.type === RTN.unicast && !a2.gateway && !a2.via && a2.oif !== undefined && l.name(a2.oif) === dev) return dev;
    }
    throw new OperationError(`gateway ${gw} is on a network of ${oif}, not of ${dev} (write ${gw}@${oif}, or leave the interface out)`, 'ENETUNREACH');
  }
  return oif;
}

// ---- nexthop objects ----

export function decodeNexthop(msg: NetlinkMessage, l: Links): Nexthop | undefined {
  const h = decodeNhMsg(msg.data);
  const a = nexthopAttrs.decode(msg.data.subarray(NHMSG_LEN));
  if (a.id === undefined || a.fdb) return undefined;
  const nh: Nexthop = { id: a.id };
  const family = familyOf(h.family);
  if (a.group) {
    nh.group = decodeGroup(a.group);
    nh.type = a.groupType === NEXTHOP_GRP_TYPE_RES ? 'resilient' : 'mpath';
    if (a.resGroup) {
      if (a.resGroup.buckets !== undefined) nh.buckets = a.resGroup.buckets;
      if (a.resGroup.idleTimer !== undefined) nh.idleTimer = a.resGroup.idleTimer / USER_HZ;
      if (a.resGroup.unbalancedTimer !== undefined) nh.unbalancedTimer = a.resGroup.unbalancedTimer / USER_HZ;
    }
  } else {
    if (family) nh.family = family;
    if (a.blackhole) nh.blackhole = true;
    if (a.gateway) nh.via = formatIp(a.gateway);
    if (a.oif) nh.dev = l.name(a.oif);
    if (h.flags & RTNH_F_ONLINK) nh.onlink = true;
  }
  nh.protocol = protocolName(h.protocol);
  const st = stateOf(h.flags);
  if (st) nh.state = st;
  return nh;
}

/** Every nexthop object (ip nexthop), by id. */
export async function listNexthops(l?: Links): Promise<Nexthop[]> {
  const names = l ?? await links();
  let msgs: NetlinkMessage[];
  try {
    msgs = await rtnl().dump({ type: RTM_GETNEXTHOP, payload: encodeNhMsg({ family: 0, scope: 0, protocol: 0, flags: 0 }), context: { object: 'nexthops' } });
  } catch (error) {
    // kernels before 5.3 have no nexthop objects
    if (error instanceof NetlinkError && (error.errnoName === 'EOPNOTSUPP' || error.errnoName === 'EINVAL')) return [];
    throw error;
  }
  const out: Nexthop[] = [];
  for (const m of msgs) {
    if (m.type !== RTM_NEWNEXTHOP) continue;
    const nh = decodeNexthop(m, names);
    if (nh) out.push(nh);
  }
  return out.sort((a, b) => a.id - b.id);
}

export function nexthopLabel(nh: Pick<Nexthop, 'id' | 'group'>): string {
  return `${nh.group ? 'nexthop group' : 'nexthop'} ${nh.id}`;
}

export function nexthopRequest(op: 'add' | 'replace' | 'delete', nh: Nexthop, l: Links): Request {
  const label = nexthopLabel(nh);
  const context: ErrorContext = {
    object: label,
    messages: {
      EEXIST: `${label} already exists`,
      ENOENT: `${label} does not exist`,
      ESRCH: `${label} does not exist`,
      ENETUNREACH: `${label}: gateway ${nh.via ?? '?'} is not reachable on ${nh.dev ?? 'any interface'}`,
      ...(nh.group ? { EINVAL: `${label}: the kernel refused the group (does every member nexthop ${nh.group.map((m) => m.id).join(', ')} exist, with one family and a gateway?)` } : {}),
    },
  };
  if (op === 'delete') {
    return { type: RTM_DELNEXTHOP, payload: [encodeNhMsg({ family: 0, scope: 0, protocol: 0, flags: 0 }), nexthopAttrs.encode({ id: nh.id })], context };
  }
  const family = nh.group ? 0 : familyNumber(nh.family ?? (nh.via ? parseIp(nh.via)!.family : 'ipv4'));
  const attrs: Parameters<typeof nexthopAttrs.encode>[0] = { id: nh.id };
  if (nh.group) {
    attrs.group = encodeGroup(nh.group);
    if (nh.type === 'resilient') {
      attrs.groupType = NEXTHOP_GRP_TYPE_RES;
      attrs.resGroup = {
        buckets: nh.buckets,
        idleTimer: nh.idleTimer === undefined ? undefined : Math.round(nh.idleTimer * USER_HZ),
        unbalancedTimer: nh.unbalancedTimer === undefined ? undefined : Math.round(nh.unbalancedTimer * USER_HZ),
      };
    }
  } else if (nh.blackhole) {
    attrs.blackhole = true;
  } else {
    if (nh.via) attrs.gateway = parseIp(nh.via)!.bytes;
    if (nh.dev) attrs.oif = l.index(nh.dev);
  }
  return {
    type: RTM_NEWNEXTHOP,
    flags: op === 'add' ? NLM_F_CREATE | NLM_F_EXCL : NLM_F_CREATE | NLM_F_REPLACE,
    payload: [encodeNhMsg({ family, scope: 0, protocol: protocolNumber(nh.protocol ?? HA_PROTOCOL) ?? 4, flags: !nh.group && nh.onlink ? RTNH_F_ONLINK : 0 }), nexthopAttrs.encode(attrs)],
    context,
  };
}

export async function sendNexthop(op: 'add' | 'replace' | 'delete', nh: Nexthop, l?: Links): Promise<void> {
  await rtnl().request(nexthopRequest(op, nh, l ?? await links()));
}

// ---- sysctls that decide multipath and failover behaviour ----

export const HASH_POLICY_NAMES = ['l3', 'l4', 'l3-inner', 'custom'] as const;

export interface MultipathSysctls {
  'net.ipv4.fib_multipath_hash_policy': number;
  'net.ipv6.fib_multipath_hash_policy': number;
  'net.ipv4.fib_multipath_use_neigh': number;
  'net.ipv4.conf.all.ignore_routes_with_linkdown': number;
  'net.ipv6.conf.all.ignore_routes_with_linkdown': number;
}
export const MANAGED_SYSCTLS = [
  'net.ipv4.fib_multipath_hash_policy', 'net.ipv6.fib_multipath_hash_policy', 'net.ipv4.fib_multipath_use_neigh',
  'net.ipv4.conf.all.ignore_routes_with_linkdown', 'net.ipv6.conf.all.ignore_routes_with_linkdown',
] as const;
export type ManagedSysctl = (typeof MANAGED_SYSCTLS)[number];

/** The managed sysctls this kernel has (IPv6 ones are absent when IPv6 is disabled). */
export async function readMultipathSysctls(): Promise<Partial<MultipathSysctls>> {
  const out: Partial<MultipathSysctls> = {};
  for (const k of MANAGED_SYSCTLS) {
    try {
      out[k] = Number(await readSysctl(k));
    } catch { /* not in this kernel */ }
  }
  return out;
}
