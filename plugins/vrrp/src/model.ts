/**
 * The `vrrp` section of the state file: instances, sync groups and tracked scripts. It is
 * configuration (the kernel holds none of it): `ha save` keeps it, `ha restore` validates it and
 * hands it to the agent, and `ha vrrp add|set|delete` edit it. Every limit is written once, here,
 * and both the schema and the commands' flags read it.
 */
import type { JsonSchema } from '@ha/lib/state';
import { formatIp, ifnameProblem, parseIp } from '@ha/lib/netlink';
import type { Family, VrrpVersion } from './types.js';

/** Ranges of every number in the section: the schema, the checks and the flags use these. */
export const LIMITS = {
  vrid: { min: 1, max: 255 },
  priority: { min: 1, max: 255 },
  weight: { min: -253, max: 253 },
  preemptDelay: { min: 0, max: 1000 },
  /** v2: whole seconds; v3: centiseconds 1..4095 (0.01 to 40.95 s). */
  v2Interval: { min: 1, max: 255 },
  v3Interval: { min: 0.01, max: 40.95 },
  garpDelay: { min: 0, max: 3600 },
  garpRepeat: { min: 1, max: 100 },
  garpRefresh: { min: 0, max: 86400 },
  scriptInterval: { min: 0.01, max: 86400 },
  scriptTimeout: { min: 0.01, max: 86400 },
  riseFall: { min: 1, max: 1000 },
  notifyTimeout: { min: 1, max: 3600 },
  /** v2 adverts carry at most this many addresses; the rest go to excludedVips. */
  v2AdvertVips: 20,
  maxVips: 255,
  passwordBytes: 8,
} as const;

export interface Tracked { weight?: number; reverse?: boolean }
export interface TrackInterface extends Tracked { interface: string }
export interface TrackFile extends Tracked { path: string }
export interface TrackScript extends Tracked { script: string }
/** A health check of the check plugin, by name (its results come over the agent's event bus). */
export interface TrackCheck extends Tracked { check: string }

export interface Notify {
  master?: string;
  backup?: string;
  fault?: string;
  stop?: string;
  /** Called for every transition with `INSTANCE <name> <STATE> <priority>` appended. */
  any?: string;
}

export interface Instance {
  interface: string;
  vrid: number;
  /** 1..255; 255 = address owner. Default 100. */
  priority?: number;
  /** 2 (default for IPv4) or 3 (IPv6 is always 3). */
  version?: VrrpVersion;
  /** Seconds; default 1. v2 whole seconds, v3 in steps of 0.01. */
  advertInterval?: number;
  /** ADDR[/LEN] (default /32 or /128); carried in adverts. */
  vips: string[];
  /** ADDR[/LEN] held with the instance but not carried in adverts. */
  excludedVips?: string[];
  nopreempt?: boolean;
  /** Seconds to wait before preempting a lower-priority master. */
  preemptDelay?: number;
  accept?: boolean;
  /** VRRPv2 simple password (at most 8 bytes). */
  authPass?: string;
  unicastSource?: string;
  unicastPeers?: string[];
  trackInterfaces?: TrackInterface[];
  trackFiles?: TrackFile[];
  trackScripts?: TrackScript[];
  /**
   * Health checks (the check plugin's, by name): a check that has reported nothing yet
   * contributes nothing, and with weight 0 (the default) holds the instance in FAULT.
   */
  trackChecks?: TrackCheck[];
  /** Gratuitous ARP / NA on becoming master: a burst, another after `garpDelay` s, a refresh every `garpRefresh` s (0 off). */
  garpRepeat?: number;
  garpDelay?: number;
  garpRefresh?: number;
  notify?: Notify;
}

export interface Group {
  instances: string[];
  notify?: Notify;
}

export interface Script {
  command: string;
  /** Seconds between runs; default 1. */
  interval?: number;
  /** Seconds before the run is killed and counted as failed; default = interval. */
  timeout?: number;
  rise?: number;
  fall?: number;
  /** Default weight for instances tracking it without one. */
  weight?: number;
}

export interface VrrpSection {
  instances?: Record<string, Instance>;
  groups?: Record<string, Group>;
  scripts?: Record<string, Script>;
  /** User the notify scripts run as (default nobody); 'root' to keep root. */
  scriptUser?: string;
  /** Seconds a notify script may run before it is killed; default 30. */
  notifyTimeout?: number;
}

export const DEFAULTS = {
  priority: 100,
  advertInterval: 1,
  garpRepeat: 5,
  garpDelay: 5,
  garpRefresh: 0,
  scriptInterval: 1,
  rise: 1,
  fall: 1,
  scriptUser: 'nobody',
  notifyTimeout: 30,
} as const;

