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
import { BulkOptions, ErrorContext, NETLINK_ROUTE, NetlinkSession, Request, readSysctl, writeSysctl } from '@ha/lib/netlink';
import {
  Links, ManagedSysctl, RouteOp, checkRoutePayload, listNexthops, listRoutes, nexthopLabel, nexthopRequest, routeMessageType, routeMessages, routePayload, routeRequest,
  routeRequestFlags,
} from './kernel.js';
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

/**
 * One route change. A class rather than closures, and its texts made only when read: a restore
 * holds 100,000 of these at once, and the garbage collector's work grows with their size. The step
 * is also its request's error context.
 */
let rtnlSession: NetlinkSession;

/**
 * How route steps are pipelined: route requests are small (under 100 bytes) and only the last of
 * a datagram is acknowledged, so 128 of them per datagram and 1,024 in flight stay far below the
 * socket buffers; for 100,000 routes it saves about a tenth of the sending time.
 */
const BULK: BulkOptions = { window: 1024, perDatagram: 128 };

/**
 * One route change. It is its own request (type, flags, payload) and the request's error context,
 * and its texts and payload are made only when read: a restore holds 100,000 of these at once,
 * and the garbage collector's work grows with what is kept per route (a payload made as it is
 * sent is garbage a moment later, which costs the collector next to nothing).
 */
class RouteStep implements Step, Request {
  readonly netlink: RouteStepNetlink;
  readonly type: number;
  readonly flags: number;
  readonly context: ErrorContext = this;
  private readonly kind: RouteOp;
  constructor(readonly op: Step['op'], readonly r: Route, private readonly previous: Route | undefined, private readonly l: Links) {
    const kind = op === 'add' ? 'add' : op === 'change' ? 'replace' : 'delete';
    this.kind = kind;
    // what can be wrong with a request (an interface that is not there) is found while planning
    try {
      checkRoutePayload(kind, r, l);
    } catch (error) {
      (error as Error).message = `${routeLabel(r)}: ${(error as Error).message}`;
      throw error;
    }
    this.type = routeMessageType(kind);
    this.flags = routeRequestFlags(kind, r);
    this.netlink = new RouteStepNetlink(this);
  }
  get payload(): Buffer {
    return routePayload(this.kind, this.r, this.l);
  }
  get object(): string {
    return routeLabel(this.r);
  }
  get detail(): string {
    return this.op === 'change' ? `${pathText(this.previous!)} -> ${pathText(this.r)}` : pathText(this.r);
  }
  get messages(): Partial<Record<string, string>> {
    return routeMessages(this.r);
  }
  undoRequest(): Request {
    if (this.op === 'add') return routeRequest('delete', this.r, this.l);
    if (this.op === 'change') return routeRequest('replace', this.previous!, this.l);
    return routeRequest('add', this.r, this.l);
  }
  async apply(): Promise<void> {
    await rtnlSession.request(this);
  }
  async undo(): Promise<void> {
    await rtnlSession.request(this.undoRequest());
  }
}

/** Step.netlink of a route step: the undo request is built only when it is read. */
class RouteStepNetlink {
  constructor(private readonly step: RouteStep) {}
  readonly bulk = BULK;

  get session(): NetlinkSession {
    return rtnlSession;
  }
  get request(): Request {
    return this.step;
  }
  get undo(): Request {
    return this.step.undoRequest();
  }
}

/** Make an interface problem name the route it belongs to (while planning, nothing has changed yet). */
function build(label: string | (() => string), fn: () => Request): Request {
  try {
    return fn();
  } catch (error) {
    (error as Error).message = `${typeof label === 'string' ? label : label()}: ${(error as Error).message}`;
    throw error;
  }
}

export async function planRoutes(want: Normalized, l: Links): Promise<Step[]> {
  const steps: Step[] = [];
  rtnlSession = NetlinkSession.get(NETLINK_ROUTE);

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
  for (let i = 0; i < want.routes.length; i++) {
    const r = want.routes[i]!;
    // into an empty table (a new machine) there is nothing to compare or delete
    let c: Route | undefined;
    if (now.size) {
      const id = routeId(r);
      c = now.get(id);
      wanted.add(id);
    }
    if (!c) steps.push(new RouteStep('add', r, undefined, l));
    else if (routeSignature(c) !== routeSignature(r)) steps.push(new RouteStep('change', r, c, l));
  }
  for (const [id, c] of now) {
    if (wanted.has(id)) continue;
    steps.push(new RouteStep('delete', c, undefined, l));
  }

  for (const groups of [true, false]) {
    for (const c of curNh) {
      if (Boolean(c.group) !== groups || wantNh.has(c.id)) continue;
      steps.push(netlinkStep('delete', nexthopLabel(c), nhText(c), nexthopRequest('delete', c, l), () => nexthopRequest('add', strip(c), l)));
    }
  }
  return steps;
}
