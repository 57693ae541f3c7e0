/**
 * rtnetlink addresses: the ifaddrmsg header, the IFA_* attributes, and listing, adding and deleting
 * IPv4 and IPv6 addresses on an interface (RTM_GETADDR, RTM_NEWADDR, RTM_DELADDR).
 *
 * `struct ifaddrmsg { u8 ifa_family; u8 ifa_prefixlen; u8 ifa_flags; u8 ifa_scope; u32 ifa_index; }`
 * is followed by attributes. For IPv4, IFA_LOCAL is the interface's own address and IFA_ADDRESS
 * the peer (equal to IFA_LOCAL unless the address is point-to-point); IPv6 replies carry only
 * IFA_ADDRESS unless a peer is set. The 8-bit ifa_flags holds only the old flags; IFA_FLAGS (u32)
 * has them all and wins when present. Requests carry both IFA_LOCAL and IFA_ADDRESS, as ip(8) does.
 */
import { OperationError, UsageError } from '../errors.js';
import { attrCodec } from './attr.js';
import { getLink } from './link.js';
import { NETLINK_ROUTE, NLM_F_CREATE, NLM_F_EXCL, NetlinkMessage } from './message.js';
import { NetlinkSession } from './session.js';
import { AF_UNSPEC, IpAddress, IpFamily, IpPrefix, familyName, familyNumber, formatIp, parseIp } from './ip.js';

export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_ANYCAST = 5;
export const IFA_CACHEINFO = 6;
export const IFA_MULTICAST = 7;
export const IFA_FLAGS = 8;
export const IFA_RT_PRIORITY = 9;
export const IFA_TARGET_NETNSID = 10;
export const IFA_PROTO = 11;

export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_OPTIMISTIC = 0x04;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_HOMEADDRESS = 0x10;
export const IFA_F_DEPRECATED = 0x20;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;
export const IFA_F_MANAGETEMPADDR = 0x100;
export const IFA_F_NOPREFIXROUTE = 0x200;
export const IFA_F_MCAUTOJOIN = 0x400;
export const IFA_F_STABLE_PRIVACY = 0x800;

export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;

/** ifa_valid / ifa_prefered of IFA_CACHEINFO meaning "forever". */
export const INFINITY_LIFE_TIME = 0xffffffff;

export const IFADDRMSG_LEN = 8;

export interface IfAddrMsg {
  family?: number;
  prefixlen?: number;
  flags?: number;
  scope?: number;
  index?: number;
}

export function encodeIfAddr(h: IfAddrMsg = {}): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LEN);
  b.writeUInt8(h.family ?? 0, 0);
  b.writeUInt8(h.prefixlen ?? 0, 1);
  b.writeUInt8(h.flags ?? 0, 2);
  b.writeUInt8(h.scope ?? 0, 3);
  b.writeUInt32LE(h.index ?? 0, 4);
  return b;
}

export function decodeIfAddr(b: Buffer): Required<IfAddrMsg> {
  return {
    family: b.readUInt8(0),
    prefixlen: b.readUInt8(1),
    flags: b.readUInt8(2),
    scope: b.readUInt8(3),
    index: b.readUInt32LE(4),
  };
}

/** IFA_* attributes. IFA_LOCAL comes first so that requests carry them in ip(8)'s order. */
export const addrAttrs = attrCodec({
  local: [IFA_LOCAL, 'binary'],
  address: [IFA_ADDRESS, 'binary'],
  label: [IFA_LABEL, 'string'],
  broadcast: [IFA_BROADCAST, 'binary'],
  anycast: [IFA_ANYCAST, 'binary'],
  cacheinfo: [IFA_CACHEINFO, 'binary'],
  multicast: [IFA_MULTICAST, 'binary'],
  flags: [IFA_FLAGS, 'u32'],
  rtPriority: [IFA_RT_PRIORITY, 'u32'],
  targetNetnsid: [IFA_TARGET_NETNSID, 's32'],
  proto: [IFA_PROTO, 'u8'],
});

// ---- address text (the codec is ip.ts) ----

/**
 * "192.0.2.10/32", "2001:db8::1/128", or an address alone (a host prefix: /32, /128).
 * Throws a UsageError naming the text when it is neither.
 */
export function parsePrefix(text: string): IpPrefix {
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const ip = parseIp(addrText);
  if (!ip) throw new UsageError(`not an IP address: ${JSON.stringify(text)}`);
  const max = ip.family === 'ipv4' ? 32 : 128;
  if (slash === -1) return { ...ip, prefixlen: max };
  const lenText = text.slice(slash + 1);
  const prefixlen = /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
  if (!(prefixlen >= 0 && prefixlen <= max)) {
    throw new UsageError(`bad prefix length in ${JSON.stringify(text)}: expected 0 to ${max}`);
  }
  return { ...ip, prefixlen };
}

export function formatPrefix(p: IpPrefix): string {
  return `${formatIp(p.bytes)}/${p.prefixlen}`;
}


