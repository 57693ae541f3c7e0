/**
 * A route against this machine and the kernel: its paths checked before anything is sent, an
 * existing route explained, the route read back after a change, and which route of a destination
 * the kernel uses now.
 */
import { OperationError, type FailureCode } from '@ha/lib';
import { NetlinkError, readSysctl } from '@ha/lib/netlink';
import { Links, checkGateway, findRoute, listRoutes } from './kernel.js';
import { Family, Route, pathText, routeLabel } from './model.js';

/**
 * Check a route against this machine before asking the kernel: its interfaces exist, and each
 * gateway is on a connected network (through the given interface) unless --onlink says otherwise.
 */
export async function checkPaths(r: Route, l: Links): Promise<void> {
  const legs = r.nexthops ?? (r.via || r.dev ? [{ via: r.via, dev: r.dev, onlink: r.onlink, weight: 1 }] : []);
  for (const leg of legs) {
    if (leg.dev && !l.has(leg.dev)) throw new OperationError(`${routeLabel(r)}: interface ${leg.dev} does not exist`, 'ENODEV');
  }
  for (const leg of legs) {
    if (!leg.via || leg.onlink) continue;
    // a gateway of the other family (IPv4 route via IPv6) is checked in its own family
    try {
      await checkGateway(leg.via, leg.dev, l);
    } catch (error) {
      if (error instanceof OperationError) throw new OperationError(`${routeLabel(r)}: ${error.message}`, error.code as FailureCode);
      throw error;
    }
  }
}

/** When the kernel says the route exists, say which one is there. */
export async function explainExists(error: unknown, r: Route, l: Links): Promise<never> {
  if (error instanceof NetlinkError && error.errnoName === 'EEXIST') {
    const cur = await findRoute(r, l).catch(() => undefined);
    const what = cur ? ` (${pathText(cur)}, protocol ${cur.protocol})` : '';
    throw new OperationError(`${routeLabel(r)} already exists${what}: use ha route replace to change it, or another --metric`, 'EEXIST');
  }
  throw error;
}

/** The current route with this identity, read back from the kernel after a change. */
export async function readBack(r: Route, l: Links): Promise<Route> {
  const back = await findRoute(r, l);
  if (!back) throw new OperationError(`${routeLabel(r)} was accepted by the kernel but cannot be read back`);
  return back;
}

/** Mark, per destination and table, the route the kernel uses now: the lowest metric that is alive. */
export async function markInUse(routes: Route[]): Promise<void> {
  const ignore = new Map<string, boolean>();
  const ignores = async (family: Family, dev: string | undefined): Promise<boolean> => {
    const key = `${family} ${dev ?? 'all'}`;
    if (!ignore.has(key)) {
      const read = async (d: string): Promise<boolean> => (await readSysctl(`net.${family}.conf.${d}.ignore_routes_with_linkdown`).catch(() => '0')) !== '0';
      ignore.set(key, (await read('all')) || (dev !== undefined && !dev.includes('.') && await read(dev)));
    }
    return ignore.get(key)!;
  };
  const alive = async (r: Route): Promise<boolean> => {
    const legs = r.nexthops ?? [{ dev: r.dev, state: r.state, weight: 1 }];
    for (const leg of legs) {
      const st = leg.state ?? [];
      if (st.includes('dead')) continue;
      if (st.includes('linkdown') && await ignores(r.family, leg.dev)) continue;
      return true;
    }
    return false;
  };
  const groups = new Map<string, Route[]>();
  for (const r of routes) {
    const k = `${r.family} ${r.table} ${r.dst}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  for (const g of groups.values()) {
    g.sort((a, b) => a.metric - b.metric);
    // routes of one metric (IPv6 routes on several interfaces) are used alike: only a choice by
    // metric is marked
    if (g[0]!.metric === g.at(-1)!.metric) continue;
    let chosen: number | undefined;
    for (const r of g) {
      if (chosen === undefined && await alive(r)) chosen = r.metric;
      r.inUse = chosen === r.metric;
    }
  }
}

/** Every route to the same destination in the same table, for failover warnings. */
export async function sameDestination(r: Route, l: Links): Promise<Route[]> {
  return (await listRoutes({ family: r.family, table: r.table }, l)).filter((x) => x.dst === r.dst);
}
