/**
 * The sysctls that decide how multipath and failover behave, what their values mean, and plain
 * warnings when they undermine failover or break connections.
 */
import { readSysctl } from '@ha/lib/netlink';
import { HASH_POLICY_NAMES, MANAGED_SYSCTLS, ManagedSysctl, listRoutes } from './kernel.js';
import { Family, Route } from './model.js';

export interface SysctlReport {
  name: ManagedSysctl;
  /** null when this kernel (or a disabled IPv6) has no such key. */
  value: number | null;
  meaning: string;
}

export interface StatusReport {
  sysctls: SysctlReport[];
  /** Multipath routes (paths or nexthop groups), and destinations with several routes by metric. */
  multipathRoutes: number;
  failoverDestinations: number;
  warnings: string[];
}

function meaning(name: ManagedSysctl, v: number | null): string {
  if (v === null) return 'not available';
  if (name.endsWith('hash_policy')) {
    return `${HASH_POLICY_NAMES[v] ?? String(v)}: ${['flows hashed by source and destination address', 'flows hashed by addresses, protocol and ports', 'flows hashed by inner addresses of tunnelled packets', 'flows hashed by the fields in fib_multipath_hash_fields'][v] ?? 'unknown'}`;
  }
  if (name.endsWith('use_neigh')) return v ? 'paths whose gateway does not answer ARP/ND are skipped' : 'paths are used whether or not their gateway answers ARP/ND';
  return v ? 'routes through an interface without carrier are skipped' : 'routes through an interface without carrier stay in use';
}

export async function readSysctls(): Promise<SysctlReport[]> {
  const out: SysctlReport[] = [];
  for (const name of MANAGED_SYSCTLS) {
    let value: number | null = null;
    try { value = Number(await readSysctl(name)); } catch { /* absent */ }
    out.push({ name, value, meaning: meaning(name, value) });
  }
  return out;
}

const value = (s: SysctlReport[], name: ManagedSysctl): number | null => s.find((x) => x.name === name)?.value ?? null;

/** Warnings for multipath routes of a family, given the sysctls now. */
export async function multipathWarnings(family: Family, sysctls?: SysctlReport[], routes?: Route[]): Promise<string[]> {
  const s = sysctls ?? await readSysctls();
  const w: string[] = [];
  if (family === 'ipv4' && value(s, 'net.ipv4.fib_multipath_use_neigh') === 0) {
    w.push('net.ipv4.fib_multipath_use_neigh is 0: a failed gateway keeps receiving its share of the flows as long as its link is up; set it to 1 so that paths whose gateway stops answering ARP are skipped');
  }
  if (value(s, `net.${family}.conf.all.ignore_routes_with_linkdown` as ManagedSysctl) === 0) {
    w.push(`net.${family}.conf.all.ignore_routes_with_linkdown is 0: a path whose interface lost carrier (but is still up) keeps receiving traffic; set it to 1`);
  }
  const policy = value(s, `net.${family}.fib_multipath_hash_policy` as ManagedSysctl);
  const defaults = (routes ?? []).filter((r) => r.family === family && r.dst === 'default' && (r.nexthops?.length || r.nhid !== undefined));
  if (policy === 1 && defaults.length) {
    w.push(`${family} hash policy is l4 with a multipath default route: connections of one host leave through different providers, so with source NAT per provider servers see one client from several addresses (sessions tied to the client address, FTP, some VPNs break); hash policy l3 keeps each host on one provider`);
  }
  if (defaults.some((r) => r.nexthops?.length)) {
    w.push(`${family} multipath default route without a resilient group: when a provider leaves or returns, flows are rehashed and connections NATed through the other provider break; ha route multipath --resilient keeps them`);
  }
  return w;
}

export async function statusReport(): Promise<StatusReport> {
  const sysctls = await readSysctls();
  const routes = await listRoutes({ table: 'all' });
  const byDst = new Map<string, number>();
  for (const r of routes) {
    if (r.protocol === 'kernel') continue;
    const k = `${r.family} ${r.table} ${r.dst}`;
    byDst.set(k, (byDst.get(k) ?? 0) + 1);
  }
  const multipath = routes.filter((r) => r.nexthops?.length || r.nhid !== undefined);
  const failover = [...byDst.values()].filter((n) => n > 1).length;
  const warnings: string[] = [];
  for (const f of ['ipv4', 'ipv6'] as const) {
    const mine = multipath.filter((r) => r.family === f);
    const fo = routes.some((r) => r.family === f && r.protocol !== 'kernel' && (byDst.get(`${r.family} ${r.table} ${r.dst}`) ?? 0) > 1);
    if (mine.length) {
      warnings.push(...await multipathWarnings(f, sysctls, routes));
    } else if (fo && value(sysctls, `net.${f}.conf.all.ignore_routes_with_linkdown` as ManagedSysctl) === 0) {
      warnings.push(`net.${f}.conf.all.ignore_routes_with_linkdown is 0: failover by metric happens when the primary's interface goes down, but not when it only loses carrier; set it to 1 (ha route failover --ignore-linkdown)`);
    }
  }
  return { sysctls, multipathRoutes: multipath.length, failoverDestinations: failover, warnings };
}
