import { IpvsCommand, existingService } from '../../base.js';
import { serviceKeyFlags, toOptions } from '../../flags.js';
import { deleteServiceStep } from '../../ops.js';
import { Service, serviceLabel } from '../../model.js';

export default class IpvsDeleteService extends IpvsCommand<{ deleted: Service }> {
  static override summary = 'Delete a virtual service and its real servers (ipvsadm -D).';
  static override description = 'Deletes one virtual service together with its real servers. The JSON output holds what was deleted, so it can be added back.';
  static override examples = [
    { description: 'Delete an HTTP service.', command: '<%= config.bin %> ipvs delete-service -t 192.0.2.10:80' },
    { description: 'Delete a firewall-mark service.', command: '<%= config.bin %> ipvs delete-service -f 1' },
  ];
  static override flags = { ...serviceKeyFlags };

  protected async exec(): Promise<{ deleted: Service }> {
    const { flags } = await this.parse(IpvsDeleteService);
    await this.lockKernel('ipvs');
    const current = await existingService(toOptions(flags));
    await this.changeIpvs(deleteServiceStep(current));
    return { deleted: current };
  }

  protected override render(r: { deleted: Service }): string {
    return `Deleted service ${serviceLabel(r.deleted)} and its ${r.deleted.servers.length} real server(s).`;
  }
}
