/**
 * The routes section of the state file: its JSON Schema, the checks the schema cannot express
 * (prefixes, gateway families, references between routes and nexthop objects), normalization of
 * hand-written entries (defaults filled in), and the saved form of kernel state.
 *
 * A saved route leaves out what is its default (table main, type unicast, protocol static, the
 * family when the destination says it, the usual scope), so files stay small and readable.
 */
import { UsageError } from '@ha/lib';
import type { JsonSchema } from '@ha/lib/state';
import { scanDestination } from './addr.js';
import { ManagedSysctl, MANAGED_SYSCTLS, defaultScope } from './kernel.js';
import {
  Family, HA_PROTOCOL, Leg, MAIN_TABLE, MAX_WEIGHT, Nexthop, ROUTE_TYPES, Route, RouteType, canonicalIp, defaultMetric,
  familyOfAddress, parseTable, protocolNumber, scopeNumber,
} from './model.js';

export interface RouteEntry {
  dst: string;
  family?: Family;
  table?: number | string;
  metric?: number;
  type?: RouteType;
  protocol?: string;
  scope?: string;
  src?: string;
  via?: string;
  dev?: string;
  onlink?: boolean;
  nexthops?: Array<{ via?: string; dev?: string; weight?: number; onlink?: boolean }>;
  nhid?: number;
}

export interface RoutesSection {
  /** Each route as an ip-route-style line (what ha save writes) or as an object. */
  routes: Array<string | RouteEntry>;
  nexthops?: Nexthop[];
  sysctls?: Partial<Record<ManagedSysctl, number>>;
}

const u32 = { type: 'integer', minimum: 0, maximum: 4294967295 } as const;
const text = { type: 'string' } as const;

const legSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    via: { ...text, description: 'Gateway address.' },
    dev: { ...text, description: 'Interface.' },
    weight: { type: 'integer', minimum: 1, maximum: MAX_WEIGHT, description: 'Default 1.' },
    onlink: { type: 'boolean' },
  },
};

const routeSchema: JsonSchema = {
  type: ['string', 'object'],
  description: 'A route: a line in ip route syntax, "[TYPE] DST [table T] [metric N] [proto P] [scope S] [src ADDR] [via GW] [dev IF] [onlink] [nhid ID] [nexthop [via GW] [dev IF] [weight W] [onlink]]...", or an object with the same fields.',
  additionalProperties: false,
  required: ['dst'],
  properties: {
    dst: { ...text, description: '"default" or a prefix: 192.0.2.0/24, 2001:db8::/32.' },
    family: { enum: ['ipv4', 'ipv6'], description: 'Needed only for an IPv6 default route without an IPv6 gateway.' },
    table: { type: ['integer', 'string'], description: 'main (the default), a number, or a name from rt_tables.' },
    metric: { ...u32, description: 'Default 0 for IPv4, 1024 for IPv6.' },
    type: { enum: [...ROUTE_TYPES], description: 'Default unicast.' },
    protocol: { ...text, description: 'rtm_protocol by name or number; default static.' },
    scope: { ...text, description: 'global, link, host or a number; default link for a route onto an interface without a gateway, else global.' },
    src: { ...text, description: 'Preferred source address.' },
    via: text,
    dev: text,
    onlink: { type: 'boolean' },
    nexthops: { type: 'array', items: legSchema, description: 'The paths of a multipath route.' },
    nhid: { ...u32, minimum: 1, description: 'The nexthop object (or group) the route uses; it must be in nexthops.' },
  },
};

const nexthopSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: { ...u32, minimum: 1 },
    family: { enum: ['ipv4', 'ipv6'] },
    via: text,
    dev: text,
    onlink: { type: 'boolean' },
    blackhole: { type: 'boolean' },
    group: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object', additionalProperties: false, required: ['id'],
        properties: { id: { ...u32, minimum: 1 }, weight: { type: 'integer', minimum: 1, maximum: MAX_WEIGHT } },
      },
    },
    type: { enum: ['mpath', 'resilient'] },
    buckets: { type: 'integer', minimum: 1, maximum: 65535 },
    idleTimer: { type: 'number', minimum: 0 },
    unbalancedTimer: { type: 'number', minimum: 0 },
    protocol: text,
  },
};

