/**
 * The kernel codec of the IPVS generic netlink family (linux/ip_vs.h): the attribute tables, and
 * the conversion between their decoded form and the model.
 */
import {
  AF_INET6, NLA_HDRLEN, NLA_TYPE_MASK, NetlinkCodecError, align4, attrCodec, familyNumber, ipv4Text, parseIpCached, withoutFields,
  type Decoded, type TableSpec,
} from '@ha/lib/netlink';
import { fromInetAddr, toInetAddr } from './addr.js';
import {
  Family, Forward, Protocol, SchedFlag, Server, Service, ServiceKey, Stats, SyncDaemon, TunnelChecksum, TunnelType,
  defaultNetmask, isFwmark, schedFlagBit, schedFlagNames,
} from './model.js';

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

export const CMD = {
  NEW_SERVICE: 1, SET_SERVICE: 2, DEL_SERVICE: 3, GET_SERVICE: 4,
  NEW_DEST: 5, SET_DEST: 6, DEL_DEST: 7, GET_DEST: 8,
  NEW_DAEMON: 9, DEL_DAEMON: 10, GET_DAEMON: 11,
  SET_CONFIG: 12, GET_CONFIG: 13, SET_INFO: 14, GET_INFO: 15, ZERO: 16, FLUSH: 17,
} as const;

const PROTO_NUM: Record<Protocol, number> = { tcp: 6, udp: 17, sctp: 132 };
const PROTO_NAME: Record<number, Protocol> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

export const SVC_F_PERSISTENT = 0x1;
export const SVC_F_HASHED = 0x2;
export const SVC_F_ONEPACKET = 0x4;
const SVC_F_SCHED_SHIFT = 3; // SCHED1 = 0x8

const FWD_NUM: Record<Forward, number> = { masq: 0, local: 1, tunnel: 2, droute: 3 };
const FWD_NAME: Record<number, Forward> = { 0: 'masq', 1: 'local', 2: 'tunnel', 3: 'droute' };
const TUN_NUM: Record<TunnelType, number> = { ipip: 0, gue: 1, gre: 2 };
const TUN_NAME: Record<number, TunnelType> = { 0: 'ipip', 1: 'gue', 2: 'gre' };
const CSUM_NUM: Record<TunnelChecksum, number> = { nocsum: 0, csum: 1, remcsum: 2 };

export const statsAttrs = attrCodec({
  conns: [1, 'u32'], inpkts: [2, 'u32'], outpkts: [3, 'u32'], inbytes: [4, 'u64'], outbytes: [5, 'u64'],
  cps: [6, 'u32'], inpps: [7, 'u32'], outpps: [8, 'u32'], inbps: [9, 'u32'], outbps: [10, 'u32'],
});
export const stats64Attrs = attrCodec({
  conns: [1, 'u64'], inpkts: [2, 'u64'], outpkts: [3, 'u64'], inbytes: [4, 'u64'], outbytes: [5, 'u64'],
  cps: [6, 'u64'], inpps: [7, 'u64'], outpps: [8, 'u64'], inbps: [9, 'u64'], outbps: [10, 'u64'],
});

const serviceSpec = {
  af: [1, 'u16'],
  protocol: [2, 'u16'],
  addr: [3, 'binary'],
  port: [4, 'be16'],
  fwmark: [5, 'u32'],
  schedName: [6, 'string'],
  flags: [7, 'binary'],
  timeout: [8, 'u32'],
  netmask: [9, 'binary'],
  stats: [10, statsAttrs],
  peName: [11, 'string'],
  stats64: [12, stats64Attrs],
} as const satisfies TableSpec;

export const serviceAttrs = attrCodec(serviceSpec);
/** The same without the counters, for listings that do not show them (no 20 bigints per service). */
export const serviceAttrsNoStats = attrCodec(withoutFields(serviceSpec, 'stats', 'stats64'));

const destSpec = {
  addr: [1, 'binary'],
  port: [2, 'be16'],
  fwdMethod: [3, 'u32'],
  weight: [4, 'u32'],
  uThresh: [5, 'u32'],
  lThresh: [6, 'u32'],
  activeConns: [7, 'u32'],
  inactConns: [8, 'u32'],
  persistConns: [9, 'u32'],
  stats: [10, statsAttrs],
  addrFamily: [11, 'u16'],
  stats64: [12, stats64Attrs],
  tunType: [13, 'u8'],
  tunPort: [14, 'be16'],
  tunFlags: [15, 'u16'],
} as const satisfies TableSpec;