// ---- the model ----

const SCOPES: Record<number, string> = {
  [RT_SCOPE_UNIVERSE]: 'global',
  [RT_SCOPE_SITE]: 'site',
  [RT_SCOPE_LINK]: 'link',
  [RT_SCOPE_HOST]: 'host',
  [RT_SCOPE_NOWHERE]: 'nowhere',
};

const SCOPE_NUMBERS = new Map(Object.entries(SCOPES).map(([n, name]) => [name, Number(n)]));

/** A route or address scope by name, as ip(8) writes it ("global", "link", "host"…, or the number). */
export function scopeName(scope: number): string {
  return SCOPES[scope] ?? String(scope);
}

/** A scope's number from its name or its number (0-255); undefined for anything else. */
export function scopeNumber(name: string): number | undefined {
  const n = SCOPE_NUMBERS.get(name);
  if (n !== undefined) return n;
  return /^\d{1,3}$/.test(name) && Number(name) <= 255 ? Number(name) : undefined;
}

const FLAG_NAMES: Array<[number, string]> = [
  [IFA_F_SECONDARY, 'secondary'],
  [IFA_F_NODAD, 'nodad'],
  [IFA_F_OPTIMISTIC, 'optimistic'],
  [IFA_F_DADFAILED, 'dadfailed'],
  [IFA_F_HOMEADDRESS, 'home'],
  [IFA_F_DEPRECATED, 'deprecated'],
  [IFA_F_TENTATIVE, 'tentative'],
  [IFA_F_PERMANENT, 'permanent'],
  [IFA_F_MANAGETEMPADDR, 'mngtmpaddr'],
  [IFA_F_NOPREFIXROUTE, 'noprefixroute'],
  [IFA_F_MCAUTOJOIN, 'autojoin'],
  [IFA_F_STABLE_PRIVACY, 'stable-privacy'],
];

export function addressFlagNames(flags: number): string[] {
  return FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name);
}

export interface Address {
  /** Interface index. */
  index: number;
  family: IpFamily;
  /** The interface's own address (IFA_LOCAL, else IFA_ADDRESS), as inet_ntop prints it. */
  address: string;
  prefixlen: number;
  /** Point-to-point peer (IFA_ADDRESS when it differs from IFA_LOCAL). */
  peer?: string;
  broadcast?: string;
  /** IPv4 label (the interface name, or an alias such as "lo:vip"). */
  label?: string;
  scope: number;
  /** IFA_F_* bits (from IFA_FLAGS when the kernel sends it). */
  flags: number;
  /** Seconds; absent means forever. */
  validLifetime?: number;
  preferredLifetime?: number;
}

/** "192.0.2.10/32". */
export function addressText(a: Pick<Address, 'address' | 'prefixlen'>): string {
  return `${a.address}/${a.prefixlen}`;
}

/** Decode one RTM_NEWADDR message; undefined for families other than IPv4 and IPv6. */
export function decodeAddress(msg: NetlinkMessage): Address | undefined {
  const h = decodeIfAddr(msg.data);
  const family = familyName(h.family);
  if (!family) return undefined;
  const a = addrAttrs.decode(msg.data.subarray(IFADDRMSG_LEN));
  const own = a.local ?? a.address;
  if (!own) return undefined;
  const out: Address = {
    index: h.index,
    family,
    address: formatIp(own),
    prefixlen: h.prefixlen,
    scope: h.scope,
    flags: a.flags ?? h.flags,
  };
  if (a.local && a.address && !a.local.equals(a.address)) out.peer = formatIp(a.address);
  if (a.broadcast) out.broadcast = formatIp(a.broadcast);
  if (a.label !== undefined) out.label = a.label;
  if (a.cacheinfo && a.cacheinfo.length >= 8) {
    const preferred = a.cacheinfo.readUInt32LE(0);
    const valid = a.cacheinfo.readUInt32LE(4);
    if (valid !== INFINITY_LIFE_TIME) out.validLifetime = valid;
    if (preferred !== INFINITY_LIFE_TIME) out.preferredLifetime = preferred;
  }
  return out;
}

// ---- operations ----

const rtnl = (): NetlinkSession => NetlinkSession.get(NETLINK_ROUTE);

export interface AddressFilter {
  /** Only this interface index. */
  index?: number;
  family?: IpFamily;
}

/** Every IPv4 and IPv6 address (or those of one interface, one family), in the kernel's order. */
export async function listAddresses(filter: AddressFilter = {}): Promise<Address[]> {
  const msgs = await rtnl().dump({
    type: RTM_GETADDR,
    payload: encodeIfAddr({ family: filter.family ? familyNumber(filter.family) : AF_UNSPEC }),
    context: { object: 'addresses' },
  });
  const out: Address[] = [];
  for (const m of msgs) {
    if (m.type !== RTM_NEWADDR) continue;
    const a = decodeAddress(m);
    if (!a) continue;
    if (filter.index !== undefined && a.index !== filter.index) continue;
    if (filter.family && a.family !== filter.family) continue;
    out.push(a);
  }
  return out;
}

