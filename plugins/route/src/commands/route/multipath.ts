import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { HaCommand, UsageError, wholeNumberFlag } from '@ha/lib';

const TIMER = { min: 0, max: 24 * 3600 };
import { formatIp } from '@ha/lib/netlink';
import { familyFlags, metricFlag, routeFamily, tableFlag } from '../../flags.js';
import { checkPaths, readBack } from '../../paths.js';
import { findRoute, links, listNexthops } from '../../kernel.js';
import { planGroupRoute, planInlineRoute } from '../../ops.js';
import {
  HA_PROTOCOL, Leg, MAIN_TABLE, Nexthop, Route, defaultMetric, formatDestination, parseDestination, parseLegSpec,
} from '../../model.js';
import { renderNexthops, renderRoutes } from '../../render.js';
import { multipathWarnings } from '../../status.js';

interface MultipathResult {
  route: Route;
  /** With --group/--resilient: the group's nexthop objects, members and group. */
  nexthops: Nexthop[];
  /** Nexthop objects of the route's previous group that nothing uses any more, deleted. */
  removed: number[];
  warnings: string[];
}

export default class RouteMultipath extends HaCommand<MultipathResult> {
  static override summary = 'Spread traffic to a destination over several gateways with weights (ECMP/WCMP).';
  static override description = `Installs (or changes in place) one route to DESTINATION with a path per --nexthop GW[@IF][:WEIGHT]. The kernel hashes each flow onto a path in proportion to the weights (1-256, default 1); which packet fields are hashed is the hash policy (ha route hash-policy: l3 addresses only, l4 addresses and ports). IPv6 gateways go in brackets when an interface or weight follows: --nexthop [2001:db8::1]@eth0:2. IPv6 multipath routes are sent with NLM_F_APPEND so the kernel joins the paths into one route, and are listed as one route.

--group builds the route from nexthop objects instead: one per gateway and a group of them (ip nexthop), which the route points to. --resilient makes the group resilient: flows are kept in buckets (--buckets, default 128) that stay with their gateway when another gateway leaves or comes back; a bucket moves only once it was idle for --idle-timer seconds (default 120), or after --unbalanced-timer seconds of imbalance (0: never forced). With a plain hash, a gateway leaving or returning can move flows between the surviving gateways too, which breaks connections that are NATed per gateway.

The interface of a gateway is found from the connected networks when @IF is not given. Every gateway is checked to be reachable before anything changes.`;

  static override examples = [
    { description: 'Default route over two gateways, 1:2.', command: '<%= config.bin %> route multipath default --nexthop 198.51.100.1@eth0:1 --nexthop 203.0.113.1@eth1:2' },
    { description: 'IPv6, equal weights.', command: '<%= config.bin %> route multipath 2001:db8:100::/48 --nexthop [2001:db8:1::1]@eth0 --nexthop [2001:db8:2::1]@eth1' },
    { description: 'A resilient group that keeps flows on their gateway.', command: '<%= config.bin %> route multipath default --nexthop 198.51.100.1 --nexthop 203.0.113.1 --resilient --buckets 64 --idle-timer 60' },
  ];

  static override args = {
    destination: Args.string({ ignoreStdin: true, required: true, description: 'PREFIX, an address, or "default".' }),
  };

  static override flags = {
    nexthop: Flags.string({ char: 'n', multiple: true, multipleNonGreedy: true, summary: 'A path: GW[@IF][:WEIGHT], or @IF[:WEIGHT]; repeat for each.', helpValue: 'GW[@IF][:WEIGHT]' }),
    metric: metricFlag,
    table: tableFlag,
    group: Flags.boolean({ summary: 'Use nexthop objects and a hash-threshold group.' }),
    resilient: Flags.boolean({ summary: 'Use a resilient nexthop group (implies --group).' }),
    buckets: wholeNumberFlag({ summary: 'Resilient group: number of buckets, 2-65535 (default 128).', range: { min: 2, max: 65535 } }),
    'idle-timer': wholeNumberFlag({ summary: 'Resilient group: seconds a bucket must be idle before it may move, 0-86400 (default 120).', helpValue: 'SECONDS', range: TIMER }),
    'unbalanced-timer': wholeNumberFlag({ summary: 'Resilient group: seconds of imbalance after which buckets move even if busy, 0-86400 (0 = never, the default).', helpValue: 'SECONDS', range: TIMER }),
    ...familyFlags,
  };