export const destAttrs = attrCodec(destSpec);
/** The same without the counters. */
export const destAttrsNoStats = attrCodec(withoutFields(destSpec, 'stats', 'stats64'));

export const daemonAttrs = attrCodec({
  state: [1, 'u32'],
  mcastIfn: [2, 'string'],
  syncId: [3, 'u32'],
  syncMaxlen: [4, 'u16'],
  mcastGroup: [5, 'binary'],
  mcastGroup6: [6, 'binary'],
  mcastPort: [7, 'u16'],
  mcastTtl: [8, 'u8'],
});

export const cmdAttrs = attrCodec({
  service: [1, serviceAttrs],
  dest: [2, destAttrs],
  daemon: [3, daemonAttrs],
  timeoutTcp: [4, 'u32'],
  timeoutTcpFin: [5, 'u32'],
  timeoutUdp: [6, 'u32'],
});

/** A service dump's reply without the counters. */
export const cmdServiceNoStats = attrCodec({ service: [1, serviceAttrsNoStats] });
/** A destination dump's reply without the counters. */
export const cmdDestNoStats = attrCodec({ dest: [2, destAttrsNoStats] });

export const infoAttrs = attrCodec({ version: [1, 'u32'], connTabSize: [2, 'u32'] });

type SvcAttrs = Decoded<typeof serviceAttrs.spec>;
export type DestAttrs = Decoded<typeof destAttrs.spec>;

const afOf = familyNumber;
const familyOf = (af: number | undefined): Family => (af === AF_INET6 ? 'ipv6' : 'ipv4');

/** The attributes that identify a service (for GET/DEL/dest commands). */
export function serviceKeyAttrs(k: ServiceKey): SvcAttrs {
  if (isFwmark(k)) return { af: afOf(k.family), fwmark: k.fwmark };
  return { af: afOf(k.family), protocol: PROTO_NUM[k.protocol], addr: toInetAddr(k.address), port: k.port };
}

function flagsBuffer(flags: number, mask: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(flags >>> 0, 0);
  b.writeUInt32LE(mask >>> 0, 4);
  return b;
}

export function serviceFlags(s: Service): number {
  let flags = 0;
  if (s.persistence) flags |= SVC_F_PERSISTENT;
  if (s.onePacket) flags |= SVC_F_ONEPACKET;
  for (const f of s.schedFlags) flags |= 1 << (SVC_F_SCHED_SHIFT + schedFlagBit(f) - 1);
  return flags;
}

/** Every attribute of a service, as NEW_SERVICE and SET_SERVICE need them ("full entry"). */
export function serviceFullAttrs(s: Service): SvcAttrs {
  const netmask = Buffer.alloc(4);
  const nm = s.persistence?.netmask ?? defaultNetmask(s.family);
  if (s.family === 'ipv6') netmask.writeUInt32LE(Number(nm));
  else parseIpCached(String(nm))!.bytes.copy(netmask);
  return {
    ...serviceKeyAttrs(s),
    schedName: s.scheduler,
    // mask: persistent, one-packet and the three scheduler flags are ours to set
    flags: flagsBuffer(serviceFlags(s), 0xffffffff),
    timeout: s.persistence?.timeout ?? 0,
    netmask,
    peName: s.pe,
  };
}

export function decodeStats(a: { stats?: Decoded<typeof statsAttrs.spec>; stats64?: Decoded<typeof stats64Attrs.spec> }): Stats | undefined {
  const src = a.stats64 ?? a.stats;
  if (!src) return undefined;
  const n = (v: number | bigint | undefined): bigint => BigInt(v ?? 0);
  return {
    conns: n(src.conns), inpkts: n(src.inpkts), outpkts: n(src.outpkts), inbytes: n(src.inbytes), outbytes: n(src.outbytes),
    cps: n(src.cps), inpps: n(src.inpps), outpps: n(src.outpps), inbps: n(src.inbps), outbps: n(src.outbps),
  };
}

export function decodeService(a: SvcAttrs): Service {
  const family = familyOf(a.af);
  const flags = a.flags && a.flags.length >= 4 ? a.flags.readUInt32LE(0) : 0;
  const key: ServiceKey = a.fwmark
    ? { family, fwmark: a.fwmark }
    : {
      family,
      protocol: PROTO_NAME[a.protocol ?? 0] ?? 'tcp',
      address: fromInetAddr(a.addr ?? Buffer.alloc(16), family),
      port: a.port ?? 0,
    };
  const scheduler = a.schedName ?? '';
  let netmask: string | number = defaultNetmask(family);
  if (flags & SVC_F_PERSISTENT && a.netmask && a.netmask.length >= 4) {
    netmask = family === 'ipv6' ? a.netmask.readUInt32LE(0) : ipv4Text(a.netmask.readUInt32BE(0));
  }
  const svc: Service = {
    ...key,
    scheduler,
    schedFlags: schedFlagNames((flags >> SVC_F_SCHED_SHIFT) & 0x7, scheduler) as SchedFlag[],
    onePacket: (flags & SVC_F_ONEPACKET) !== 0,
    servers: [],
  } as Service;
  if (flags & SVC_F_PERSISTENT) svc.persistence = { timeout: a.timeout ?? 0, netmask };
  if (a.peName) svc.pe = a.peName;
  const stats = decodeStats(a);
  if (stats) svc.stats = stats;
  return svc;
}