const NAME = '^[A-Za-z0-9_.:-]{1,64}$';
const range = (r: { min: number; max: number }, type: 'integer' | 'number' = 'integer'): JsonSchema => ({ type, minimum: r.min, maximum: r.max });
const text = (max = 4096): JsonSchema => ({ type: 'string', minLength: 1, maxLength: max });
const vipText: JsonSchema = { type: 'string', minLength: 2, maxLength: 96, description: 'ADDR[/LEN] [dev IF] [label IF:NAME]' };
const tracked = (key: string, keySchema: JsonSchema): JsonSchema => ({
  type: 'object', required: [key], additionalProperties: false,
  properties: { [key]: keySchema, weight: range(LIMITS.weight), reverse: { type: 'boolean' } },
});
const notifySchema: JsonSchema = {
  type: 'object', additionalProperties: false,
  properties: { master: text(), backup: text(), fault: text(), stop: text(), any: text() },
};

export const vrrpSectionSchema: JsonSchema = {
  type: 'object',
  description: 'VRRP instances, sync groups and tracked scripts run by `ha agent`.',
  additionalProperties: false,
  properties: {
    instances: {
      type: 'object', propertyNames: { type: 'string', pattern: NAME },
      additionalProperties: {
        type: 'object', required: ['interface', 'vrid', 'vips'], additionalProperties: false,
        properties: {
          interface: { type: 'string', format: 'ifname' },
          vrid: range(LIMITS.vrid),
          priority: range(LIMITS.priority),
          version: { enum: [2, 3] },
          advertInterval: range({ min: LIMITS.v3Interval.min, max: LIMITS.v2Interval.max }, 'number'),
          vips: { type: 'array', items: vipText, minItems: 1, maxItems: LIMITS.maxVips, uniqueItems: true },
          excludedVips: { type: 'array', items: vipText, maxItems: LIMITS.maxVips, uniqueItems: true },
          nopreempt: { type: 'boolean' },
          preemptDelay: range(LIMITS.preemptDelay, 'number'),
          accept: { type: 'boolean' },
          authPass: { type: 'string', minLength: 1, maxLength: LIMITS.passwordBytes },
          unicastSource: { type: 'string', format: 'ip' },
          unicastPeers: { type: 'array', items: { type: 'string', format: 'ip' }, maxItems: 255, uniqueItems: true },
          trackInterfaces: { type: 'array', maxItems: 64, items: tracked('interface', { type: 'string', format: 'ifname' }) },
          trackFiles: { type: 'array', maxItems: 64, items: tracked('path', text()) },
          trackScripts: { type: 'array', maxItems: 64, items: tracked('script', { type: 'string', pattern: NAME }) },
          trackChecks: { type: 'array', maxItems: 64, items: tracked('check', { type: 'string', pattern: NAME }) },
          garpRepeat: range(LIMITS.garpRepeat),
          garpDelay: range(LIMITS.garpDelay, 'number'),
          garpRefresh: range(LIMITS.garpRefresh, 'number'),
          notify: notifySchema,
        },
      },
    },
    groups: {
      type: 'object', propertyNames: { type: 'string', pattern: NAME },
      additionalProperties: {
        type: 'object', required: ['instances'], additionalProperties: false,
        properties: { instances: { type: 'array', items: { type: 'string', pattern: NAME }, minItems: 1, maxItems: 255, uniqueItems: true }, notify: notifySchema },
      },
    },
    scripts: {
      type: 'object', propertyNames: { type: 'string', pattern: NAME },
      additionalProperties: {
        type: 'object', required: ['command'], additionalProperties: false,
        properties: {
          command: text(),
          interval: range(LIMITS.scriptInterval, 'number'),
          timeout: range(LIMITS.scriptTimeout, 'number'),
          rise: range(LIMITS.riseFall),
          fall: range(LIMITS.riseFall),
          weight: range(LIMITS.weight),
        },
      },
    },
    scriptUser: { type: 'string', pattern: '^[a-z_][a-z0-9_-]{0,31}$' },
    notifyTimeout: range(LIMITS.notifyTimeout, 'number'),
  },
};

export interface Vip {
  address: string;
  prefixlen: number;
  family: Family;
  /** `ADDR/LEN`: what the kernel holds. */
  prefix: string;
  /** Another interface than the instance's (keepalived's `dev`). */
  dev?: string;
  /** IPv4 label, `IFNAME:NAME` (keepalived's `label`). */
  label?: string;
  /** Canonical text: `ADDR/LEN[ dev IF][ label LABEL]`. */
  text: string;
}

