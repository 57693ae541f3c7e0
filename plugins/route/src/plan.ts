/**
 * Converging the kernel's routes and nexthop objects to a desired section: the smallest set of
 * changes, route by route (nothing is flushed), each with its undo, as netlink requests that the
 * core sends pipelined. Unchanged routes are not touched.
 *
 * Order: sysctls; nexthop objects added or changed (members before groups); routes added or
 * changed; routes deleted; nexthop objects deleted (groups before members). Nothing is deleted
 * while something still uses it, and new routes find their nexthops in place.
 */
import type { Step } from '@ha/lib/state';
import { NETLINK_ROUTE, NetlinkSession, Request, readSysctl, writeSysctl } from '@ha/lib/netlink';
import { Links, ManagedSysctl, listNexthops, listRoutes, nexthopLabel, nexthopRequest, routeRequest } from './kernel.js';
import { Nexthop, Route, isManaged, pathText, routeId, routeLabel, routeSignature } from './model.js';
import { Normalized } from './section.js';

function netlinkStep(op: Step['op'], object: string, detail: string | undefined, request: Request, undo: () => Request): Step {
  const session = NetlinkSession.get(NETLINK_ROUTE);
  const step: Step = {
    op,
    object,
    apply: async () => { await session.request(request); },
    undo: async () => { await session.request(undo()); },
    netlink: { session, request, undo },
  };
  if (detail !== undefined) step.detail = detail;
  return step;
}

const nhSignature = (n: Nexthop): string => JSON.stringify([n.family ?? '', n.via ?? '', n.dev ?? '', n.onlink ?? false, n.blackhole ?? false,
  n.group?.map((m) => `${m.id}:${m.weight}`) ?? [], n.type ?? '', n.buckets ?? '', n.idleTimer ?? '', n.unbalancedTimer ?? '', n.protocol ?? '']);

const nhText = (n: Nexthop): string => (n.group
  ? `${n.type === 'resilient' ? `resilient, ${n.buckets} buckets, ` : ''}members ${n.group.map((m) => `${m.id}:${m.weight}`).join(' ')}`
  : n.blackhole ? 'blackhole' : [n.via ? `via ${n.via}` : '', n.dev ? `dev ${n.dev}` : ''].filter(Boolean).join(' '));

/** Make an interface problem name the route it belongs to (while planning, nothing has changed yet). */
function build(label: string, fn: () => Request): Request {
  try {
    return fn();
  } catch (error) {
    (error as Error).message = `${label}: ${(error as Error).message}`;
    throw error;
  }
}

export async function planRoutes(want: Normalized, l: Links): Promise<Step[]> {
  const steps: Step[] = [];

  // sysctls
  for (const [name, value] of Object.entries(want.sysctls) as Array<[ManagedSysctl, number]>) {
    const cur = Number(await readSysctl(name));
    if (cur === value) continue;
    steps.push({ op: 'change', object: `sysctl ${name}`, detail: `${cur} -> ${value}`, apply: () => writeSysctl(name, value), undo: () => writeSysctl(name, cur) });
  }

  const curNh = (await listNexthops(l)).filter((n) => n.protocol === undefined || ['boot', 'static', 'unspec'].includes(n.protocol));
  const nowNh = new Map(curNh.map((n) => [n.id, n]));
  const wantNh = new Map(want.nexthops.map((n) => [n.id, n]));
  const strip = (n: Nexthop): Nexthop => { const { state: _s, ...rest } = n; return rest; };
  for (const groups of [false, true]) {
    for (const n of want.nexthops) {
      if (Boolean(n.group) !== groups) continue;
      const c = nowNh.get(n.id);
      if (!c) {
        steps.push(netlinkStep('add', nexthopLabel(n), nhText(n), build(nexthopLabel(n), () => nexthopRequest('add', n, l)), () => nexthopRequest('delete', n, l)));
      } else if (nhSignature(strip(c)) !== nhSignature(n)) {
        steps.push(netlinkStep('change', nexthopLabel(n), `${nhText(c)} -> ${nhText(n)}`, build(nexthopLabel(n), () => nexthopRequest('replace', n, l)), () => nexthopRequest('replace', strip(c), l)));
      }
    }
  }

  const current = (await listRoutes({ table: 'all' }, l)).filter(isManaged);
  const now = new Map<string, Route>();
  for (const r of current) now.set(routeId(r), r);
  const wanted = new Set<string>();
  for (const r of want.routes) {
    const id = routeId(r);
    wanted.add(id);
    const c = now.get(id);
    const label = routeLabel(r);
    if (!c) {
      steps.push(netlinkStep('add', label, pathText(r), build(label, () => routeRequest('add', r, l)), () => routeRequest('delete', r, l)));
    } else if (routeSignature(c) !== routeSignature(r)) {
      steps.push(netlinkStep('change', label, `${pathText(c)} -> ${pathText(r)}`, build(label, () => routeRequest('replace', r, l)), () => routeRequest('replace', c, l)));
    }
  }
  for (const [id, c] of now) {
    if (wanted.has(id)) continue;
    steps.push(netlinkStep('delete', routeLabel(c), pathText(c), routeRequest('delete', c, l), () => routeRequest('add', c, l)));
  }

  for (const groups of [true, false]) {
    for (const c of curNh) {
      if (Boolean(c.group) !== groups || wantNh.has(c.id)) continue;
      steps.push(netlinkStep('delete', nexthopLabel(c), nhText(c), nexthopRequest('delete', c, l), () => nexthopRequest('add', strip(c), l)));
    }
  }
  return steps;
}