/**
 * The service in a service dump reply (the genl payload after its header), read in place: the
 * generic decoder copies every binary attribute and makes an object per attribute, which for a
 * dump of 10,000 services was most of a listing's time. Counters are skipped. Same result as
 * decodeService(cmdServiceNoStats.decode(attrs).service) (a unit test compares them).
 */
export function decodeServiceReply(attrs: Buffer): Service | undefined {
  for (let off = 0; off + NLA_HDRLEN <= attrs.length;) {
    const len = attrLength(attrs, off);
    if ((attrs.readUInt16LE(off + 2) & NLA_TYPE_MASK) === 1) return serviceInPlace(attrs, off + NLA_HDRLEN, off + len);
    off += align4(len);
  }
  return undefined;
}

function need(n: number, have: number, what: string): void {
  if (have < n) throw new NetlinkCodecError(`attribute ${what}: ${have} bytes, expected ${n}`);
}

/** A string attribute's text, up to its NUL. */
function nulText(b: Buffer, p: number, end: number): string {
  const nul = b.indexOf(0, p);
  return b.toString('utf8', p, nul === -1 || nul > end ? end : nul);
}

function serviceInPlace(b: Buffer, from: number, to: number): Service {
  let af = 0;
  let protocol = 0;
  let addr = -1;
  let addrLen = 0;
  let port = 0;
  let fwmark = 0;
  let scheduler = '';
  let flags = 0;
  let timeout = 0;
  let netmask = -1;
  let netmaskLen = 0;
  let pe: string | undefined;
  for (let off = from; off + NLA_HDRLEN <= to;) {
    const len = b.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > to) {
      throw new NetlinkCodecError(`malformed netlink attribute at offset ${off - from}: length ${len}, ${to - off} bytes left`);
    }
    const p = off + NLA_HDRLEN;
    const n = len - NLA_HDRLEN;
    switch (b.readUInt16LE(off + 2) & NLA_TYPE_MASK) {
      case 1: need(2, n, 'af'); af = b.readUInt16LE(p); break;
      case 2: need(2, n, 'protocol'); protocol = b.readUInt16LE(p); break;
      case 3: addr = p; addrLen = n; break;
      case 4: need(2, n, 'port'); port = b.readUInt16BE(p); break;
      case 5: need(4, n, 'fwmark'); fwmark = b.readUInt32LE(p); break;
      case 6: scheduler = nulText(b, p, p + n); break;
      case 7: if (n >= 4) flags = b.readUInt32LE(p); break;
      case 8: need(4, n, 'timeout'); timeout = b.readUInt32LE(p); break;
      case 9: netmask = p; netmaskLen = n; break;
      case 11: pe = nulText(b, p, p + n); break;
      default: break;
    }
    off += align4(len);
  }
  const family = familyOf(af);
  let svc: Service;
  const schedFlags = (flags >> SVC_F_SCHED_SHIFT) & 0x7 ? schedFlagNames((flags >> SVC_F_SCHED_SHIFT) & 0x7, scheduler) : [];
  const onePacket = (flags & SVC_F_ONEPACKET) !== 0;
  if (fwmark) {
    svc = { family, fwmark, scheduler, schedFlags, onePacket, servers: [] };
  } else {
    let address: string;
    if (family === 'ipv4' && addrLen >= 4) address = ipv4Text(b.readUInt32BE(addr));
    else address = fromInetAddr(addr === -1 ? Buffer.alloc(16) : Buffer.from(b.subarray(addr, addr + addrLen)), family);
    svc = { family, protocol: PROTO_NAME[protocol] ?? 'tcp', address, port, scheduler, schedFlags, onePacket, servers: [] };
  }
  if (flags & SVC_F_PERSISTENT) {
    let mask: string | number = defaultNetmask(family);
    if (netmaskLen >= 4) mask = family === 'ipv6' ? b.readUInt32LE(netmask) : ipv4Text(b.readUInt32BE(netmask));
    svc.persistence = { timeout, netmask: mask };
  }
  if (pe) svc.pe = pe;
  return svc;
}