/**
 * `ADDR[/LEN] [dev IF] [label LABEL]` (keepalived's virtual_ipaddress line, the parts that
 * matter) as a VIP, or a message saying what is wrong.
 */
export function parseVip(value: string): Vip | string {
  const words = value.trim().split(/\s+/);
  const first = words[0] ?? '';
  const slash = first.indexOf('/');
  const addr = slash === -1 ? first : first.slice(0, slash);
  const ip = parseIp(addr);
  if (!ip) return `"${value}" is not an IPv4 or IPv6 address (ADDR[/LEN] [dev IF] [label IF:NAME])`;
  const family: Family = ip.family === 'ipv4' ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let prefixlen = max;
  if (slash !== -1) {
    const len = first.slice(slash + 1);
    if (!/^\d{1,3}$/.test(len) || Number(len) > max) return `"${value}": the prefix length must be a whole number from 0 to ${max}`;
    prefixlen = Number(len);
  }
  const address = formatIp(ip.bytes);
  const vip: Vip = { address, prefixlen, family, prefix: `${address}/${prefixlen}`, text: '' };
  for (let k = 1; k < words.length; k += 2) {
    const key = words[k]!;
    const arg = words[k + 1];
    if (arg === undefined || (key !== 'dev' && key !== 'label')) return `"${value}": after the address only "dev IF" and "label IF:NAME" are accepted`;
    if (key === 'dev') {
      const problem = ifnameProblem(arg);
      if (problem) return `"${value}": ${problem}`;
      vip.dev = arg;
    } else {
      if (family !== 4) return `"${value}": labels are for IPv4 addresses only`;
      if (arg.length > 15 || !/^[^\s:/]+:[^\s/]*$/.test(arg)) return `"${value}": a label is IFNAME:NAME, at most 15 characters (e.g. eth0:1)`;
      vip.label = arg;
    }
  }
  vip.text = `${vip.prefix}${vip.dev ? ` dev ${vip.dev}` : ''}${vip.label ? ` label ${vip.label}` : ''}`;
  return vip;
}

/** Hundredths of a second, exactly (0.1 -> 10), or undefined when not a whole number of them. */
export function centiseconds(seconds: number): number | undefined {
  const cs = Math.round(seconds * 100);
  return Math.abs(cs - seconds * 100) < 1e-6 ? cs : undefined;
}

/** The family of an instance: of its first VIP (all must agree). */
export function instanceFamily(i: Instance): Family {
  const v = parseVip(i.vips[0] ?? '');
  return typeof v === 'string' ? 4 : v.family;
}

/** The version an instance runs: as configured, else 3 for IPv6 and 2 for IPv4 (keepalived's defaults). */
export function instanceVersion(i: Instance): VrrpVersion {
  return i.version ?? (instanceFamily(i) === 6 ? 3 : 2);
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Checks the schema cannot express; [path under $.vrrp, message]. */
export function checkSection(section: VrrpSection): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const instances = section.instances ?? {};
  const scripts = section.scripts ?? {};
  const seen = new Map<string, string>();
  for (const [name, i] of Object.entries(instances)) {
    const at = `.instances[${JSON.stringify(name)}]`;
    const problems = checkInstance(i, scripts);
    for (const [p, m] of problems) out.push([`${at}${p}`, `instance ${name}: ${m}`]);
    if (problems.length) continue;
    const key = `${i.interface}/${instanceFamily(i)}/${i.vrid}/${i.unicastSource ?? ''}`;
    const other = seen.get(key);
    if (other !== undefined) out.push([`${at}.vrid`, `instance ${name}: VRID ${i.vrid} on ${i.interface} (IPv${instanceFamily(i)}) is already used by instance ${other}; one VRID per interface and family`]);
    else seen.set(key, name);
  }
  const member = new Map<string, string>();
  for (const [name, g] of Object.entries(section.groups ?? {})) {
    g.instances.forEach((iname, k) => {
      const at = `.groups[${JSON.stringify(name)}].instances[${k}]`;
      if (!instances[iname]) out.push([at, `sync group ${name} names instance ${iname}, which does not exist (instances: ${Object.keys(instances).join(', ') || 'none'})`]);
      const prev = member.get(iname);
      if (prev !== undefined && prev !== name) out.push([at, `instance ${iname} is in sync groups ${prev} and ${name}; an instance can be in one group`]);
      member.set(iname, name);
    });
  }
  for (const [name, s] of Object.entries(scripts)) {
    if (s.timeout !== undefined && s.timeout > (s.interval ?? DEFAULTS.scriptInterval) * 10) {
      out.push([`.scripts[${JSON.stringify(name)}].timeout`, `script ${name}: timeout ${s.timeout} s is over ten intervals`]);
    }
  }
  return out;
}