export const routesSectionSchema: JsonSchema = {
  type: 'object',
  description: 'Routes (failover by metric, multipath), nexthop objects and the multipath sysctls (ha route).',
  additionalProperties: false,
  required: ['routes'],
  properties: {
    routes: { type: 'array', items: routeSchema },
    nexthops: { type: 'array', items: nexthopSchema },
    sysctls: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(MANAGED_SYSCTLS.map((k) => [k, { type: 'integer', minimum: 0, maximum: 3 }])),
    },
  },
};

// ---- normalization ----

export interface Normalized {
  routes: Route[];
  nexthops: Nexthop[];
  sysctls: Partial<Record<ManagedSysctl, number>>;
}

const gateways = new Map<string, { family: Family; text: string } | null>();
function gatewayInfo(text: string): { family: Family; text: string } | null {
  let g = gateways.get(text);
  if (g === undefined) {
    const f = familyOfAddress(text);
    g = f ? { family: f, text: canonicalIp(text) } : null;
    if (gateways.size > 4096) gateways.clear();
    gateways.set(text, g);
  }
  return g;
}

function gatewayOf(text: string, family: Family, what: string): string {
  const g = gatewayInfo(text);
  if (!g) throw new UsageError(`${what} ${JSON.stringify(text)} is not an IP address`);
  if (g.family !== family && !(family === 'ipv4' && g.family === 'ipv6')) throw new UsageError(`${what} ${text} is not ${family === 'ipv4' ? 'IPv4' : 'IPv6'} like the destination`);
  return g.text;
}

/** A checked route with every default filled in; throws UsageError naming the problem. */
export function normalizeRoute(e: RouteEntry): Route {
  let family = e.family;
  if (!family) {
    if (e.dst === 'default') {
      const gw = e.via ?? e.nexthops?.find((n) => n.via)?.via;
      family = gw && familyOfAddress(gw) === 'ipv6' ? 'ipv6' : 'ipv4';
    } else {
      // scanDestination checks it; the family is whether it has colons
      family = e.dst.includes(':') ? 'ipv6' : 'ipv4';
    }
  }
  const dst = scanDestination(e.dst, family);
  if ('error' in dst) throw new UsageError(dst.error);
  const r: Route = {
    family,
    // the text as written when it is already canonical: one string fewer to keep per route
    dst: dst.text === e.dst ? e.dst : dst.text,
    table: e.table === undefined ? MAIN_TABLE : parseTable(e.table),
    metric: e.metric ?? defaultMetric(family),
    type: e.type ?? 'unicast',
    protocol: e.protocol ?? HA_PROTOCOL,
    scope: 'global',
  };
  if (protocolNumber(r.protocol) === undefined) throw new UsageError(`unknown protocol ${JSON.stringify(r.protocol)}`);
  if (e.src !== undefined) r.src = gatewayOf(e.src, family, 'src');
  const paths = (e.via !== undefined || e.dev !== undefined ? 1 : 0) + (e.nexthops !== undefined ? 1 : 0) + (e.nhid !== undefined ? 1 : 0);
  if (paths > 1) throw new UsageError('give one of via/dev, nexthops or nhid');
  if (r.type !== 'unicast' && paths) throw new UsageError(`a ${r.type} route has no gateway, interface or nexthops`);
  if (r.type === 'unicast' && !paths) throw new UsageError('a unicast route needs via, dev, nexthops or nhid');
  if (e.via !== undefined) r.via = gatewayOf(e.via, family, 'via');
  if (e.dev !== undefined) r.dev = e.dev;
  if (e.onlink) {
    if (!r.via || !r.dev) throw new UsageError('onlink needs both via and dev');
    r.onlink = true;
  }
  if (e.nexthops) {
    if (e.nexthops.length === 0) throw new UsageError('nexthops is empty');
    r.nexthops = e.nexthops.map((n, i): Leg => {
      if (n.via === undefined && n.dev === undefined) throw new UsageError(`nexthops[${i}] needs via or dev`);
      const leg: Leg = { weight: n.weight ?? 1 };
      if (n.via !== undefined) leg.via = gatewayOf(n.via, family!, `nexthops[${i}].via`);
      if (n.dev !== undefined) leg.dev = n.dev;
      if (n.onlink) leg.onlink = true;
      return leg;
    });
  }
  if (e.nhid !== undefined) r.nhid = e.nhid;
  const s = e.scope ?? defaultScope(r);
  if (scopeNumber(s) === undefined) throw new UsageError(`unknown scope ${JSON.stringify(s)}`);
  r.scope = s;
  return r;
}

