import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { HaCommand, OperationError, UsageError } from '@ha/lib';
import { exclusive, familyFlags, metricFlag, routeFamily, tableFlag } from '../../flags.js';
import { links, listRoutes } from '../../kernel.js';
import { deleteNexthopStep, deleteRouteStep, unusedNexthops } from '../../ops.js';
import { MAIN_TABLE, Route, formatDestination, parseDestination, tableName } from '../../model.js';
import { renderRoutes } from '../../render.js';

export default class RouteDelete extends HaCommand<{ deleted: Route[]; removedNexthops: number[] }> {
  static override summary = 'Delete a route.';
  static override description = `Deletes the route to PREFIX (or "default") in the table (main by default). When several routes go to that destination (failover routes differ by metric), give --metric to say which, or --all-metrics to delete them all. A multipath route is deleted with all its paths; a nexthop group ha made for it (ha route multipath --group) is deleted too when nothing else uses it. The deleted routes are shown.`;

  static override examples = [
    { description: 'Delete the only default route.', command: '<%= config.bin %> route delete default' },
    { description: 'Delete the backup default route.', command: '<%= config.bin %> route delete default --metric 200' },
    { description: 'Delete an IPv6 route from table 100.', command: '<%= config.bin %> route delete 2001:db8:10::/48 --table 100' },
  ];

  static override args = {
    destination: Args.string({ ignoreStdin: true, required: true, description: 'PREFIX, an address, or "default".' }),
  };

  static override flags = {
    metric: metricFlag,
    table: tableFlag,
    'all-metrics': Flags.boolean({ summary: 'Delete every route to the destination in the table, whatever its metric.' }),
    ...familyFlags,
  };

  protected async exec(): Promise<{ deleted: Route[]; removedNexthops: number[] }> {
    const { args, flags } = await this.parse(RouteDelete);
    exclusive(flags, 'metric', 'all-metrics');
    const family = routeFamily(args.destination, [], flags);
    const dst = formatDestination(parseDestination(args.destination, family));
    const table = flags.table ?? MAIN_TABLE;
    const metric = flags.metric;
    await this.lockKernel('routes');
    const l = await links();
    const found = (await listRoutes({ family, table }, l)).filter((r) => r.dst === dst && (metric === undefined || r.metric === metric));
    const where = `${dst}${family === 'ipv6' && dst === 'default' ? ' (IPv6)' : ''}${metric === undefined ? '' : ` metric ${metric}`}${table === MAIN_TABLE ? '' : ` table ${tableName(table)}`}`;
    if (found.length === 0) throw new OperationError(`route ${where} does not exist`, 'ESRCH');
    if (found.length > 1 && !flags['all-metrics']) {
      throw new UsageError(`${found.length} routes go to ${where} (metrics ${found.map((r) => r.metric).join(', ')}): give --metric N, or --all-metrics to delete them all`);
    }
    // nexthop groups ha made for these routes go with them when nothing else uses them
    const unused = await unusedNexthops(found, l);
    await this.change([...found.map((r) => deleteRouteStep(r, l)), ...unused.map((nh) => deleteNexthopStep(nh, l))], { target: 'the routing table' });
    return { deleted: found, removedNexthops: unused.map((nh) => nh.id) };
  }

  protected override render(r: { deleted: Route[] }): string {
    return `Deleted:\n${renderRoutes(r.deleted)}`;
  }
}
