import { HaCommand, table } from '@ha/lib';
import { StatusReport, statusReport } from '../../status.js';

export default class RouteStatus extends HaCommand<StatusReport> {
  static override summary = 'Report the sysctls that decide multipath and failover behaviour, with warnings.';
  static override description = `Shows fib_multipath_hash_policy (IPv4, IPv6), fib_multipath_use_neigh and ignore_routes_with_linkdown (IPv4, IPv6) with what each value means, how many multipath routes and failover destinations (several routes by metric) there are, and a plain warning for each setting that undermines them: for example a failed gateway keeps receiving traffic while fib_multipath_use_neigh is 0, a link without carrier keeps its routes while ignore_routes_with_linkdown is 0, and per-flow (l4) hashing over several providers breaks connections that are source-NATed per provider. Exit 0 either way.`;

  static override examples = [
    { description: 'The report.', command: '<%= config.bin %> route status' },
    { description: 'As JSON, for monitoring.', command: '<%= config.bin %> route status --json' },
  ];

  protected async exec(): Promise<StatusReport> {
    await this.parse(RouteStatus);
    return statusReport();
  }

  protected override render(r: StatusReport): string {
    const lines = [
      table(['SYSCTL', 'VALUE', 'MEANING'], r.sysctls.map((s) => [s.name, s.value ?? '-', s.meaning])),
      '',
      `multipath routes: ${r.multipathRoutes}`,
      `failover destinations: ${r.failoverDestinations}`,
    ];
    for (const w of r.warnings) lines.push(`warning: ${w}`);
    return lines.join('\n');
  }
}