  protected async exec(): Promise<MultipathResult> {
    const { args, flags } = await this.parse(RouteMultipath);
    const given = flags.nexthop ?? [];
    if (!given.length) throw new UsageError('give the paths with --nexthop GW[@IF][:WEIGHT], at least two');
    const specs = given.map((t) => parseLegSpec(t, { weights: true, what: '--nexthop' }));
    if (specs.length < 2) throw new UsageError('give at least two --nexthop paths (a single path is an ordinary route: ha route add)');
    const family = routeFamily(args.destination, specs.map((s) => (s.via ? formatIp(s.via.bytes) : undefined)), flags);
    const dst = formatDestination(parseDestination(args.destination, family));
    const group = flags.group || flags.resilient;
    const legs: Leg[] = specs.map((s, i) => {
      if (s.via && s.via.family !== family && !(family === 'ipv4' && !group)) {
        throw new UsageError(`--nexthop ${given[i]}: the gateway is not ${family === 'ipv4' ? 'IPv4' : 'IPv6'} like the destination`);
      }
      if (group && !s.via) throw new UsageError(`--nexthop ${given[i]}: nexthop objects in a group need a gateway address`);
      const leg: Leg = { weight: s.weight };
      if (s.via) leg.via = formatIp(s.via.bytes);
      if (s.dev) leg.dev = s.dev;
      return leg;
    });
    const keys = legs.map((g) => `${g.via ?? ''}@${g.dev ?? ''}`);
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    if (dup) throw new UsageError(`--nexthop ${dup.replace(/@$/, '')} is given twice`);
    const r: Route = {
      family, dst,
      table: flags.table ?? MAIN_TABLE,
      metric: flags.metric ?? defaultMetric(family),
      type: 'unicast', protocol: HA_PROTOCOL, scope: 'global', nexthops: legs,
    };
    for (const k of ['buckets', 'idle-timer', 'unbalanced-timer'] as const) {
      if (flags[k] !== undefined && !flags.resilient) throw new UsageError(`--${k} is for resilient groups: add --resilient`);
    }
    const res = {
      buckets: flags.buckets ?? 128,
      idleTimer: flags['idle-timer'] ?? 120,
      unbalancedTimer: flags['unbalanced-timer'] ?? 0,
    };
    if (flags.resilient && res.buckets < legs.length) throw new UsageError(`--buckets ${res.buckets} is fewer than the ${legs.length} gateways`);

    await this.lockKernel('routes');
    const l = await links();
    await checkPaths(r, l);
    const previous = await findRoute(r, l);
    const warnings = await multipathWarnings(family);
    const target = { target: 'the routing table' };

    if (!group) {
      const inline = await planInlineRoute(r, previous, l);
      await this.change(inline.steps, target);
      return { route: await readBack(r, l), nexthops: [], removed: inline.removed, warnings };
    }
    const plan = await planGroupRoute(r, legs, previous, {
      type: flags.resilient ? 'resilient' : 'mpath',
      resilient: flags.resilient ? { ...res, bucketsGiven: flags.buckets !== undefined } : undefined,
    }, l);
    await this.change(plan.steps, target);
    const after = await listNexthops(l);
    return {
      route: await readBack(plan.route, l),
      nexthops: after.filter((n) => n.id === plan.group.id || plan.members.some((m) => m.id === n.id)),
      removed: plan.removed,
      warnings,
    };
  }

  protected override render(r: MultipathResult): string {
    const lines = [renderRoutes([r.route])];
    if (r.nexthops.length) lines.push('', renderNexthops(r.nexthops));
    for (const w of r.warnings) lines.push(`warning: ${w}`);
    return lines.join('\n');
  }
}
