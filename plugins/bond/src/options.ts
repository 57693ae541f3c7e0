/**
 * The bonding driver's modes and options as one table: the IFLA_BOND_* attribute and its wire size,
 * the accepted values, the modes an option means something in, what the kernel requires before it
 * can be changed (the bond down, or no ports), and the names ip(8) and NetworkManager use for it.
 *
 * Everything the commands, the codec, the state section and the NetworkManager export do with
 * options is driven by this table. Option keys are the kernel option names of the issue/ip(8)
 * family in snake case (`peer_notify_delay`, `missed_max`, `num_peer_notif`); flags are the same in
 * kebab case (`--peer-notify-delay`).
 */
import { UsageError } from '@ha/lib';
import { canonicalIp } from '@ha/lib/netlink';

export const MODES = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'] as const;
export type Mode = (typeof MODES)[number];

export const MODE_RR = 0;
export const MODE_AB = 1;
export const MODE_XOR = 2;
export const MODE_BROADCAST = 3;
export const MODE_8023AD = 4;
export const MODE_TLB = 5;
export const MODE_ALB = 6;

/** Modes with an active port that `failover` can move. */
export const FAILOVER_MODES: readonly Mode[] = ['active-backup', 'balance-tlb', 'balance-alb'];

/** The link-monitoring default ha uses when neither miimon nor arp_interval is given (as NetworkManager does). */
export const DEFAULT_MIIMON = 100;
export const INT_MAX = 2147483647;
/** BOND_MAX_ARP_TARGETS (and BOND_MAX_NS_TARGETS) in the kernel. */
export const MAX_TARGETS = 16;

/** "1", "active-backup" → "active-backup"; undefined when it is neither a name nor a number 0-6. */
export function parseMode(text: string): Mode | undefined {
  const t = text.trim();
  if (/^[0-6]$/.test(t)) return MODES[Number(t)];
  return (MODES as readonly string[]).includes(t) ? (t as Mode) : undefined;
}

export const modeNumber = (m: Mode): number => MODES.indexOf(m);

export const MODE_CHOICES: readonly string[] = [...MODES, '0', '1', '2', '3', '4', '5', '6'];

export type OptionKind = 'int' | 'enum' | 'bool' | 'ipv4list' | 'ipv6list' | 'mac';
export type OptionValue = number | string | boolean | string[];

/**
 * mii: only with MII monitoring on (miimon > 0; the kernel refuses delays without it).
 * arp: only with ARP monitoring on (arp_interval > 0).
 */
export type OptionGroup = 'mii' | 'arp';

export interface OptionSpec {
  key: string;
  /** IFLA_BOND_* */
  attr: number;
  wire: 'u8' | 'u16' | 'u32' | 'nest4' | 'nest6' | 'mac';
  kind: OptionKind;
  min?: number;
  max?: number;
  /** enum: the names, indexed by the kernel's value. */
  values?: readonly string[];
  /** Modes (numbers) in which the option is accepted. */
  modes: readonly number[];
  group?: OptionGroup;
  /** The kernel refuses a change while the bond is up (-EBUSY) or has ports (-ENOTEMPTY). */
  needs?: 'down' | 'noports';
  /** The keyword of `ip link add … type bond` and the key of `ip -d -j link show` (when they differ: ipJson). */
  ip: string;
  ipJson?: string;
  /** NetworkManager's bond.options key. */
  nm: string;
  /** Other flag names accepted (ip(8) and nmcli spellings, snake case). */
  aliases: string[];
  unit?: string;
  summary: string;
}

const ALL = [0, 1, 2, 3, 4, 5, 6] as const;
const ARP_MODES = [MODE_RR, MODE_AB, MODE_XOR, MODE_BROADCAST] as const;
const ACTIVE_MODES = [MODE_AB, MODE_TLB, MODE_ALB] as const;

