import * as Flags from '@oclif/core/flags';
import { HaCommand } from '@ha/lib';
import { exclusive, familyFlags, familyFromFlags, tableFlag } from '../../flags.js';
import { markInUse } from '../../paths.js';
import { links, listNexthops, listRoutes } from '../../kernel.js';
import { MAIN_TABLE, Nexthop, Route, isManaged } from '../../model.js';
import { renderNexthops, renderRoutes } from '../../render.js';

interface ListResult {
  routes: Route[];
  nexthops: Nexthop[];
}

export default class RouteList extends HaCommand<ListResult> {
  static override summary = 'List routes, marking which of several routes to a destination is in use.';
  static override description = `Shows the routes of a table (main by default; --all-tables for every table but local), IPv4 then IPv6, with their metric, paths, protocol and state. A multipath route is one entry with one line per path and its weight (IPv6 multipath routes too, although the kernel keeps their paths as sibling routes).

Where several routes go to the same destination (failover by metric), STATE says which one the kernel uses now ("in use": the lowest metric whose path is alive) and which are "standby". A path is not alive when its interface is down ("dead"), or when it lost carrier ("linkdown") and ignore_routes_with_linkdown is set. Nexthop objects (ip nexthop) are listed after the routes when there are any.

--managed shows only the routes ha save keeps (protocols boot, static and unspec).`;

  static override examples = [
    { description: 'The main table.', command: '<%= config.bin %> route list' },
    { description: 'Every table, IPv6 only.', command: '<%= config.bin %> route list --all-tables -6' },
    { description: 'Table 100 as JSON.', command: '<%= config.bin %> route list --table 100 --json' },
  ];

  static override flags = {
    table: tableFlag,
    'all-tables': Flags.boolean({ summary: 'Every table but local.' }),
    managed: Flags.boolean({ summary: 'Only the routes ha save keeps (protocols boot, static, unspec).' }),
    ...familyFlags,
  };

  protected async exec(): Promise<ListResult> {
    const { flags } = await this.parse(RouteList);
    exclusive(flags, 'table', 'all-tables');
    const table = flags['all-tables'] ? 'all' as const : flags.table ?? MAIN_TABLE;
    const l = await links();
    let routes = await listRoutes({ family: familyFromFlags(flags), table }, l);
    if (flags.managed) routes = routes.filter(isManaged);
    await markInUse(routes);
    return { routes, nexthops: await listNexthops(l) };
  }

  protected override render(r: ListResult, flags: Record<string, unknown>): string {
    const out = renderRoutes(r.routes, { tables: Boolean(flags['all-tables']) });
    return r.nexthops.length ? `${out}\n\nNexthop objects:\n${renderNexthops(r.nexthops)}` : out;
  }
}
