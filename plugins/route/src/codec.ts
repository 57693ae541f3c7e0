/**
 * The rtnetlink messages of routes and nexthop objects: `struct rtmsg` with RTA_* attributes
 * (RTA_MULTIPATH holding `struct rtnexthop` entries), and `struct nhmsg` with NHA_* attributes
 * (NHA_GROUP holding `struct nexthop_grp` entries, NHA_RES_GROUP nested). Constants follow
 * <linux/rtnetlink.h> and <linux/nexthop.h>.
 */
import { attrCodec, align4, encodeAttr, parseAttrs } from '@ha/lib/netlink';

export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWNEXTHOP = 104;
export const RTM_DELNEXTHOP = 105;
export const RTM_GETNEXTHOP = 106;

export { AF_INET, AF_INET6 } from '@ha/lib/netlink';

export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_IIF = 3;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_METRICS = 8;
export const RTA_MULTIPATH = 9;
export const RTA_CACHEINFO = 12;
export const RTA_TABLE = 15;
export const RTA_MARK = 16;
export const RTA_VIA = 18;
export const RTA_PREF = 20;
export const RTA_EXPIRES = 23;
export const RTA_UID = 25;
export const RTA_IP_PROTO = 27;
export const RTA_SPORT = 28;
export const RTA_DPORT = 29;
export const RTA_NH_ID = 30;

export const RTNH_F_DEAD = 1;
export const RTNH_F_ONLINK = 4;
export const RTNH_F_LINKDOWN = 16;

export const RTM_F_LOOKUP_TABLE = 0x1000;
export const RTM_F_FIB_MATCH = 0x2000;

export const NEXTHOP_GRP_TYPE_MPATH = 0;
export const NEXTHOP_GRP_TYPE_RES = 1;

/** USER_HZ: the kernel's clock_t unit for the resilient group timers (1/100 s). */
export const USER_HZ = 100;

export const RTMSG_LEN = 12;
export interface RtMsg {
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  /** The 8-bit table field: RT_TABLE_UNSPEC (0) when the table is above 255 (RTA_TABLE has it). */
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
}

export function writeRtMsg(b: Buffer, off: number, h: RtMsg): void {
  b[off] = h.family;
  b[off + 1] = h.dstLen;
  b[off + 2] = h.srcLen;
  b[off + 3] = h.tos;
  b[off + 4] = h.table;
  b[off + 5] = h.protocol;
  b[off + 6] = h.scope;
  b[off + 7] = h.type;
  b.writeUInt32LE(h.flags >>> 0, off + 8);
}

export function encodeRtMsg(h: RtMsg): Buffer {
  const b = Buffer.alloc(RTMSG_LEN);
  writeRtMsg(b, 0, h);
  return b;
}

export function decodeRtMsg(b: Buffer): RtMsg {
  return {
    family: b[0]!, dstLen: b[1]!, srcLen: b[2]!, tos: b[3]!, table: b[4]!, protocol: b[5]!, scope: b[6]!, type: b[7]!,
    flags: b.readUInt32LE(8),
  };
}

/**
 * RTA_* attributes of a route, in the order requests carry them (the fast request writer in
 * kernel.ts, routePayload, writes the same bytes; a test holds them to it).
 */
export const routeAttrs = attrCodec({
  table: [RTA_TABLE, 'u32'],
  dst: [RTA_DST, 'binary'],
  src: [RTA_SRC, 'binary'],
  iif: [RTA_IIF, 'u32'],
  priority: [RTA_PRIORITY, 'u32'],
  prefsrc: [RTA_PREFSRC, 'binary'],
  nhId: [RTA_NH_ID, 'u32'],
  multipath: [RTA_MULTIPATH, 'binary'],
  gateway: [RTA_GATEWAY, 'binary'],
  via: [RTA_VIA, 'binary'],
  oif: [RTA_OIF, 'u32'],
  metrics: [RTA_METRICS, 'binary'],
  cacheinfo: [RTA_CACHEINFO, 'binary'],
  mark: [RTA_MARK, 'u32'],
  pref: [RTA_PREF, 'u8'],
  expires: [RTA_EXPIRES, 'u64'],
  uid: [RTA_UID, 'u32'],
  ipProto: [RTA_IP_PROTO, 'u8'],
  sport: [RTA_SPORT, 'be16'],
  dport: [RTA_DPORT, 'be16'],
});

