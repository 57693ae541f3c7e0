import * as Flags from '@oclif/core/flags';
import { UsageError } from '@ha/lib';
import { IpvsCommand, existingServer } from '../../base.js';
import { serverFlags, serviceKeyFlags, toOptions } from '../../flags.js';
import { serverFromOptions } from '../../ipvsadm/options.js';
import { getService } from '../../kernel.js';
import { editServerStep } from '../../ops.js';
import { Service, checkServer, serverLabel } from '../../model.js';
import { renderServices } from '../../render.js';

export default class IpvsEditServer extends IpvsCommand<{ service: Service }> {
  static override summary = 'Change a real server (ipvsadm -e).';
  static override description = `Changes the forwarding method, weight or thresholds of a real server. As with ipvsadm -e, options not given go back to their defaults (direct routing, weight 1, no thresholds); with --keep they keep their current values instead.

Setting the weight to 0 drains the server: no new connections, existing ones continue.`;
  static override examples = [
    { description: 'Drain a server.', command: '<%= config.bin %> ipvs edit-server -t 192.0.2.10:80 -r 198.51.100.11:8080 -m -w 0' },
    { description: 'Raise its weight, keeping NAT and the thresholds.', command: '<%= config.bin %> ipvs edit-server -t 192.0.2.10:80 -r 198.51.100.11:8080 -w 5 --keep' },
  ];
  static override flags = {
    ...serviceKeyFlags,
    ...serverFlags,
    keep: Flags.boolean({ summary: "Options not given keep their current values (ipvsadm -e resets them to defaults)." }),
  };

  protected async exec(): Promise<{ service: Service }> {
    const { flags } = await this.parse(IpvsEditServer);
    const opts = toOptions(flags);
    await this.lockKernel('ipvs');
    const { svc, current } = await existingServer(opts);
    const server = serverFromOptions(opts, svc, { forEdit: current, merge: flags.keep });
    const problem = checkServer(svc, server)[0];
    if (problem) throw new UsageError(`real server ${serverLabel(server)}: ${problem[1]}`);
    await this.changeIpvs(editServerStep(svc, server, current));
    return { service: (await getService(svc))! };
  }

  protected override render(r: { service: Service }): string {
    return renderServices([r.service]);
  }
}