export function normalizeNexthop(n: Nexthop): Nexthop {
  const out: Nexthop = { id: n.id, protocol: n.protocol ?? HA_PROTOCOL };
  if (protocolNumber(out.protocol!) === undefined) throw new UsageError(`unknown protocol ${JSON.stringify(n.protocol)}`);
  if (n.group) {
    if (n.via !== undefined || n.dev !== undefined || n.blackhole) throw new UsageError('a group has members, not via, dev or blackhole');
    out.group = n.group.map((m) => ({ id: m.id, weight: m.weight ?? 1 }));
    out.type = n.type ?? 'mpath';
    if (out.type === 'resilient') {
      out.buckets = n.buckets ?? 128;
      out.idleTimer = n.idleTimer ?? 120;
      out.unbalancedTimer = n.unbalancedTimer ?? 0;
    } else if (n.buckets !== undefined || n.idleTimer !== undefined || n.unbalancedTimer !== undefined) {
      throw new UsageError('buckets and timers are for type resilient');
    }
    return out;
  }
  if (n.type !== undefined) throw new UsageError('type is for groups');
  if (n.blackhole) {
    if (n.via !== undefined || n.dev !== undefined) throw new UsageError('a blackhole nexthop has no via or dev');
    out.blackhole = true;
    out.family = n.family ?? 'ipv4';
    return out;
  }
  if (n.dev === undefined) throw new UsageError('a nexthop needs dev (and usually via)');
  out.dev = n.dev;
  if (n.via !== undefined) {
    const f = familyOfAddress(n.via);
    if (!f) throw new UsageError(`via ${JSON.stringify(n.via)} is not an IP address`);
    if (n.family && n.family !== f) throw new UsageError(`via ${n.via} is not ${n.family}`);
    out.via = canonicalIp(n.via);
    out.family = f;
  } else {
    out.family = n.family ?? 'ipv4';
  }
  if (n.onlink) out.onlink = true;
  return out;
}

function lineNumber(line: string, word: string, v: string): number {
  const n = v.length <= 10 && v.length > 0 ? Number(v) : NaN;
  if (!(Number.isInteger(n) && n >= 0 && n <= 4294967295 && /^\d+$/.test(v))) throw new UsageError(`route line ${JSON.stringify(line)}: ${word} ${JSON.stringify(v)} is not a number`);
  return n;
}

const KEYWORDS = new Set(['table', 'metric', 'proto', 'scope', 'src', 'via', 'dev', 'nhid', 'weight']);
const TYPES = new Set<string>(ROUTE_TYPES);

/**
 * A route line in ip route syntax (a subset: what ha save writes, and what people write by hand):
 * `[TYPE] DST [table T] [metric N] [proto P] [scope S] [src ADDR] [via GW] [dev IF] [onlink]
 * [nhid ID] [nexthop [via GW] [dev IF] [weight W] [onlink]]...`; "::/0" is the IPv6 default route.
 */
