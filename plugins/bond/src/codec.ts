/**
 * The bond's netlink attributes: IFLA_INFO_DATA of a link of kind "bond" (IFLA_BOND_*) and
 * IFLA_INFO_SLAVE_DATA of its ports (IFLA_BOND_SLAVE_*), from /usr/include/linux/if_link.h.
 * Driven by the option table in options.ts; attributes an older kernel does not send stay absent.
 */
import { encodeAttr, encodeNested, formatIp, formatMac, parseAttrs, parseIpCached } from '@ha/lib/netlink';
import {
  BondOptions, IFLA_BOND_ACTIVE_SLAVE, IFLA_BOND_AD_INFO, IFLA_BOND_MODE, IFLA_BOND_PRIMARY, MODES, Mode, OPTIONS, OptionSpec,
  OptionValue, modeNumber,
} from './options.js';

function scalar(wire: 'u8' | 'u16' | 'u32', v: number): Buffer {
  const b = Buffer.alloc(wire === 'u8' ? 1 : wire === 'u16' ? 2 : 4);
  if (wire === 'u8') b.writeUInt8(v);
  else if (wire === 'u16') b.writeUInt16LE(v);
  else b.writeUInt32LE(v);
  return b;
}

function encodeOption(o: OptionSpec, value: OptionValue): Buffer {
  switch (o.wire) {
    case 'nest4':
      return encodeNested(o.attr, (value as string[]).map((a, i) => encodeAttr(i, Buffer.from(a.split('.').map(Number)))));
    case 'nest6':
      return encodeNested(o.attr, (value as string[]).map((a, i) => encodeAttr(i, parseIpCached(a)!.bytes)));
    case 'mac':
      return encodeAttr(o.attr, Buffer.from((value as string).split(':').map((x) => Number.parseInt(x, 16))));
    default: {
      const n = o.kind === 'bool' ? (value ? 1 : 0) : o.kind === 'enum' ? o.values!.indexOf(value as string) : (value as number);
      return encodeAttr(o.attr, scalar(o.wire, n));
    }
  }
}

export interface BondDataRequest {
  mode?: Mode;
  options?: BondOptions;
  /** ifindex of the port to make active (0 clears). */
  active?: number;
  /** ifindex of the primary port (0 clears). */
  primary?: number;
}

/** The children of IFLA_INFO_DATA, in the order the kernel applies them (mode first). */
export function encodeBondData(req: BondDataRequest): Buffer[] {
  const out: Buffer[] = [];
  if (req.mode !== undefined) out.push(encodeAttr(IFLA_BOND_MODE, scalar('u8', modeNumber(req.mode))));
  if (req.active !== undefined) out.push(encodeAttr(IFLA_BOND_ACTIVE_SLAVE, scalar('u32', req.active)));
  for (const o of OPTIONS) {
    const v = req.options?.[o.key];
    if (v !== undefined) out.push(encodeOption(o, v));
  }
  if (req.primary !== undefined) out.push(encodeAttr(IFLA_BOND_PRIMARY, scalar('u32', req.primary)));
  return out;
}

export interface AdInfo {
  aggregator: number;
  numPorts: number;
  actorKey: number;
  partnerKey: number;
  partnerMac: string;
}

export interface BondData {
  mode: Mode;
  /** Every option the kernel reported, whether or not it means something in this mode. */
  options: BondOptions;
  activeIndex?: number;
  primaryIndex?: number;
  adInfo?: AdInfo;
}

function readScalar(wire: string, data: Buffer): number {
  if (wire === 'u8') return data.readUInt8(0);
  if (wire === 'u16') return data.readUInt16LE(0);
  return data.readUInt32LE(0);
}

function decodeOption(o: OptionSpec, data: Buffer): OptionValue | undefined {
  switch (o.wire) {
    case 'nest4':
      return parseAttrs(data).filter((a) => a.data.length >= 4).map((a) => [...a.data.subarray(0, 4)].join('.'));
    case 'nest6':
      return parseAttrs(data).filter((a) => a.data.length >= 16).map((a) => formatIp(a.data, 0, 16));
    case 'mac':
      return data.length >= 6 ? formatMac(data.subarray(0, 6)) : undefined;
    default: {
      const n = readScalar(o.wire, data);
      if (o.kind === 'bool') return n !== 0;
      if (o.kind === 'enum') return o.values![n] ?? String(n);
      return n;
    }
  }
}