export const XMIT_HASH_POLICIES = ['layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4', 'vlan+srcmac'] as const;
export const ARP_VALIDATE = ['none', 'active', 'backup', 'all', 'filter', 'filter_active', 'filter_backup'] as const;

/** The options, in the order the kernel applies them within one request. */
export const OPTIONS: readonly OptionSpec[] = [
  { key: 'miimon', attr: 3, wire: 'u32', kind: 'int', min: 0, max: INT_MAX, modes: ALL, ip: 'miimon', nm: 'miimon', aliases: [], unit: 'ms',
    summary: `MII link monitoring interval in milliseconds (0 = off). ha's default is ${DEFAULT_MIIMON} unless --arp-interval is given.` },
  { key: 'updelay', attr: 4, wire: 'u32', kind: 'int', min: 0, max: INT_MAX, modes: ALL, group: 'mii', ip: 'updelay', nm: 'updelay', aliases: [], unit: 'ms',
    summary: 'Wait this long before using a port whose link came up; a multiple of miimon.' },
  { key: 'downdelay', attr: 5, wire: 'u32', kind: 'int', min: 0, max: INT_MAX, modes: ALL, group: 'mii', ip: 'downdelay', nm: 'downdelay', aliases: [], unit: 'ms',
    summary: 'Wait this long before dropping a port whose link went down; a multiple of miimon.' },
  { key: 'peer_notify_delay', attr: 28, wire: 'u32', kind: 'int', min: 0, max: 300000, modes: ALL, group: 'mii', ip: 'peer_notify_delay', nm: 'peer_notif_delay',
    aliases: ['peer-notif-delay', 'peer_notif_delay', 'peer_notify_delay'], unit: 'ms',
    summary: 'Delay between peer notifications after a failover; a multiple of miimon.' },
  { key: 'use_carrier', attr: 6, wire: 'u8', kind: 'bool', modes: ALL, ip: 'use_carrier', nm: 'use_carrier', aliases: ['use_carrier'],
    summary: 'MII monitoring reads the carrier state (on) instead of MII/ethtool ioctls (off).' },
  { key: 'arp_interval', attr: 7, wire: 'u32', kind: 'int', min: 0, max: INT_MAX, modes: ARP_MODES, ip: 'arp_interval', nm: 'arp_interval', aliases: ['arp_interval'], unit: 'ms',
    summary: 'ARP link monitoring interval in milliseconds (0 = off); replaces MII monitoring. Needs --arp-ip-target or --ns-ip6-target.' },
  { key: 'arp_ip_target', attr: 8, wire: 'nest4', kind: 'ipv4list', modes: ARP_MODES, group: 'arp', ip: 'arp_ip_target', nm: 'arp_ip_target', aliases: ['arp_ip_target'],
    summary: `IPv4 addresses the ARP monitor probes (at most ${MAX_TARGETS}, comma separated).` },
  { key: 'ns_ip6_target', attr: 31, wire: 'nest6', kind: 'ipv6list', modes: ARP_MODES, group: 'arp', ip: 'ns_ip6_target', nm: 'ns_ip6_target', aliases: ['ns_ip6_target'],
    summary: `IPv6 addresses the ARP monitor probes with neighbour solicitations (at most ${MAX_TARGETS}, comma separated).` },
  { key: 'arp_validate', attr: 9, wire: 'u32', kind: 'enum', values: ARP_VALIDATE, modes: ARP_MODES, group: 'arp', ip: 'arp_validate', nm: 'arp_validate', aliases: ['arp_validate'],
    summary: 'Which ARP probes and replies are validated.' },
  { key: 'arp_all_targets', attr: 10, wire: 'u32', kind: 'enum', values: ['any', 'all'], modes: ARP_MODES, group: 'arp', ip: 'arp_all_targets', nm: 'arp_all_targets',
    aliases: ['arp_all_targets'], summary: 'A port is up when any target answers, or only when all do.' },
  { key: 'missed_max', attr: 30, wire: 'u8', kind: 'int', min: 1, max: 255, modes: ARP_MODES, group: 'arp', ip: 'arp_missed_max', nm: 'arp_missed_max',
    aliases: ['arp-missed-max', 'arp_missed_max', 'missed_max'], summary: 'ARP intervals a port may miss before it is considered down.' },
  { key: 'primary_reselect', attr: 12, wire: 'u8', kind: 'enum', values: ['always', 'better', 'failure'], modes: ACTIVE_MODES, ip: 'primary_reselect', nm: 'primary_reselect',
    aliases: ['primary_reselect'], summary: 'When the primary port becomes active again after it recovers.' },
  { key: 'fail_over_mac', attr: 13, wire: 'u8', kind: 'enum', values: ['none', 'active', 'follow'], modes: [MODE_AB], needs: 'noports', ip: 'fail_over_mac', nm: 'fail_over_mac',
    aliases: ['fail_over_mac'], summary: 'How MAC addresses are handled at failover (only without ports).' },
  { key: 'xmit_hash_policy', attr: 14, wire: 'u8', kind: 'enum', values: XMIT_HASH_POLICIES, modes: [MODE_XOR, MODE_8023AD, MODE_TLB, MODE_ALB], ip: 'xmit_hash_policy',
    nm: 'xmit_hash_policy', aliases: ['xmit_hash_policy'], summary: 'How flows are spread over the ports.' },
  { key: 'resend_igmp', attr: 15, wire: 'u32', kind: 'int', min: 0, max: 255, modes: [MODE_RR, MODE_AB, MODE_TLB, MODE_ALB], ip: 'resend_igmp', nm: 'resend_igmp',
    aliases: ['resend_igmp'], summary: 'IGMP membership reports sent after a failover.' },
  { key: 'num_peer_notif', attr: 16, wire: 'u8', kind: 'int', min: 0, max: 255, modes: ALL, ip: 'num_peer_notif', nm: 'num_grat_arp',
    aliases: ['num-grat-arp', 'num-unsol-na', 'num_grat_arp', 'num_unsol_na', 'num_peer_notif'], summary: 'Gratuitous ARPs / unsolicited neighbour advertisements sent after a failover.' },
  { key: 'all_slaves_active', attr: 17, wire: 'u8', kind: 'bool', modes: ALL, ip: 'all_slaves_active', nm: 'all_slaves_active', aliases: ['all_slaves_active', 'all-ports-active'],
    summary: 'Deliver frames received on inactive ports too (on) or drop duplicates (off).' },
  { key: 'min_links', attr: 18, wire: 'u32', kind: 'int', min: 0, max: INT_MAX, modes: [MODE_8023AD], ip: 'min_links', nm: 'min_links', aliases: ['min_links'],
    summary: 'Ports that must be up before the bond has carrier.' },
  { key: 'lp_interval', attr: 19, wire: 'u32', kind: 'int', min: 1, max: INT_MAX, modes: [MODE_TLB, MODE_ALB], ip: 'lp_interval', nm: 'lp_interval', aliases: ['lp_interval'], unit: 's',
    summary: 'Seconds between learning packets sent to the peer switch.' },
  { key: 'packets_per_slave', attr: 20, wire: 'u32', kind: 'int', min: 0, max: 65535, modes: [MODE_RR], ip: 'packets_per_slave', nm: 'packets_per_slave',
    aliases: ['packets_per_slave', 'packets-per-port'], summary: 'Packets sent through a port before moving to the next (0 = random).' },
  { key: 'lacp_rate', attr: 21, wire: 'u8', kind: 'enum', values: ['slow', 'fast'], modes: [MODE_8023AD], needs: 'down', ip: 'lacp_rate', ipJson: 'ad_lacp_rate', nm: 'lacp_rate',
    aliases: ['ad-lacp-rate', 'lacp_rate', 'ad_lacp_rate'], summary: 'LACPDU rate asked of the partner: slow (30 s) or fast (1 s).' },
  { key: 'lacp_active', attr: 29, wire: 'u8', kind: 'bool', modes: [MODE_8023AD], needs: 'down', ip: 'lacp_active', ipJson: 'ad_lacp_active', nm: 'lacp_active',
    aliases: ['ad-lacp-active', 'lacp_active', 'ad_lacp_active'], summary: 'Send LACPDUs actively (on) or only answer them (off).' },
  { key: 'ad_select', attr: 22, wire: 'u8', kind: 'enum', values: ['stable', 'bandwidth', 'count'], modes: [MODE_8023AD], needs: 'down', ip: 'ad_select', nm: 'ad_select',
    aliases: ['ad_select'], summary: 'How the active aggregator is chosen.' },
  { key: 'ad_actor_sys_prio', attr: 24, wire: 'u16', kind: 'int', min: 1, max: 65535, modes: [MODE_8023AD], ip: 'ad_actor_sys_prio', nm: 'ad_actor_sys_prio',
    aliases: ['ad_actor_sys_prio'], summary: 'LACP system priority.' },
  { key: 'ad_user_port_key', attr: 25, wire: 'u16', kind: 'int', min: 0, max: 1023, modes: [MODE_8023AD], needs: 'down', ip: 'ad_user_port_key', nm: 'ad_user_port_key',
    aliases: ['ad_user_port_key'], summary: 'Upper 10 bits of the LACP port key.' },
  { key: 'ad_actor_system', attr: 26, wire: 'mac', kind: 'mac', modes: [MODE_8023AD], ip: 'ad_actor_system', nm: 'ad_actor_system', aliases: ['ad_actor_system'],
    summary: 'LACP system MAC address (a unicast address; default: the bond\'s own).' },
  { key: 'tlb_dynamic_lb', attr: 27, wire: 'u8', kind: 'bool', modes: [MODE_TLB], needs: 'down', ip: 'tlb_dynamic_lb', nm: 'tlb_dynamic_lb', aliases: ['tlb_dynamic_lb'],
    summary: 'Rebalance flows by load (on) or by hash only (off).' },
];