/** One `struct rtnexthop` of RTA_MULTIPATH with its gateway. */
export interface RtNexthop {
  flags: number;
  /** rtnh_hops: the weight minus one. */
  hops: number;
  ifindex: number;
  gateway?: Buffer;
  /** RTA_VIA: an IPv6 gateway of an IPv4 route (family u16 + address). */
  via?: Buffer;
}

/** The payload of RTA_MULTIPATH. */
export function encodeMultipath(legs: RtNexthop[]): Buffer {
  const parts: Buffer[] = [];
  for (const l of legs) {
    const attrs = l.gateway ? encodeAttr(RTA_GATEWAY, l.gateway) : l.via ? encodeAttr(RTA_VIA, l.via) : Buffer.alloc(0);
    const h = Buffer.alloc(8);
    h.writeUInt16LE(8 + attrs.length, 0);
    h[2] = l.flags;
    h[3] = l.hops;
    h.writeInt32LE(l.ifindex, 4);
    parts.push(h, attrs);
  }
  return Buffer.concat(parts);
}

export function decodeMultipath(b: Buffer): RtNexthop[] {
  const out: RtNexthop[] = [];
  let off = 0;
  while (off + 8 <= b.length) {
    const len = b.readUInt16LE(off);
    if (len < 8 || off + len > b.length) break;
    const leg: RtNexthop = { flags: b[off + 2]!, hops: b[off + 3]!, ifindex: b.readInt32LE(off + 4) };
    for (const a of parseAttrs(b.subarray(off + 8, off + len))) {
      if (a.type === RTA_GATEWAY) leg.gateway = Buffer.from(a.data);
      else if (a.type === RTA_VIA) leg.via = Buffer.from(a.data);
    }
    out.push(leg);
    off += align4(len);
  }
  return out;
}

// ---- nexthop objects ----

export const NHMSG_LEN = 8;
export interface NhMsg {
  family: number;
  scope: number;
  protocol: number;
  flags: number;
}

export function encodeNhMsg(h: NhMsg): Buffer {
  const b = Buffer.alloc(NHMSG_LEN);
  b[0] = h.family;
  b[1] = h.scope;
  b[2] = h.protocol;
  b.writeUInt32LE(h.flags >>> 0, 4);
  return b;
}

export function decodeNhMsg(b: Buffer): NhMsg {
  return { family: b[0]!, scope: b[1]!, protocol: b[2]!, flags: b.readUInt32LE(4) };
}

export const resGroupAttrs = attrCodec({
  buckets: [1, 'u16'],
  idleTimer: [2, 'u32'],
  unbalancedTimer: [3, 'u32'],
  unbalancedTime: [4, 'u64'],
});

export const nexthopAttrs = attrCodec({
  id: [1, 'u32'],
  group: [2, 'binary'],
  groupType: [3, 'u16'],
  blackhole: [4, 'flag'],
  oif: [5, 'u32'],
  gateway: [6, 'binary'],
  groups: [9, 'flag'],
  fdb: [11, 'flag'],
  resGroup: [12, resGroupAttrs],
});

/** NHA_GROUP: `struct nexthop_grp { u32 id; u8 weight; u8 weight_high; u16 resvd; }`, weight stored minus one. */
export function encodeGroup(members: Array<{ id: number; weight: number }>): Buffer {
  const b = Buffer.alloc(8 * members.length);
  members.forEach((m, i) => {
    b.writeUInt32LE(m.id, i * 8);
    b[i * 8 + 4] = (m.weight - 1) & 0xff;
    b[i * 8 + 5] = (m.weight - 1) >> 8;
  });
  return b;
}

export function decodeGroup(b: Buffer): Array<{ id: number; weight: number }> {
  const out: Array<{ id: number; weight: number }> = [];
  for (let off = 0; off + 8 <= b.length; off += 8) out.push({ id: b.readUInt32LE(off), weight: b[off + 4]! + (b[off + 5]! << 8) + 1 });
  return out;
}