const byAttr = new Map(OPTIONS.map((o) => [o.attr, o]));

export function decodeBondData(buf: Buffer): BondData {
  const out: BondData = { mode: 'balance-rr', options: {} };
  for (const a of parseAttrs(buf)) {
    if (a.type === IFLA_BOND_MODE) out.mode = MODES[a.data.readUInt8(0)] ?? 'balance-rr';
    else if (a.type === IFLA_BOND_ACTIVE_SLAVE) out.activeIndex = a.data.readUInt32LE(0) || undefined;
    else if (a.type === IFLA_BOND_PRIMARY) out.primaryIndex = a.data.readUInt32LE(0) || undefined;
    else if (a.type === IFLA_BOND_AD_INFO) {
      const info: Partial<AdInfo> = {};
      for (const c of parseAttrs(a.data)) {
        if (c.type === 1) info.aggregator = c.data.readUInt16LE(0);
        else if (c.type === 2) info.numPorts = c.data.readUInt16LE(0);
        else if (c.type === 3) info.actorKey = c.data.readUInt16LE(0);
        else if (c.type === 4) info.partnerKey = c.data.readUInt16LE(0);
        else if (c.type === 5) info.partnerMac = formatMac(c.data.subarray(0, 6));
      }
      out.adInfo = { aggregator: 0, numPorts: 0, actorKey: 0, partnerKey: 0, partnerMac: '00:00:00:00:00:00', ...info };
    } else {
      const o = byAttr.get(a.type);
      if (!o) continue;
      const v = decodeOption(o, a.data);
      if (v !== undefined) out.options[o.key] = v;
    }
  }
  // the kernel leaves out an empty target list: it is an empty list
  out.options.arp_ip_target ??= [];
  if (out.options.ns_ip6_target === undefined && out.options.arp_interval !== undefined) out.options.ns_ip6_target = [];
  // an all-zero LACP system address means "the bond's own"
  if (out.options.ad_actor_system === '00:00:00:00:00:00') delete out.options.ad_actor_system;
  return out;
}

export const MII_STATUS = ['up', 'fail', 'down', 'back'] as const;
export const PORT_STATE = ['active', 'backup'] as const;

export interface PortData {
  state: string;
  miiStatus: string;
  linkFailures: number;
  permanentMac?: string;
  queueId?: number;
  prio?: number;
  lacp?: { aggregator: number; actorState: number; partnerState: number };
}

/** IFLA_INFO_SLAVE_DATA of a bond port. */
export function decodePortData(buf: Buffer): PortData {
  const out: PortData = { state: 'backup', miiStatus: 'down', linkFailures: 0 };
  let lacp: { aggregator?: number; actorState?: number; partnerState?: number } | undefined;
  for (const a of parseAttrs(buf)) {
    switch (a.type) {
      case 1: out.state = PORT_STATE[a.data.readUInt8(0)] ?? String(a.data.readUInt8(0)); break;
      case 2: out.miiStatus = MII_STATUS[a.data.readUInt8(0)] ?? String(a.data.readUInt8(0)); break;
      case 3: out.linkFailures = a.data.readUInt32LE(0); break;
      case 4: out.permanentMac = formatMac(a.data.subarray(0, 6)); break;
      case 5: out.queueId = a.data.readUInt16LE(0); break;
      case 6: (lacp ??= {}).aggregator = a.data.readUInt16LE(0); break;
      case 7: (lacp ??= {}).actorState = a.data.readUInt8(0); break;
      case 8: (lacp ??= {}).partnerState = a.data.readUInt16LE(0); break;
      case 9: out.prio = a.data.readInt32LE(0); break;
      default: break;
    }
  }
  if (lacp) out.lacp = { aggregator: lacp.aggregator ?? 0, actorState: lacp.actorState ?? 0, partnerState: lacp.partnerState ?? 0 };
  return out;
}

/** LACP port state bits (IEEE 802.1AX), for people. */
export function lacpStateText(bits: number): string {
  const names = ['activity', 'timeout', 'aggregation', 'synchronization', 'collecting', 'distributing', 'defaulted', 'expired'];
  return names.filter((_n, i) => bits & (1 << i)).join(',') || 'none';
}
