import * as Flags from '@oclif/core/flags';
import { UsageError } from '@ha/lib';
import { IpvsCommand, existingService } from '../../base.js';
import { serviceKeyFlags, serviceOptionFlags, toOptions } from '../../flags.js';
import { serviceFromOptions } from '../../ipvsadm/options.js';
import { checkModules, getService } from '../../kernel.js';
import { editServiceStep } from '../../ops.js';
import { Service, checkService, serviceLabel } from '../../model.js';
import { renderServices } from '../../render.js';

export default class IpvsEditService extends IpvsCommand<{ service: Service }> {
  static override summary = 'Change a virtual service (ipvsadm -E).';
  static override description = `Changes the scheduler, persistence, persistence engine, scheduler flags or one-packet scheduling of an existing virtual service. Its real servers and their connections are kept. The service is read back from the kernel and shown.

As with ipvsadm -E, settings not given go back to their defaults (scheduler wlc, not persistent, no flags); with --keep they keep their current values instead.`;
  static override examples = [
    { description: 'Switch to round robin.', command: '<%= config.bin %> ipvs edit-service -t 192.0.2.10:80 -s rr' },
    { description: 'Make it persistent for 5 minutes, keeping the scheduler.', command: '<%= config.bin %> ipvs edit-service -t 192.0.2.10:80 -p 300 --keep' },
  ];
  static override flags = {
    ...serviceKeyFlags,
    ...serviceOptionFlags,
    keep: Flags.boolean({ summary: 'Settings not given keep their current values (ipvsadm -E resets them to defaults).' }),
  };

  protected async exec(): Promise<{ service: Service }> {
    const { flags } = await this.parse(IpvsEditService);
    const opts = toOptions(flags);
    await this.lockKernel('ipvs');
    const current = await existingService(opts);
    const svc = serviceFromOptions(opts, { forEdit: current, merge: flags.keep });
    svc.servers = current.servers;
    const problem = checkService(svc)[0];
    if (problem) throw new UsageError(`service ${serviceLabel(svc)}: ${problem[1]}`);
    checkModules([svc]);
    await this.changeIpvs(editServiceStep(svc, current));
    return { service: (await getService(current))! };
  }

  protected override render(r: { service: Service }): string {
    return renderServices([r.service]);
  }
}
