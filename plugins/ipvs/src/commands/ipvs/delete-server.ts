import { IpvsCommand, existingServer } from '../../base.js';
import { serverFlags, serviceKeyFlags, toOptions } from '../../flags.js';
import { deleteServerStep } from '../../ops.js';
import { Server, serverLabel, serviceLabel } from '../../model.js';

export default class IpvsDeleteServer extends IpvsCommand<{ service: string; deleted: Server }> {
  static override summary = 'Remove a real server from a virtual service (ipvsadm -d).';
  static override description = 'Removes one real server. New connections stop going to it at once; to let existing connections finish first, set its weight to 0 with ha ipvs edit-server and delete it later.';
  static override examples = [
    { description: 'Remove a server.', command: '<%= config.bin %> ipvs delete-server -t 192.0.2.10:80 -r 198.51.100.11:8080' },
  ];
  static override flags = { ...serviceKeyFlags, 'real-server': serverFlags['real-server'] };

  protected async exec(): Promise<{ service: string; deleted: Server }> {
    const { flags } = await this.parse(IpvsDeleteServer);
    const opts = toOptions(flags);
    await this.lockKernel('ipvs');
    const { svc, current } = await existingServer(opts);
    await this.changeIpvs(deleteServerStep(svc, current));
    return { service: serviceLabel(svc), deleted: current };
  }

  protected override render(r: { service: string; deleted: Server }): string {
    return `Removed real server ${serverLabel(r.deleted)} from service ${r.service}.`;
  }
}
