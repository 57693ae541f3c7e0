/**
 * What the ipvs commands share: ipvsadm's optional `-p` value, and turning flags into a service key.
 */
import { HaCommand, OperationError, type Step } from '@ha/lib';
import { serverKeyFromOptions, serviceKeyFromOptions } from './ipvsadm/options.js';
import { getService } from './kernel.js';
import { Server, Service, serverId, serverLabel, serviceLabel } from './model.js';
import { withOptionalPersistence } from './flags.js';

export abstract class IpvsCommand<T> extends HaCommand<T> {
  override async init(): Promise<void> {
    this.argv = withOptionalPersistence(this.argv);
    await super.init();
  }

  /** Make changes to the IPVS table through the step engine (after lockKernel('ipvs')). */
  protected changeIpvs(steps: Step | Step[]): Promise<number> {
    return this.change(steps, { target: 'the IPVS table' });
  }
}

/** The service the options name, read from the kernel; exit 1 naming it when it does not exist. */
export async function existingService(opts: Record<string, unknown>): Promise<Service> {
  const key = serviceKeyFromOptions(opts);
  const svc = await getService(key);
  if (!svc) throw new OperationError(`service ${serviceLabel(key)} does not exist`, 'ESRCH');
  return svc;
}

/** The service and the real server (-r) the options name; exit 1 naming what does not exist. */
export async function existingServer(opts: Record<string, unknown>): Promise<{ svc: Service; current: Server }> {
  const svc = await existingService(opts);
  const probe = serverKeyFromOptions(opts, svc);
  const current = svc.servers.find((r) => serverId(r) === serverId(probe));
  if (!current) throw new OperationError(`real server ${serverLabel(probe)} of service ${serviceLabel(svc)} does not exist`, 'ENOENT');
  return { svc, current };
}