export const OPTION_BY_KEY: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map((o) => [o.key, o]));

/** IFLA_BOND_* of the attributes that are not options. */
export const IFLA_BOND_MODE = 1;
export const IFLA_BOND_ACTIVE_SLAVE = 2;
export const IFLA_BOND_PRIMARY = 11;
export const IFLA_BOND_AD_INFO = 23;

export type BondOptions = Record<string, OptionValue>;

export const flagName = (o: OptionSpec): string => o.key.replaceAll('_', '-');

export function modeNames(modes: readonly number[]): string {
  return modes.map((m) => MODES[m]).join(', ');
}

// ---- values from text (flags, nmcli) ----

function intText(o: OptionSpec, text: string, label: string): number {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < (o.min ?? 0) || n > (o.max ?? INT_MAX)) {
    throw new UsageError(`${label} ${JSON.stringify(text)}: expected an integer ${o.min ?? 0}-${o.max ?? INT_MAX}${o.unit ? ` (${o.unit === 'ms' ? 'milliseconds' : 'seconds'})` : ''}`);
  }
  return n;
}

export function parseBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'on' || t === '1' || t === 'yes' || t === 'true') return true;
  if (t === 'off' || t === '0' || t === 'no' || t === 'false') return false;
  return undefined;
}

export function parseMac(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(t)) return undefined;
  return t;
}

