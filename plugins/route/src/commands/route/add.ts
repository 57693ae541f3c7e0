import * as Args from '@oclif/core/args';
import { HaCommand } from '@ha/lib';
import { routeFlags, routeFromFlags } from '../../flags.js';
import { checkPaths, readBack } from '../../paths.js';
import { links } from '../../kernel.js';
import { addRouteStep } from '../../ops.js';
import { Route } from '../../model.js';
import { renderRoutes } from '../../render.js';

export default class RouteAdd extends HaCommand<{ route: Route }> {
  static override summary = 'Add a route (fails if one with the same destination, metric and table exists).';
  static override description = `Adds a route to PREFIX (or "default") through a gateway (--via), an interface (--dev) or both, with a metric and a table. The route is checked before the kernel is asked: the gateway must be on a connected network (through --dev when given) unless --onlink is set, and the interfaces must exist. The route is then read back from the kernel and shown.

Routes ha adds carry protocol "static". A route is identified by its destination, metric and table: a second route to the same destination needs another metric (that is how failover works; see ha route failover). IPv4 routes may use an IPv6 gateway.`;

  static override examples = [
    { description: 'A default route through a gateway.', command: '<%= config.bin %> route add default --via 198.51.100.1' },
    { description: 'A backup default route with a higher metric.', command: '<%= config.bin %> route add default --via 203.0.113.1 --dev eth1 --metric 200' },
    { description: 'An IPv6 network in table 100.', command: '<%= config.bin %> route add 2001:db8:10::/48 --via 2001:db8::1 --table 100' },
    { description: 'A blackhole route.', command: '<%= config.bin %> route add 192.0.2.128/25 --type blackhole' },
  ];

  static override args = {
    destination: Args.string({ ignoreStdin: true, required: true, description: 'PREFIX (192.0.2.0/24, 2001:db8::/32), an address, or "default".' }),
  };

  static override flags = routeFlags;

  protected async exec(): Promise<{ route: Route }> {
    const { args, flags } = await this.parse(RouteAdd);
    const r = routeFromFlags(args.destination, flags);
    await this.lockKernel('routes');
    const l = await links();
    await checkPaths(r, l);
    await this.change(addRouteStep(r, l), { target: 'the routing table' });
    return { route: await readBack(r, l) };
  }

  protected override render(r: { route: Route }): string {
    return renderRoutes([r.route]);
  }
}
