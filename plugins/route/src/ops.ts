/**
 * The route plugin's operations: what the commands (and later the agent and the setup wizard)
 * change, built as steps for the step engine (@ha/lib steps.ts), each with its undo, so that a
 * failure or a signal never leaves a failover set or a multipath group half-made.
 *
 * Everything is decided before the first change: which routes and nexthop objects are made,
 * replaced or removed, including the nexthop objects a change leaves unused.
 */
import type { Step } from '@ha/lib';
import { readSysctl, writeSysctl } from '@ha/lib/netlink';
import { explainExists } from './paths.js';
import { Links, checkGateway, findRoute, listNexthops, listRoutes, nexthopLabel, sendNexthop, sendRoute } from './kernel.js';
import { HA_PROTOCOL, Leg, Nexthop, Route, routeLabel } from './model.js';

// ---- steps ----

/** Add a route (undo: delete it). */
export function addRouteStep(r: Route, l: Links): Step {
  return { op: 'add', object: routeLabel(r), apply: () => sendRoute('add', r, l).catch((e) => explainExists(e, r, l)), undo: () => sendRoute('delete', r, l) };
}

/** Replace (or create) a route; undo puts `previous` back, or deletes it when there was none. */
export function replaceRouteStep(r: Route, previous: Route | undefined, l: Links): Step {
  return {
    op: previous ? 'change' : 'add', object: routeLabel(r),
    apply: () => sendRoute('replace', r, l),
    undo: () => (previous ? sendRoute('replace', previous, l) : sendRoute('delete', r, l)),
  };
}

export function deleteRouteStep(r: Route, l: Links): Step {
  return { op: 'delete', object: routeLabel(r), apply: () => sendRoute('delete', r, l), undo: () => sendRoute('add', r, l) };
}

export function addNexthopStep(nh: Nexthop, l: Links): Step {
  return { op: 'add', object: nexthopLabel(nh), apply: () => sendNexthop('add', nh, l), undo: () => sendNexthop('delete', nh, l) };
}

export function replaceNexthopStep(nh: Nexthop, previous: Nexthop, l: Links): Step {
  return {
    op: 'change', object: nexthopLabel(nh),
    apply: () => sendNexthop('replace', nh, l),
    undo: () => sendNexthop('replace', { ...previous, state: undefined }, l),
  };
}

export function deleteNexthopStep(nh: Nexthop, l: Links): Step {
  return { op: 'delete', object: nexthopLabel(nh), apply: () => sendNexthop('delete', nh, l), undo: () => sendNexthop('add', { ...nh, state: undefined }, l) };
}

/** Set a sysctl (undo: the value it had). */
export async function sysctlStep(name: string, value: number | string): Promise<Step | undefined> {
  const was = await readSysctl(name);
  if (was === String(value)) return undefined;
  return { op: 'change', object: `sysctl ${name}`, detail: `${was} -> ${value}`, apply: () => writeSysctl(name, value), undo: () => writeSysctl(name, was) };
}

// ---- failover ----

/**
 * Steps that install failover routes (replacing any route with the same metric; undone, each
 * comes back), with ignore_routes_with_linkdown set first when asked; warnings when it is not set.
 */
export async function planFailover(routes: Route[], family: 'ipv4' | 'ipv6', ignoreLinkdown: boolean, l: Links): Promise<{ steps: Step[]; warnings: string[] }> {
  const steps: Step[] = [];
  const warnings: string[] = [];
  const linkdownKey = `net.${family}.conf.all.ignore_routes_with_linkdown`;
  if (ignoreLinkdown) {
    const st = await sysctlStep(linkdownKey, 1);
    if (st) steps.push(st);
  } else if ((await readSysctl(linkdownKey).catch(() => '0')) === '0') {
    warnings.push(`${linkdownKey} is 0: if the primary's link loses carrier while its interface stays up, traffic keeps going to it; use --ignore-linkdown so that the backup takes over`);
  }
  for (const r of routes) steps.push(replaceRouteStep(r, await findRoute(r, l), l));
  return { steps, warnings };
}

// ---- nexthop objects a change leaves unused ----

/**
 * The nexthop objects to delete once the routes in `leaving` no longer use the groups they point
 * to (they are deleted, or now point elsewhere): each such group ha made (protocol static) that
 * no other route uses, then its members that nothing else uses. `keep` are ids still wanted
 * (members of a new group). In deletion order: groups first.
 */
export async function unusedNexthops(leaving: Route[], l: Links, keep: ReadonlySet<number> = new Set()): Promise<Nexthop[]> {
  const ids = new Set(leaving.flatMap((r) => (r.nhid === undefined ? [] : [r.nhid])));
  if (ids.size === 0) return [];
  const routes = await listRoutes({ table: 'all' }, l);
  const nhs = await listNexthops(l);
  const isLeaving = (x: Route): boolean => leaving.some((r) => r.family === x.family && r.table === x.table && r.dst === x.dst && r.metric === x.metric);
  const usedByRoutes = new Set(routes.filter((x) => !isLeaving(x)).flatMap((x) => (x.nhid === undefined ? [] : [x.nhid])));
  const groups: Nexthop[] = [];
  for (const id of ids) {
    const g = nhs.find((n) => n.id === id);
    if (g && !usedByRoutes.has(id) && !keep.has(id) && g.protocol === HA_PROTOCOL) groups.push(g);
  }
  const goingGroups = new Set(groups.map((g) => g.id));
  const inOtherGroups = new Set(nhs.filter((n) => n.group && !goingGroups.has(n.id)).flatMap((n) => n.group!.map((m) => m.id)));
  const members: Nexthop[] = [];
  for (const g of groups) {
    for (const m of g.group ?? []) {
      const nh = nhs.find((n) => n.id === m.id);
      if (!nh || usedByRoutes.has(m.id) || inOtherGroups.has(m.id) || keep.has(m.id) || nh.protocol !== HA_PROTOCOL) continue;
      if (!members.includes(nh)) members.push(nh);
    }
  }
  return [...groups, ...members];
}