/** One option's value from its text form; a one-line UsageError naming the flag otherwise. */
export function parseOptionValue(o: OptionSpec, text: string | string[], label = `--${flagName(o)}`): OptionValue {
  const one = Array.isArray(text) ? text.join(',') : text;
  switch (o.kind) {
    case 'int':
      return intText(o, one, label);
    case 'bool': {
      const b = parseBool(one);
      if (b === undefined) throw new UsageError(`${label} ${JSON.stringify(one)}: expected on or off (1 or 0)`);
      return b;
    }
    case 'enum': {
      const t = one.trim();
      if (!o.values!.includes(t)) throw new UsageError(`${label} ${JSON.stringify(one)}: expected one of ${o.values!.join(', ')}`);
      return t;
    }
    case 'mac': {
      const m = parseMac(one);
      if (!m) throw new UsageError(`${label} ${JSON.stringify(one)}: expected a MAC address such as 02:00:00:00:00:01`);
      const first = Number.parseInt(m.slice(0, 2), 16);
      if (first & 1) throw new UsageError(`${label} ${m}: a multicast MAC address cannot be the LACP system address; give a unicast one`);
      if (m === '00:00:00:00:00:00') throw new UsageError(`${label} ${m}: the all-zero MAC address cannot be the LACP system address`);
      return m;
    }
    case 'ipv4list':
    case 'ipv6list': {
      const v6 = o.kind === 'ipv6list';
      const items = (Array.isArray(text) ? text : [text]).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '');
      if (items.length === 0) throw new UsageError(`${label}: give at least one ${v6 ? 'IPv6' : 'IPv4'} address`);
      if (items.length > MAX_TARGETS) throw new UsageError(`${label}: ${items.length} targets given, the kernel takes at most ${MAX_TARGETS}`);
      const out: string[] = [];
      for (const item of items) {
        const ip = canonicalIp(item);
        if (!ip || ip.family !== (v6 ? 'ipv6' : 'ipv4')) throw new UsageError(`${label} ${JSON.stringify(item)}: not an ${v6 ? 'IPv6' : 'IPv4'} address`);
        const canon = ip.text;
        if (!v6 && (canon === '0.0.0.0' || canon === '255.255.255.255' || Number(canon.split('.')[0]) >= 224)) {
          throw new UsageError(`${label} ${item}: a target must be a unicast address`);
        }
        if (v6 && (canon === '::' || canon.startsWith('ff'))) throw new UsageError(`${label} ${item}: a target must be a unicast address`);
        if (out.includes(canon)) throw new UsageError(`${label} ${item} is given twice`);
        out.push(canon);
      }
      return out;
    }
  }
}