function checkInstance(i: Instance, scripts: Record<string, Script>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const vips = i.vips.map(parseVip);
  const excluded = (i.excludedVips ?? []).map(parseVip);
  [...vips, ...excluded].forEach((v, k) => {
    const where = k < vips.length ? `.vips[${k}]` : `.excludedVips[${k - vips.length}]`;
    if (typeof v === 'string') out.push([where, v]);
  });
  if (out.length) return out;
  const family = (vips[0] as Vip).family;
  const advertised = vips as Vip[];
  const mixed = advertised.findIndex((v) => v.family !== family);
  if (mixed !== -1) out.push([`.vips[${mixed}]`, `VIP ${advertised[mixed]!.text} is IPv${advertised[mixed]!.family} but the instance's first VIP is IPv${family}; one family per instance (use excludedVips for the other family)`]);
  const version = instanceVersion(i);
  if (version === 2 && family === 6) out.push(['.version', 'VRRPv2 carries IPv4 only; IPv6 VIPs need version 3']);
  const interval = i.advertInterval ?? DEFAULTS.advertInterval;
  if (version === 2 && !Number.isInteger(interval)) out.push(['.advertInterval', `VRRPv2 advertises whole seconds (1 to 255); ${interval} is not (fractions need version 3)`]);
  if (version === 3 && (centiseconds(interval) === undefined || interval > LIMITS.v3Interval.max)) {
    out.push(['.advertInterval', `VRRPv3 advertises in hundredths of a second from 0.01 to 40.95; ${interval} is not`]);
  }
  if (i.authPass !== undefined && version === 3) out.push(['.authPass', 'VRRPv3 has no authentication (RFC 5798); remove authPass or use version 2']);
  if (i.authPass !== undefined && byteLength(i.authPass) > LIMITS.passwordBytes) out.push(['.authPass', `the password is ${byteLength(i.authPass)} bytes; VRRPv2 carries at most 8`]);
  if (version === 2 && advertised.length > LIMITS.v2AdvertVips) {
    out.push(['.vips', `VRRPv2 adverts carry at most ${LIMITS.v2AdvertVips} VIPs and this instance has ${advertised.length}; move the rest to excludedVips`]);
  }
  for (const [k, v] of [...advertised, ...(excluded as Vip[])].entries()) {
    const on = v.dev ?? i.interface;
    const where = k < advertised.length ? `.vips[${k}]` : `.excludedVips[${k - advertised.length}]`;
    if (v.label && !v.label.startsWith(`${on}:`)) out.push([where, `VIP ${v.text}: the label must start with "${on}:", the interface it is on`]);
  }
  const dup = [...advertised, ...(excluded as Vip[])].map((v) => v.address).find((a, k, all) => all.indexOf(a) !== k);
  if (dup) out.push(['.excludedVips', `VIP ${dup} is listed twice`]);
  for (const [k, p] of (i.unicastPeers ?? []).entries()) {
    const ip = parseIp(p);
    if (ip && (ip.family === 'ipv4' ? 4 : 6) !== family) out.push([`.unicastPeers[${k}]`, `unicast peer ${p} is not IPv${family} like the VIPs`]);
  }
  if (i.unicastSource) {
    const ip = parseIp(i.unicastSource);
    if (ip && (ip.family === 'ipv4' ? 4 : 6) !== family) out.push(['.unicastSource', `unicast source ${i.unicastSource} is not IPv${family} like the VIPs`]);
  }
  for (const [k, t] of (i.trackScripts ?? []).entries()) {
    if (!scripts[t.script]) out.push([`.trackScripts[${k}].script`, `tracks script ${t.script}, which is not defined (scripts: ${Object.keys(scripts).join(', ') || 'none'}; add one with \`ha vrrp script add\`)`]);
  }
  if (i.priority === 255 && (i.nopreempt || i.preemptDelay)) out.push(['.nopreempt', 'priority 255 (address owner) always preempts; nopreempt and preemptDelay do not apply']);
  return out;
}

/** What is valid but likely a mistake. */
export function sectionWarnings(section: VrrpSection): string[] {
  const out: string[] = [];
  for (const [name, i] of Object.entries(section.instances ?? {})) {
    if (i.unicastPeers && i.unicastPeers.length === 0) out.push(`instance ${name}: an empty unicastPeers list means multicast adverts`);
    if (i.accept && (i.priority ?? DEFAULTS.priority) === 255) out.push(`instance ${name}: accept mode is implied for the address owner`);
  }
  return out;
}

/** The instances of a section in a stable order (by name). */
export function instanceNames(section: VrrpSection): string[] {
  return Object.keys(section.instances ?? {}).sort();
}