export interface AddAddressOptions {
  /** IPv4 only: the label, the interface name or "IFNAME:something" (at most 15 characters). */
  label?: string;
  /** RT_SCOPE_* (default: host for 127.0.0.0/8 and ::1, else global, as ip(8) chooses). */
  scope?: number;
  /** IPv4 broadcast address. */
  broadcast?: string;
  /** Extra IFA_F_* flags, e.g. IFA_F_NODAD for IPv6. */
  flags?: number;
  /** The interface's index when the caller knows it (saves a lookup). */
  index?: number;
  /** Do not read the address back (one round trip instead of a dump: the VRRP speaker's VIPs). */
  noReadBack?: boolean;
}

function isLoopbackIp(p: IpAddress): boolean {
  if (p.family === 'ipv4') return p.bytes[0] === 127;
  return p.bytes.equals(Buffer.from('00000000000000000000000000000001', 'hex'));
}

function addressRequest(index: number, p: IpPrefix, extra: { label?: string; broadcast?: Buffer; flags?: number; scope?: number }): Buffer[] {
  const flags = extra.flags ?? 0;
  return [
    encodeIfAddr({ family: familyNumber(p.family), prefixlen: p.prefixlen, flags: flags & 0xff, scope: extra.scope ?? 0, index }),
    addrAttrs.encode({
      local: p.bytes,
      address: p.bytes,
      label: extra.label,
      broadcast: extra.broadcast,
      flags: flags > 0xff ? flags : undefined,
    }),
  ];
}

/**
 * Add an address to an interface (RTM_NEWADDR with NLM_F_CREATE|NLM_F_EXCL) and return it as the
 * kernel now reports it. Errors name the address and the interface: "address 192.0.2.10/32 already
 * on lo", "interface nosuch0 does not exist".
 */
export async function addAddress(ifname: string, prefix: string, options: AddAddressOptions & { noReadBack: true }): Promise<undefined>;
export async function addAddress(ifname: string, prefix: string, options?: AddAddressOptions): Promise<Address>;
export async function addAddress(ifname: string, prefix: string, options: AddAddressOptions = {}): Promise<Address | undefined> {
  const p = parsePrefix(prefix);
  const text = formatPrefix(p);
  if (options.label !== undefined) {
    if (p.family !== 'ipv4') throw new UsageError(`address ${text}: labels are for IPv4 addresses only`);
    if (!(options.label === ifname || options.label.startsWith(`${ifname}:`)) || options.label.length > 15) {
      throw new UsageError(`address ${text}: label ${JSON.stringify(options.label)} must be ${ifname} or start with "${ifname}:" (at most 15 characters)`);
    }
  }
  let broadcast: Buffer | undefined;
  if (options.broadcast !== undefined) {
    const b = parseIp(options.broadcast);
    if (!b || b.family !== 'ipv4' || p.family !== 'ipv4') throw new UsageError(`address ${text}: broadcast ${JSON.stringify(options.broadcast)} is not an IPv4 address`);
    broadcast = b.bytes;
  }
  const index = options.index ?? (await getLink(ifname)).index;
  const object = `address ${text} on ${ifname}`;
  await rtnl().request({
    type: RTM_NEWADDR,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    payload: addressRequest(index, p, {
      label: options.label,
      broadcast,
      flags: options.flags,
      scope: options.scope ?? (isLoopbackIp(p) ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE),
    }),
    context: {
      object,
      messages: {
        EEXIST: `address ${text} already on ${ifname}`,
        ...(p.family === 'ipv6' ? { EACCES: `${object}: IPv6 is disabled on ${ifname} (net.ipv6.conf.${ifname}.disable_ipv6 = 1)` } : {}),
      },
    },
  });
  if (options.noReadBack) return undefined;
  const added = (await listAddresses({ index, family: p.family }))
    .find((a) => a.prefixlen === p.prefixlen && a.address === formatIp(p.bytes));
  if (!added) throw new OperationError(`${object}: the kernel accepted it but does not list it`);
  return added;
}

/** Remove an address from an interface (RTM_DELADDR). Only the given prefix length matches. */
export async function deleteAddress(ifname: string, prefix: string, options: { index?: number } = {}): Promise<void> {
  const p = parsePrefix(prefix);
  const text = formatPrefix(p);
  const link = { index: options.index ?? (await getLink(ifname)).index };
  const missing = `address ${text} is not on ${ifname}`;
  await rtnl().request({
    type: RTM_DELADDR,
    payload: addressRequest(link.index, p, {}),
    context: { object: `address ${text} on ${ifname}`, messages: { EADDRNOTAVAIL: missing, ENOENT: missing, ESRCH: missing } },
  });
}