export function parseRouteLine(line: string): RouteEntry {
  // one space between words is what ha save writes; anything else takes the general split
  const simple = !line.includes('  ') && !line.includes('\t') && line.charCodeAt(0) !== 32 && line.charCodeAt(line.length - 1) !== 32;
  const t = simple ? line.split(' ') : line.trim().split(/\s+/);
  let i = 0;
  let type: RouteType | undefined;
  if (TYPES.has(t[0]!)) type = t[i++] as RouteType;
  const dst = t[i++];
  if (dst === undefined || dst === '' || KEYWORDS.has(dst)) throw new UsageError(`route line ${JSON.stringify(line)}: the destination is missing`);
  const e: RouteEntry = { dst };
  if (type) e.type = type;
  if (dst === '::/0') e.family = 'ipv6';
  let leg: NonNullable<RouteEntry['nexthops']>[number] | undefined;
  const int = (word: string, v: string): number => lineNumber(line, word, v);
  while (i < t.length) {
    const word = t[i++]!;
    if (word === 'nexthop') {
      leg = {};
      (e.nexthops ??= []).push(leg);
      continue;
    }
    if (word === 'onlink') {
      if (leg) leg.onlink = true;
      else e.onlink = true;
      continue;
    }
    if (!KEYWORDS.has(word)) throw new UsageError(`route line ${JSON.stringify(line)}: unknown word ${JSON.stringify(word)} (expected table, metric, proto, scope, src, via, dev, onlink, nhid or nexthop)`);
    const v = t[i++];
    if (v === undefined) throw new UsageError(`route line ${JSON.stringify(line)}: ${word} needs a value`);
    if (leg) {
      if (word === 'via') leg.via = v;
      else if (word === 'dev') leg.dev = v;
      else if (word === 'weight') {
        const w = int(word, v);
        if (w < 1 || w > MAX_WEIGHT) throw new UsageError(`route line ${JSON.stringify(line)}: weight ${v} is not 1 to ${MAX_WEIGHT}`);
        leg.weight = w;
      } else throw new UsageError(`route line ${JSON.stringify(line)}: ${word} cannot follow nexthop (only via, dev, weight, onlink)`);
      continue;
    }
    switch (word) {
      case 'table': e.table = /^\d+$/.test(v) ? int(word, v) : v; break;
      case 'metric': e.metric = int(word, v); break;
      case 'proto': e.protocol = v; break;
      case 'scope': e.scope = v; break;
      case 'src': e.src = v; break;
      case 'via': e.via = v; break;
      case 'dev': e.dev = v; break;
      case 'nhid': e.nhid = int(word, v); break;
      default: throw new UsageError(`route line ${JSON.stringify(line)}: weight belongs to a nexthop`);
    }
  }
  return e;
}

let lastVia = '';
let lastDev = '';
let lastProto = '';

/** Decimal digits of line[from, to) as a number, or -1. */
function digitsAt(line: string, from: number, to: number): number {
  if (to <= from || to - from > 10) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = line.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n <= 4294967295 ? n : -1;
}

/**
 * The lines ha save writes for plain routes, "DST [table N] metric N [proto P] [via GW] [dev IF]",
 * read without splitting or hashing every word (a restore reads 100,000 of them); anything else,
 * including every mistake, is left to parseRouteLine. Gateways, interfaces and protocols repeat
 * from line to line, so the previous line's strings are reused when they match.
 */
export function scanRouteLine(line: string): RouteEntry | undefined {
  if (!scan(line)) return undefined;
  const e: RouteEntry = { dst: scanned.dst };
  if (scanned.table !== undefined) e.table = scanned.table;
  if (scanned.metric !== undefined) e.metric = scanned.metric;
  if (scanned.protocol !== undefined) e.protocol = scanned.protocol;
  if (scanned.via !== undefined) e.via = scanned.via;
  if (scanned.dev !== undefined) e.dev = scanned.dev;
  return e;
}

/** What scan() read from the last line (one object reused: no allocation per line). */
const scanned: { dst: string; table?: number | string; metric?: number; protocol?: string; via?: string; dev?: string } = { dst: '' };