// ---- multipath over nexthop objects ----

export interface GroupPlan {
  /** The route, pointing at the group. */
  route: Route;
  group: Nexthop;
  members: Nexthop[];
  steps: Step[];
  /** Ids of the nexthop objects the plan deletes (left unused). */
  removed: number[];
}

export interface GroupOptions {
  type: 'mpath' | 'resilient';
  /** Resilient groups: buckets and timers (buckets kept from an existing group unless given). */
  resilient?: { buckets: number; idleTimer: number; unbalancedTimer: number; bucketsGiven: boolean };
}

/**
 * Steps that make `r` (with `legs`) a route over a nexthop group: one nexthop object per gateway
 * (its interface found when not given), then the group. When the route already uses a group ha
 * made, of the same type, that group is changed in place and its members are reused: a resilient
 * group then keeps the buckets (and flows) of the gateways that stay. Members that leave the
 * group and that nothing else uses are deleted last.
 */
export async function planGroupRoute(r: Route, legs: Leg[], previous: Route | undefined, options: GroupOptions, l: Links): Promise<GroupPlan> {
  const existing = await listNexthops(l);
  let next = Math.max(0, ...existing.map((n) => n.id)) + 1;
  const oldGroup = previous?.nhid === undefined ? undefined
    : existing.find((n) => n.id === previous.nhid && n.group && n.type === options.type && n.protocol === HA_PROTOCOL);
  const oldMembers = oldGroup ? existing.filter((n) => oldGroup.group!.some((m) => m.id === n.id)) : [];
  const members: Nexthop[] = [];
  const toMake: Nexthop[] = [];
  for (const leg of legs) {
    const dev = leg.dev ?? await checkGateway(leg.via!, undefined, l);
    const reuse = oldMembers.find((n) => n.via === leg.via && n.dev === dev && !members.includes(n));
    if (reuse) {
      members.push(reuse);
    } else {
      const nh: Nexthop = { id: next++, family: r.family === 'ipv4' && leg.via!.includes(':') ? 'ipv6' : r.family, via: leg.via!, dev, protocol: HA_PROTOCOL };
      members.push(nh);
      toMake.push(nh);
    }
  }
  const group: Nexthop = { id: oldGroup?.id ?? next++, group: members.map((m, i) => ({ id: m.id, weight: legs[i]!.weight })), type: options.type, protocol: HA_PROTOCOL };
  if (options.resilient) {
    const { buckets, idleTimer, unbalancedTimer, bucketsGiven } = options.resilient;
    Object.assign(group, { buckets, idleTimer, unbalancedTimer });
    // the kernel cannot change the number of buckets of a group in place
    if (oldGroup && !bucketsGiven && oldGroup.buckets !== undefined) group.buckets = oldGroup.buckets;
  }
  const route: Route = { ...r, nhid: group.id };
  delete route.nexthops;

  const steps: Step[] = toMake.map((nh) => addNexthopStep(nh, l));
  steps.push(oldGroup ? replaceNexthopStep(group, oldGroup, l) : addNexthopStep(group, l));
  steps.push(replaceRouteStep(route, previous, l));
  const keep = new Set([group.id, ...members.map((m) => m.id)]);
  let unused: Nexthop[];
  if (oldGroup) {
    // members that left the changed group, if nothing else uses them
    const routes = await listRoutes({ table: 'all' }, l);
    const used = new Set<number>([
      ...routes.flatMap((x) => (x.nhid === undefined ? [] : [x.nhid])),
      ...existing.filter((n) => n.id !== oldGroup.id).flatMap((n) => n.group?.map((m) => m.id) ?? []),
    ]);
    unused = oldMembers.filter((m) => !keep.has(m.id) && !used.has(m.id) && m.protocol === HA_PROTOCOL);
  } else {
    unused = previous ? await unusedNexthops([previous], l, keep) : [];
  }
  steps.push(...unused.map((nh) => deleteNexthopStep(nh, l)));
  return { route, group, members, steps, removed: unused.map((n) => n.id) };
}

/** Steps for a multipath route with its paths inline (no nexthop objects), and the objects it leaves unused. */
export async function planInlineRoute(r: Route, previous: Route | undefined, l: Links): Promise<{ steps: Step[]; removed: number[] }> {
  const unused = previous ? await unusedNexthops([previous], l) : [];
  return { steps: [replaceRouteStep(r, previous, l), ...unused.map((nh) => deleteNexthopStep(nh, l))], removed: unused.map((n) => n.id) };
}