function attrLength(b: Buffer, off: number): number {
  const len = b.readUInt16LE(off);
  if (len < NLA_HDRLEN || off + len > b.length) {
    throw new NetlinkCodecError(`malformed netlink attribute at offset ${off}: length ${len}, ${b.length - off} bytes left`);
  }
  return len;
}

export function serverAttrs(r: Server): DestAttrs {
  const attrs: DestAttrs = {
    addr: toInetAddr(r.address),
    port: r.port,
    fwdMethod: FWD_NUM[r.forward],
    weight: r.weight,
    uThresh: r.upperThreshold,
    lThresh: r.lowerThreshold,
    addrFamily: afOf(r.family),
  };
  if (r.forward === 'tunnel') {
    const t = r.tunnel ?? { type: 'ipip', checksum: 'nocsum' };
    attrs.tunType = TUN_NUM[t.type];
    if (t.port) attrs.tunPort = t.port;
    attrs.tunFlags = CSUM_NUM[t.checksum];
  }
  return attrs;
}

/** The attributes that identify a real server (for DEL_DEST). */
export function serverKeyAttrs(r: Pick<Server, 'family' | 'address' | 'port'>): DestAttrs {
  return { addr: toInetAddr(r.address), port: r.port, addrFamily: afOf(r.family) };
}

export function decodeServer(a: DestAttrs, serviceFamily: Family): Server {
  const family = a.addrFamily === undefined ? serviceFamily : familyOf(a.addrFamily);
  const forward = FWD_NAME[(a.fwdMethod ?? 0) & 0x7] ?? 'masq';
  const r: Server = {
    family,
    address: fromInetAddr(a.addr ?? Buffer.alloc(16), family),
    port: a.port ?? 0,
    forward,
    weight: a.weight === undefined ? 0 : a.weight | 0,
    upperThreshold: a.uThresh ?? 0,
    lowerThreshold: a.lThresh ?? 0,
  };
  if (forward === 'tunnel' && a.tunType !== undefined) {
    const flags = a.tunFlags ?? 0;
    const type = TUN_NAME[a.tunType] ?? 'ipip';
    r.tunnel = { type, checksum: flags & 2 ? 'remcsum' : flags & 1 ? 'csum' : 'nocsum' };
    if (a.tunPort) r.tunnel.port = a.tunPort;
  }
  if (a.activeConns !== undefined) r.activeConns = a.activeConns;
  if (a.inactConns !== undefined) r.inactiveConns = a.inactConns;
  if (a.persistConns !== undefined) r.persistentConns = a.persistConns;
  const stats = decodeStats(a);
  if (stats) r.stats = stats;
  return r;
}

export function daemonToAttrs(d: SyncDaemon): Decoded<typeof daemonAttrs.spec> {
  const a: Decoded<typeof daemonAttrs.spec> = {
    state: d.state === 'master' ? 1 : 2,
    mcastIfn: d.interface,
    syncId: d.syncid,
  };
  if (d.maxlen !== undefined) a.syncMaxlen = d.maxlen;
  if (d.group !== undefined) {
    const p = parseIpCached(d.group)!;
    if (p.family === 'ipv4') a.mcastGroup = p.bytes;
    else a.mcastGroup6 = p.bytes;
  }
  if (d.port !== undefined) a.mcastPort = d.port;
  if (d.ttl !== undefined) a.mcastTtl = d.ttl;
  return a;
}

export function decodeDaemon(a: Decoded<typeof daemonAttrs.spec>): SyncDaemon {
  const d: SyncDaemon = {
    state: a.state === 1 ? 'master' : 'backup',
    interface: a.mcastIfn ?? '',
    syncid: a.syncId ?? 0,
  };
  if (a.syncMaxlen !== undefined) d.maxlen = a.syncMaxlen;
  const g4 = a.mcastGroup && a.mcastGroup.readUInt32BE(0) !== 0 ? fromInetAddr(Buffer.concat([a.mcastGroup, Buffer.alloc(12)]), 'ipv4') : undefined;
  const g6 = a.mcastGroup6 && a.mcastGroup6.some((x: number) => x !== 0) ? fromInetAddr(a.mcastGroup6, 'ipv6') : undefined;
  if (g4 ?? g6) d.group = g4 ?? g6;
  if (a.mcastPort !== undefined) d.port = a.mcastPort;
  if (a.mcastTtl !== undefined) d.ttl = a.mcastTtl;
  return d;
}