function scan(line: string): boolean {
  const n = line.length;
  const sp = line.indexOf(' ');
  if (sp <= 0) return false;
  const dst = line.slice(0, sp);
  if (TYPES.has(dst) || KEYWORDS.has(dst) || dst === '::/0' || dst === 'nexthop') return false;
  scanned.dst = dst;
  scanned.table = undefined;
  scanned.metric = undefined;
  scanned.protocol = undefined;
  scanned.via = undefined;
  scanned.dev = undefined;
  let pos = sp + 1;
  while (pos < n) {
    const kwEnd = line.indexOf(' ', pos);
    if (kwEnd === -1) return false;
    const at = kwEnd + 1;
    let end = line.indexOf(' ', at);
    if (end === -1) end = n;
    if (end === at) return false;
    const len = end - at;
    const k = kwEnd - pos;
    const c = line.charCodeAt(pos);
    if (c === 109 && k === 6 && line.startsWith('metric', pos)) {
      const v = digitsAt(line, at, end);
      if (v < 0) return false;
      scanned.metric = v;
    } else if (c === 118 && k === 3 && line.startsWith('via', pos)) {
      if (!(len === lastVia.length && line.startsWith(lastVia, at))) lastVia = line.slice(at, end);
      scanned.via = lastVia;
    } else if (c === 100 && k === 3 && line.startsWith('dev', pos)) {
      if (!(len === lastDev.length && line.startsWith(lastDev, at))) lastDev = line.slice(at, end);
      scanned.dev = lastDev;
    } else if (c === 112 && k === 5 && line.startsWith('proto', pos)) {
      if (!(len === lastProto.length && line.startsWith(lastProto, at))) lastProto = line.slice(at, end);
      scanned.protocol = lastProto;
    } else if (c === 116 && k === 5 && line.startsWith('table', pos)) {
      const v = digitsAt(line, at, end);
      scanned.table = v >= 0 ? v : line.slice(at, end);
    } else {
      return false;
    }
    pos = end + 1;
  }
  return true;
}

/**
 * A plain saved line ("DST [table N] metric N [proto P] [via GW] [dev IF]") straight into a
 * checked route, as normalizeRoute(parseRouteLine(line)) would make it; undefined for anything
 * else, including every mistake, which the general path then words.
 */
function fastRoute(line: string): Route | undefined {
  if (!scan(line)) return undefined;
  const { via, dev } = scanned;
  if (via === undefined && dev === undefined) return undefined;
  let g: { family: Family; text: string } | null | undefined;
  if (via !== undefined) {
    g = gatewayInfo(via);
    if (!g) return undefined;
  }
  let family: Family;
  let dst: string;
  if (scanned.dst === 'default') {
    family = g?.family ?? 'ipv4';
    dst = 'default';
  } else {
    const d = scanDestination(scanned.dst, undefined);
    if ('error' in d) return undefined;
    family = d.family;
    dst = d.text === scanned.dst ? scanned.dst : d.text;
  }
  if (g && g.family !== family && family !== 'ipv4') return undefined;
  const protocol = scanned.protocol ?? HA_PROTOCOL;
  if (protocol !== 'boot' && protocol !== HA_PROTOCOL && protocolNumber(protocol) === undefined) return undefined;
  const r: Route = {
    family,
    dst,
    table: scanned.table === undefined ? MAIN_TABLE : parseTable(scanned.table),
    metric: scanned.metric ?? defaultMetric(family),
    type: 'unicast',
    protocol,
    scope: g ? 'global' : 'link',
  };
  if (g) r.via = g.text;
  if (dev !== undefined) r.dev = dev;
  return r;
}

/** A route as the line ha save writes. */
export function toLine(r: Route): string {
  let out = r.type === 'unicast' ? '' : `${r.type} `;
  const v6gw = (r.via && r.via.includes(':')) || r.nexthops?.some((n) => n.via?.includes(':'));
  out += r.dst === 'default' && r.family === 'ipv6' && !v6gw ? '::/0' : r.dst;
  if (r.table !== MAIN_TABLE) out += ` table ${r.table}`;
  out += ` metric ${r.metric}`;
  if (r.protocol !== HA_PROTOCOL) out += ` proto ${r.protocol}`;
  if (r.scope !== defaultScope(r)) out += ` scope ${r.scope}`;
  if (r.src) out += ` src ${r.src}`;
  if (r.via) out += ` via ${r.via}`;
  if (r.dev) out += ` dev ${r.dev}`;
  if (r.onlink) out += ' onlink';
  if (r.nhid !== undefined) out += ` nhid ${r.nhid}`;
  for (const n of r.nexthops ?? []) {
    out += ' nexthop';
    if (n.via) out += ` via ${n.via}`;
    if (n.dev) out += ` dev ${n.dev}`;
    out += ` weight ${n.weight}`;
    if (n.onlink) out += ' onlink';
  }
  return out;
}

