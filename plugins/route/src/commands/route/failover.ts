import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { HaCommand, UsageError, wholeNumberFlag } from '@ha/lib';
import { formatIp } from '@ha/lib/netlink';
import { METRIC, familyFlags, routeFamily, tableFlag } from '../../flags.js';
import { checkPaths, markInUse, sameDestination } from '../../paths.js';
import { links } from '../../kernel.js';
import { planFailover } from '../../ops.js';
import {
  HA_PROTOCOL, MAIN_TABLE, Route, formatDestination, parseDestination, parseLegSpec, pathText,
  routeLabel,
} from '../../model.js';
import { renderRoutes } from '../../render.js';

interface FailoverResult {
  /** Every route to the destination in the table afterwards, with the one in use marked. */
  routes: Route[];
  /** The routes this command installed, primary first. */
  installed: Array<{ role: 'primary' | 'backup'; metric: number; path: string }>;
  warnings: string[];
}

export default class RouteFailover extends HaCommand<FailoverResult> {
  static override summary = 'Install a primary route and backups with ascending metrics, in one call.';
  static override description = `Installs one route to DESTINATION (default: the default route) per gateway: the primary with --metric (100 unless given), each --backup with the metric --step higher than the one before. The kernel uses the lowest metric whose path is alive, so when the primary's interface goes down the first backup takes over, and traffic returns when it comes back. ha route list marks the route in use.

A path also stops being used when its interface loses carrier, but only if ignore_routes_with_linkdown is set; --ignore-linkdown sets it (for the route's family), and a warning says when it is not. A gateway that fails while its link stays up is not detected by metrics alone: pair this with health checks, or use multipath with fib_multipath_use_neigh.

Running it again with other gateways changes the routes in place (same metrics); every gateway is checked to be reachable before anything changes, and if a change fails the routes are put back as they were.`;

  static override examples = [
    { description: 'Primary and backup default gateways.', command: '<%= config.bin %> route failover default --primary 198.51.100.1@eth0 --backup 203.0.113.1@eth1' },
    { description: 'Two backups, metrics 10, 20, 30, skipping links without carrier.', command: '<%= config.bin %> route failover default --primary 198.51.100.1 --backup 203.0.113.1 --backup 192.0.2.1 --metric 10 --step 10 --ignore-linkdown' },
    { description: 'IPv6.', command: '<%= config.bin %> route failover default -6 --primary [2001:db8:1::1]@eth0 --backup [2001:db8:2::1]@eth1' },
  ];

  static override args = {
    destination: Args.string({ ignoreStdin: true, default: 'default', description: 'PREFIX or "default" (the default).' }),
  };

  static override flags = {
    primary: Flags.string({ summary: 'The preferred gateway: GW or GW@IF (IPv6 in brackets when @IF follows).', helpValue: 'GW[@IF]' }),
    backup: Flags.string({ multiple: true, multipleNonGreedy: true, summary: 'A backup gateway, in order of preference; repeat for more.', helpValue: 'GW[@IF]' }),
    metric: wholeNumberFlag({ char: 'm', summary: 'Metric of the primary route (default 100).', range: METRIC }),
    step: wholeNumberFlag({ summary: 'How much higher each backup\'s metric is than the previous route\'s, 1-1000000 (default 100).', range: { min: 1, max: 1_000_000 } }),
    table: tableFlag,
    'ignore-linkdown': Flags.boolean({ summary: 'Also set ignore_routes_with_linkdown = 1 (all interfaces, this family) so a link without carrier fails over.' }),
    ...familyFlags,
  };

  protected async exec(): Promise<FailoverResult> {
    const { args, flags } = await this.parse(RouteFailover);
    // checked here rather than with oclif's `required`, whose message spans several lines
    if (flags.primary === undefined) throw new UsageError('give the preferred gateway with --primary GW[@IF]');
    if (!flags.backup?.length) throw new UsageError('give at least one --backup GW[@IF]');
    const specs = [flags.primary, ...flags.backup].map((t, i) => parseLegSpec(t, { weights: false, what: i === 0 ? '--primary' : '--backup' }));
    const gws = specs.map((s) => (s.via ? formatIp(s.via.bytes) : undefined));
    const family = routeFamily(args.destination, gws, flags);
    const dst = formatDestination(parseDestination(args.destination, family));
    const table = flags.table ?? MAIN_TABLE;
    const base = flags.metric ?? 100;
    const step = flags.step ?? 100;
    if (base + step * (specs.length - 1) > 4294967295) throw new UsageError(`metrics would pass 4294967295: lower --metric or --step`);
    const seen = new Set<string>();
    const routes: Route[] = specs.map((s, i) => {
      if (!s.via) throw new UsageError(`${i === 0 ? '--primary' : '--backup'} needs a gateway address, not only an interface`);
      if (s.via.family !== family) throw new UsageError(`gateway ${i === 0 ? flags.primary : flags.backup![i - 1]} is not ${family === 'ipv4' ? 'IPv4' : 'IPv6'} like the destination`);
      const r: Route = { family, dst, table, metric: base + step * i, type: 'unicast', protocol: HA_PROTOCOL, scope: 'global' };
      r.via = formatIp(s.via.bytes);
      if (s.dev) r.dev = s.dev;
      const key = `${r.via}@${r.dev ?? ''}`;
      if (seen.has(key)) throw new UsageError(`gateway ${key.replace(/@$/, '')} is given twice`);
      seen.add(key);
      return r;
    });
    await this.lockKernel('routes');
    const l = await links();
    for (const r of routes) await checkPaths(r, l);
    const { steps, warnings } = await planFailover(routes, family, flags['ignore-linkdown'], l);
    await this.change(steps, { target: 'the routing table' });

    const all = await sameDestination(routes[0]!, l);
    await markInUse(all);
    const ours = new Set(routes.map((r) => r.metric));
    for (const r of all) {
      if (!ours.has(r.metric) && r.metric < base) warnings.push(`${routeLabel(r)} (${pathText(r)}) has a lower metric and takes precedence over the failover routes`);
    }
    return {
      routes: all,
      installed: routes.map((r, i) => ({ role: i === 0 ? 'primary' : 'backup', metric: r.metric, path: pathText(r) })),
      warnings,
    };
  }

  protected override render(r: FailoverResult): string {
    const lines = [renderRoutes(r.routes)];
    for (const w of r.warnings) lines.push(`warning: ${w}`);
    return lines.join('\n');
  }
}
