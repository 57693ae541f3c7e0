import { IpvsCommand } from '../../base.js';
import { listServices } from '../../kernel.js';
import { flushStep } from '../../ops.js';

interface ClearResult {
  removedServices: number;
  removedServers: number;
}

export default class IpvsClear extends IpvsCommand<ClearResult> {
  static override summary = 'Remove every virtual service and real server (ipvsadm -C).';
  static override description = 'Flushes the IPVS table, as ipvsadm -C does. Connections through the removed services stop being balanced. To change a table without disturbing the services that stay, use ha ipvs restore, which applies only the difference.';
  static override examples = [
    { description: 'Empty the table.', command: '<%= config.bin %> ipvs clear' },
  ];

  protected async exec(): Promise<ClearResult> {
    await this.parse(IpvsClear);
    await this.lockKernel('ipvs');
    const before = await listServices({ stats: false });
    await this.changeIpvs(flushStep(before));
    return { removedServices: before.length, removedServers: before.reduce((n, s) => n + s.servers.length, 0) };
  }

  protected override render(r: ClearResult): string {
    return `Removed ${r.removedServices} virtual service(s) and ${r.removedServers} real server(s).`;
  }
}
