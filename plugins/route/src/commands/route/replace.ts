import * as Args from '@oclif/core/args';
import { HaCommand } from '@ha/lib';
import { routeFlags, routeFromFlags } from '../../flags.js';
import { checkPaths, readBack } from '../../paths.js';
import { findRoute, links } from '../../kernel.js';
import { replaceRouteStep } from '../../ops.js';
import { Route } from '../../model.js';
import { renderRoutes } from '../../render.js';

interface ReplaceResult {
  route: Route;
  /** The route it replaced; absent when there was none (then it was added). */
  previous?: Route;
}

export default class RouteReplace extends HaCommand<ReplaceResult> {
  static override summary = 'Add a route, or change the one with the same destination, metric and table.';
  static override description = `Like ha route add, but a route with the same destination, metric and table is changed in place (NLM_F_REPLACE) instead of refused, so that running it twice is harmless. The previous route, if any, is shown with --json as "previous".`;

  static override examples = [
    { description: 'Point the default route at a new gateway.', command: '<%= config.bin %> route replace default --via 198.51.100.254' },
    { description: 'Change a route in table 100.', command: '<%= config.bin %> route replace 192.0.2.0/24 --dev eth1 --table 100' },
  ];

  static override args = {
    destination: Args.string({ ignoreStdin: true, required: true, description: 'PREFIX, an address, or "default".' }),
  };

  static override flags = routeFlags;

  protected async exec(): Promise<ReplaceResult> {
    const { args, flags } = await this.parse(RouteReplace);
    const r = routeFromFlags(args.destination, flags);
    await this.lockKernel('routes');
    const l = await links();
    await checkPaths(r, l);
    const previous = await findRoute(r, l);
    await this.change(replaceRouteStep(r, previous, l), { target: 'the routing table' });
    const route = await readBack(r, l);
    return previous ? { route, previous } : { route };
  }

  protected override render(r: ReplaceResult): string {
    return renderRoutes([r.route]);
  }
}