// ---- checks against the mode ----

/** Is the option meaningful for this mode and these (complete) options? */
export function applicable(o: OptionSpec, mode: Mode, opts: BondOptions): boolean {
  if (!o.modes.includes(modeNumber(mode))) return false;
  if (o.group === 'mii') return Number(opts.miimon ?? 0) > 0;
  if (o.group === 'arp') return Number(opts.arp_interval ?? 0) > 0;
  return true;
}

/** Only the options that mean something in this configuration, in table order. */
export function applicableOptions(mode: Mode, opts: BondOptions): BondOptions {
  const out: BondOptions = {};
  for (const o of OPTIONS) if (opts[o.key] !== undefined && applicable(o, mode, opts)) out[o.key] = opts[o.key]!;
  return out;
}

/**
 * Given options for a mode (`given`: what the person asked for, checked strictly; `base`: what
 * the bond has now, used to fill in), return the complete options the bond should have, or a
 * one-line UsageError. MII monitoring at DEFAULT_MIIMON is added when neither miimon nor
 * arp_interval is set anywhere.
 */
export function resolveOptions(mode: Mode, givenIn: BondOptions, base: BondOptions = {}, context = ''): BondOptions {
  const given: BondOptions = { ...givenIn };
  const m = modeNumber(mode);
  const at = context ? `${context}: ` : '';
  for (const [key, value] of Object.entries(given)) {
    const o = OPTION_BY_KEY.get(key);
    if (!o) throw new UsageError(`${at}unknown bond option ${key}`);
    if (!o.modes.includes(m)) {
      throw new UsageError(`${at}--${flagName(o)} is not valid in mode ${mode}; it applies to ${modeNames(o.modes)}`);
    }
    if (value === undefined) delete given[key];
  }
  const merged: BondOptions = {};
  // what the bond has now, as far as it means something in the (possibly new) mode
  for (const [k, v] of Object.entries(base)) if (OPTION_BY_KEY.get(k)?.modes.includes(m)) merged[k] = v;
  Object.assign(merged, given);
  const gm = given.miimon === undefined ? undefined : Number(given.miimon);
  const ga = given.arp_interval === undefined ? undefined : Number(given.arp_interval);
  if ((gm ?? 0) > 0 && (ga ?? 0) > 0) {
    throw new UsageError(`${at}--miimon and --arp-interval cannot both be on: the kernel runs one link monitor at a time; give one of them (or set the other to 0)`);
  }
  // one link monitor at a time: the newly given one replaces the one the bond had
  if ((ga ?? 0) > 0 && gm === undefined) merged.miimon = 0;
  if ((gm ?? 0) > 0 && ga === undefined && m <= MODE_BROADCAST) merged.arp_interval = 0;
  if (merged.miimon === undefined) merged.miimon = Number(merged.arp_interval ?? 0) > 0 ? 0 : DEFAULT_MIIMON;
  if (merged.arp_interval === undefined && m <= MODE_BROADCAST) merged.arp_interval = 0;
  const miimon = Number(merged.miimon);
  const arpInterval = Number(merged.arp_interval ?? 0);
  for (const o of OPTIONS) {
    if (given[o.key] === undefined) continue;
    if (o.group === 'mii' && miimon === 0 && Number(given[o.key]) !== 0) {
      throw new UsageError(`${at}--${flagName(o)} needs MII monitoring: give --miimon too (the delay is a multiple of it)`);
    }
    if (o.group === 'arp' && arpInterval === 0) {
      throw new UsageError(`${at}--${flagName(o)} needs ARP monitoring: give --arp-interval too`);
    }
  }
  if (miimon > 0) {
    for (const key of ['updelay', 'downdelay', 'peer_notify_delay']) {
      const v = Number(merged[key] ?? 0);
      if (v % miimon !== 0) {
        throw new UsageError(`${at}--${key.replaceAll('_', '-')} ${v} is not a multiple of miimon ${miimon}: the kernel keeps delays as whole monitoring intervals; give ${Math.floor(v / miimon) * miimon} or ${Math.ceil(v / miimon) * miimon}`);
      }
    }
  }
  if (arpInterval > 0) {
    const v4 = (merged.arp_ip_target as string[] | undefined) ?? [];
    const v6 = (merged.ns_ip6_target as string[] | undefined) ?? [];
    if (v4.length + v6.length === 0) {
      throw new UsageError(`${at}--arp-interval needs something to probe: give --arp-ip-target (IPv4) or --ns-ip6-target (IPv6)`);
    }
  }
  return applicableOptions(mode, merged);
}

/** Options the kernel only changes while the bond is down, or without ports, among `keys`. */
export function restrictions(keys: string[]): { down: string[]; noports: string[] } {
  const down: string[] = [];
  const noports: string[] = [];
  for (const k of keys) {
    const o = OPTION_BY_KEY.get(k);
    if (o?.needs === 'down') down.push(k);
    if (o?.needs === 'noports') noports.push(k);
  }
  return { down, noports };
}

/** Equal option values (lists compared in order, as the kernel keeps them). */
export function sameValue(a: OptionValue | undefined, b: OptionValue | undefined): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
  return a === b;
}

export function valueText(v: OptionValue | undefined): string {
  if (v === undefined) return '-';
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return String(v);
}

/** The keys whose values differ between two option sets (the union of both). */
export function changedKeys(from: BondOptions, to: BondOptions): string[] {
  return OPTIONS.map((o) => o.key).filter((k) => (from[k] !== undefined || to[k] !== undefined) && !sameValue(from[k], to[k]));
}

export { checkIfname } from '@ha/lib/netlink';
