import { IpvsCommand, existingService } from '../../base.js';
import { serviceKeyFlags } from '../../flags.js';
import { zeroStep } from '../../ops.js';
import { ServiceKey, serviceLabel } from '../../model.js';
import { toOptions } from '../../flags.js';

interface ZeroResult {
  service: string | null;
}

export default class IpvsZero extends IpvsCommand<ZeroResult> {
  static override summary = 'Zero the packet, byte and rate counters (ipvsadm -Z).';
  static override description = 'Zeroes the counters of one virtual service and its real servers, or of all services when none is given.';
  static override examples = [
    { description: 'Zero every counter.', command: '<%= config.bin %> ipvs zero' },
    { description: 'Zero one service.', command: '<%= config.bin %> ipvs zero -t 192.0.2.10:80' },
  ];
  static override flags = { ...serviceKeyFlags };

  protected async exec(): Promise<ZeroResult> {
    const { flags } = await this.parse(IpvsZero);
    const opts = toOptions(flags);
    const any = ['tcpService', 'udpService', 'sctpService', 'fwmarkService'].some((k) => opts[k] !== undefined);
    let key: ServiceKey | undefined;
    await this.lockKernel('ipvs');
    if (any) {
      key = await existingService(opts);
    }
    await this.changeIpvs(zeroStep(key));
    return { service: key ? serviceLabel(key) : null };
  }

  protected override render(r: ZeroResult): string {
    return r.service ? `Zeroed the counters of service ${r.service}.` : 'Zeroed all counters.';
  }
}