const cache = new WeakMap<object, Normalized>();

/** Check and normalize a section; problems as [path relative to the section, message]. */
export function examine(section: RoutesSection): { normalized?: Normalized; problems: Array<[string, string]> } {
  const problems: Array<[string, string]> = [];
  const routes: Route[] = [];
  const nexthops: Nexthop[] = [];
  const nhIds = new Map<number, number>();
  (section.nexthops ?? []).forEach((n, i) => {
    try {
      const nh = normalizeNexthop(n);
      if (nhIds.has(nh.id)) throw new UsageError(`duplicate of nexthops[${nhIds.get(nh.id)}] (id ${nh.id})`);
      nhIds.set(nh.id, i);
      nexthops.push(nh);
    } catch (error) {
      problems.push([`.nexthops[${i}]`, (error as Error).message]);
    }
  });
  const byId = new Map(nexthops.map((n) => [n.id, n]));
  nexthops.forEach((n) => {
    const i = nhIds.get(n.id)!;
    n.group?.forEach((m, k) => {
      const member = byId.get(m.id);
      if (!member) problems.push([`.nexthops[${i}].group[${k}]`, `nexthop group ${n.id} references nexthop ${m.id}, which is not in nexthops`]);
      else if (member.group) problems.push([`.nexthops[${i}].group[${k}]`, `nexthop group ${n.id} contains group ${m.id}; groups cannot be nested`]);
    });
  });
  // duplicates, found by destination first (no key string to build and keep per route)
  const seen = new Map<string, number | number[]>();
  const origin: number[] = [];
  const entries = section.routes;
  for (let i = 0; i < entries.length; i++) {
    try {
      const entry = entries[i]!;
      const r = typeof entry === 'string' ? fastRoute(entry) ?? normalizeRoute(parseRouteLine(entry)) : normalizeRoute(entry);
      if (r.nhid !== undefined && !byId.has(r.nhid)) throw new UsageError(`route uses nexthop ${r.nhid}, which is not in nexthops`);
      const same = seen.get(r.dst);
      if (same === undefined) {
        seen.set(r.dst, routes.length);
      } else {
        const list = typeof same === 'number' ? [same] : same;
        // routeId's fields, compared without building its string for each
        const k = list.find((j) => { const o = routes[j]!; return o.metric === r.metric && o.table === r.table && o.family === r.family; });
        if (k !== undefined) throw new UsageError(`duplicate of routes[${origin[k]!}] (${r.dst} metric ${r.metric})`);
        list.push(routes.length);
        if (typeof same === 'number') seen.set(r.dst, list);
      }
      routes.push(r);
      origin.push(i);
    } catch (error) {
      problems.push([`.routes[${i}]`, (error as Error).message]);
    }
  }
  if (problems.length) return { problems };
  const normalized = { routes, nexthops, sysctls: { ...(section.sysctls ?? {}) } };
  cache.set(section, normalized);
  return { normalized, problems };
}

export function checkSection(section: RoutesSection): Array<[string, string]> {
  return examine(section).problems;
}

/** The normalized section (computed once per section object). */
export function normalizeSection(section: RoutesSection): Normalized {
  const known = cache.get(section);
  if (known) return known;
  const { normalized, problems } = examine(section);
  if (!normalized) throw new UsageError(`routes section${problems[0]![0]}: ${problems[0]![1]}`);
  return normalized;
}

// ---- the saved form ----

export function toNexthopEntry(n: Nexthop): Nexthop {
  const { state: _s, protocol, ...rest } = n;
  return protocol && protocol !== HA_PROTOCOL ? { ...rest, protocol } : rest;
}
