import { OperationError, UsageError } from '@ha/lib';
import { IpvsCommand } from '../../base.js';
import { serviceKeyFlags, serviceOptionFlags, toOptions } from '../../flags.js';
import { serviceFromOptions } from '../../ipvsadm/options.js';
import { checkModules, getService } from '../../kernel.js';
import { addServiceStep } from '../../ops.js';
import { Service, checkService, isFwmark, serviceLabel, v4MappedProblem } from '../../model.js';
import { renderServices } from '../../render.js';

export default class IpvsAddService extends IpvsCommand<{ service: Service }> {
  static override summary = 'Add a virtual service (ipvsadm -A).';
  static override description = `Adds a TCP, UDP or SCTP virtual service (ADDRESS:PORT, IPv6 in brackets) or a firewall-mark service. Takes ipvsadm's options with the same names and letters; the scheduler defaults to wlc. Everything is checked before the kernel is asked, and the service is read back from the kernel and shown.

Port 0 (all ports) needs persistence; scheduler flags go only with their scheduler (sh-*, mh-*).`;

  static override examples = [
    { description: 'A weighted round-robin HTTP service.', command: '<%= config.bin %> ipvs add-service -t 192.0.2.10:80 -s wrr' },
    { description: 'Persistent HTTPS, clients grouped by /24.', command: '<%= config.bin %> ipvs add-service -t 192.0.2.10:443 -s wlc -p 600 -M 255.255.255.0' },
    { description: 'IPv6, source hashing with port and fallback.', command: '<%= config.bin %> ipvs add-service -t [2001:db8::10]:80 -s sh -b sh-port,sh-fallback' },
    { description: 'A firewall-mark service.', command: '<%= config.bin %> ipvs add-service -f 1 -s rr' },
  ];

  static override flags = { ...serviceKeyFlags, ...serviceOptionFlags };

  protected async exec(): Promise<{ service: Service }> {
    const { flags } = await this.parse(IpvsAddService);
    const svc = serviceFromOptions(toOptions(flags));
    const problem = checkService(svc)[0];
    if (problem) throw new UsageError(`service ${serviceLabel(svc)}: ${problem[1]}`);
    const mapped = isFwmark(svc) ? undefined : v4MappedProblem(svc.family, svc.address);
    if (mapped) throw new UsageError(`-t/-u/--sctp-service: ${mapped}`);
    checkModules([svc]);
    await this.lockKernel('ipvs');
    await this.changeIpvs(addServiceStep(svc));
    const back = await getService(svc);
    if (!back) throw new OperationError(`service ${serviceLabel(svc)} was added but cannot be read back`);
    return { service: back };
  }

  protected override render(r: { service: Service }): string {
    return renderServices([r.service]);
  }
}
