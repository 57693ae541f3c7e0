import { OperationError, UsageError } from '@ha/lib';
import { IpvsCommand, existingService } from '../../base.js';
import { serverFlags, serviceKeyFlags, toOptions } from '../../flags.js';
import { serverFromOptions } from '../../ipvsadm/options.js';
import { getService } from '../../kernel.js';
import { addServerStep } from '../../ops.js';
import { Service, checkServer, serverId, serverLabel, serviceLabel, v4MappedProblem } from '../../model.js';
import { renderServices } from '../../render.js';

export default class IpvsAddServer extends IpvsCommand<{ service: Service }> {
  static override summary = 'Add a real server to a virtual service (ipvsadm -a).';
  static override description = `Adds a real server with its forwarding method (-g direct routing, the default; -m NAT; -i tunnelling, with --tun-type ipip|gue|gre), weight (default 1) and connection thresholds. The port defaults to the service's port. The service is read back from the kernel and shown.

An IPv4 server in an IPv6 service (or the reverse) needs tunnelling.`;
  static override examples = [
    { description: 'A NAT real server with weight 3.', command: '<%= config.bin %> ipvs add-server -t 192.0.2.10:80 -r 198.51.100.11:8080 -m -w 3' },
    { description: 'A direct-routing server (same port as the service).', command: '<%= config.bin %> ipvs add-server -t 192.0.2.10:80 -r 198.51.100.12 -g' },
    { description: 'A GUE tunnel server.', command: '<%= config.bin %> ipvs add-server -t 192.0.2.10:80 -r 203.0.113.5 -i --tun-type gue --tun-port 6080' },
  ];
  static override flags = { ...serviceKeyFlags, ...serverFlags };

  protected async exec(): Promise<{ service: Service }> {
    const { flags } = await this.parse(IpvsAddServer);
    const opts = toOptions(flags);
    await this.lockKernel('ipvs');
    const svc = await existingService(opts);
    const server = serverFromOptions(opts, svc);
    const problem = checkServer(svc, server)[0];
    if (problem) throw new UsageError(`real server ${serverLabel(server)}: ${problem[1]}`);
    const mapped = v4MappedProblem(server.family, server.address);
    if (mapped) throw new UsageError(`-r/--real-server: ${mapped}`);
    if (svc.servers.some((r) => serverId(r) === serverId(server))) {
      throw new OperationError(`real server ${serverLabel(server)} of service ${serviceLabel(svc)} already exists`, 'EEXIST');
    }
    await this.changeIpvs(addServerStep(svc, server));
    return { service: (await getService(svc))! };
  }

  protected override render(r: { service: Service }): string {
    return renderServices([r.service]);
  }
}
