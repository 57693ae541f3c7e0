/**
 * What the route commands share: their flags and turning flags into a checked route. Checking a
 * route against this machine lives in paths.ts.
 */
import * as Flags from '@oclif/core/flags';
import { UsageError, wholeNumberFlag } from '@ha/lib';
import { formatIp } from '@ha/lib/netlink';
import { defaultScope } from './kernel.js';
import {
  Family, HA_PROTOCOL, MAIN_TABLE, ROUTE_TYPES, Route, RouteType, defaultMetric, familyOfAddress, parseDestination,
  parseGateway, parseTable, checkIfname,
} from './model.js';

export const familyFlags = {
  ipv4: Flags.boolean({ char: '4' as 'a', summary: 'IPv4 (the default for "default" without an IPv6 gateway).' }),
  ipv6: Flags.boolean({ char: '6' as 'a', summary: 'IPv6 (needed for "default" only when no IPv6 gateway says so).' }),
};

/** A table by number or by name (main, local, default, /etc/iproute2/rt_tables), as its number. */
export const tableFlag = Flags.custom<number>({
  char: 't', summary: 'Routing table: main (the default), a number 1-4294967295, or a name from /etc/iproute2/rt_tables.', helpValue: 'TABLE',
  parse: async (input) => parseTable(input),
})();
export const METRIC = { min: 0, max: 4294967295 };
export const metricFlag = wholeNumberFlag({ char: 'm', summary: 'Metric (priority), 0-4294967295; lower wins. Default 0 for IPv4, 1024 for IPv6.', range: METRIC });

export const routeFlags = {
  via: Flags.string({ summary: 'Gateway address (IPv4 or IPv6).', helpValue: 'GW' }),
  dev: Flags.string({ char: 'd', summary: 'Outgoing interface.', helpValue: 'IF' }),
  metric: metricFlag,
  table: tableFlag,
  onlink: Flags.boolean({ summary: 'Take the gateway as directly reachable on --dev even if no connected network covers it.' }),
  src: Flags.string({ summary: 'Preferred source address for packets this route sends.', helpValue: 'ADDR' }),
  type: Flags.string({ summary: 'Route type.', options: [...ROUTE_TYPES], default: 'unicast' }),
  ...familyFlags,
};

/**
 * Flags that exclude each other are checked here rather than with oclif's `exclusive`, whose
 * message spans several lines and so would not survive as one.
 */
export function exclusive(flags: Record<string, unknown>, a: string, b: string): void {
  const set = (k: string): boolean => flags[k] !== undefined && flags[k] !== false;
  if (set(a) && set(b)) throw new UsageError(`--${a} and --${b} exclude each other: give one of them`);
}

export function familyFromFlags(flags: { ipv4?: boolean; ipv6?: boolean }): Family | undefined {
  exclusive(flags, 'ipv4', 'ipv6');
  return flags.ipv6 ? 'ipv6' : flags.ipv4 ? 'ipv4' : undefined;
}

/** The family of a route: the flags, else the destination, else the gateway, else IPv4. */
export function routeFamily(dst: string, gateways: Array<string | undefined>, flags: { ipv4?: boolean; ipv6?: boolean }): Family {
  const given = familyFromFlags(flags);
  if (dst !== 'default' && dst !== 'all') {
    const slash = dst.indexOf('/');
    const f = familyOfAddress(slash === -1 ? dst : dst.slice(0, slash));
    if (f) {
      if (given && given !== f) throw new UsageError(`destination ${dst} is ${f === 'ipv4' ? 'IPv4' : 'IPv6'} but --${given} was given`);
      return f;
    }
    return given ?? 'ipv4';
  }
  if (given) return given;
  for (const g of gateways) {
    const f = g ? familyOfAddress(g) : undefined;
    if (f) return f;
  }
  return 'ipv4';
}

interface RouteFlagValues {
  via?: string;
  dev?: string;
  metric?: number;
  table?: number;
  onlink?: boolean;
  src?: string;
  type?: string;
  ipv4?: boolean;
  ipv6?: boolean;
}

/** A route from a destination argument and flags, fully checked (exit 2 with a one-line reason). */
export function routeFromFlags(dstText: string, flags: RouteFlagValues): Route {
  const family = routeFamily(dstText, [flags.via], flags);
  const dst = parseDestination(dstText, family);
  const type = (flags.type ?? 'unicast') as RouteType;
  const r: Route = {
    family,
    dst: parseDestinationText(dst),
    table: flags.table ?? MAIN_TABLE,
    metric: flags.metric ?? defaultMetric(family),
    type,
    protocol: HA_PROTOCOL,
    scope: 'global',
  };
  if (flags.dev !== undefined) r.dev = checkIfname(flags.dev);
  if (flags.via !== undefined) r.via = formatIp(parseGateway(flags.via, family === 'ipv4' && familyOfAddress(flags.via) === 'ipv6' ? undefined : family).bytes);
  if (flags.onlink) {
    if (!r.via || !r.dev) throw new UsageError('--onlink needs both --via and --dev (the gateway is taken as directly reachable on that interface)');
    r.onlink = true;
  }
  if (flags.src !== undefined) {
    const f = familyOfAddress(flags.src);
    if (!f) throw new UsageError(`--src ${JSON.stringify(flags.src)} is not an IP address`);
    if (f !== family) throw new UsageError(`--src ${flags.src} is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address like the destination`);
    r.src = flags.src;
  }
  if (type === 'unicast') {
    if (!r.via && !r.dev) throw new UsageError(`route ${r.dst}: give --via GW and/or --dev IF (or --type blackhole, unreachable, prohibit or throw)`);
  } else if (r.via || r.dev) {
    throw new UsageError(`a ${type} route has no gateway or interface: drop --via and --dev`);
  }
  r.scope = defaultScope(r);
  return r;
}

const parseDestinationText = (p: { bytes: Buffer; prefixlen: number }): string =>
  (p.prefixlen === 0 ? 'default' : `${formatIp(p.bytes)}/${p.prefixlen}`);
