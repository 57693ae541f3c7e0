import * as Flags from '@oclif/core/flags';
import { OperationError, UsageError } from '@ha/lib';
import { IpvsCommand } from '../../base.js';
import { serverFlags, serviceKeyFlags, toOptions } from '../../flags.js';
import { serverFromOptions, serverKeyFromOptions, serviceKeyFromOptions } from '../../ipvsadm/options.js';
import { editServer, getService } from '../../kernel.js';
import { Service, checkServer, serverId, serverLabel, serviceLabel } from '../../model.js';
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
    const key = serviceKeyFromOptions(opts);
    const svc = await getService(key);
    if (!svc) throw new OperationError(`service ${serviceLabel(key)} does not exist`, 'ESRCH');
    const probe = serverKeyFromOptions(opts, svc);
    const current = svc.servers.find((r) => serverId(r) === serverId(probe));
    if (!current) throw new OperationError(`real server ${serverLabel(probe)} of service ${serviceLabel(svc)} does not exist`, 'ENOENT');
    const server = serverFromOptions(opts, svc, { forEdit: current, merge: flags.keep });
    const problem = checkServer(svc, server)[0];
    if (problem) throw new UsageError(`real server ${serverLabel(server)}: ${problem[1]}`);
    await editServer(svc, server);
    return { service: (await getService(key))! };
  }

  protected override render(r: { service: Service }): string {
    return renderServices([r.service]);
  }
}
