/**
 * The ipvs plugin's API, for other plugins (the health checks drive real servers through it) and
 * the agent: services and real servers by identity, and the changes a checker makes to a real
 * server (its weight; taken out and put back). Nothing else of the plugin is meant to be used
 * from outside it.
 */
import { OperationError } from '@ha/lib';
import { addServer as addServerRequest, deleteServer, editServer, getService, listServers, listServices } from './kernel.js';
import {
  Family, Forward, Protocol, Server, Service, ServiceKey, indexOfServer, serverLabel, serviceLabel,
} from './model.js';

export type { Family, Forward, Protocol, Server, Service, ServiceKey };
/** Which real server of a service: its family, address and port. */
export type ServerKey = Pick<Server, 'family' | 'address' | 'port'>;

export { getService, listServers, listServices, serverLabel, serviceLabel };

/** One real server of a service as the kernel has it now, or undefined. */
export async function getServer(service: ServiceKey, server: ServerKey): Promise<Server | undefined> {
  const all = await listServers(service);
  const i = indexOfServer(all, server);
  return i === -1 ? undefined : all[i];
}

async function existing(service: ServiceKey, server: ServerKey): Promise<Server> {
  const r = await getServer(service, server);
  if (!r) throw new OperationError(`real server ${serverLabel(server)} of service ${serviceLabel(service)} does not exist`, 'ENOENT');
  return r;
}

/**
 * Set a real server's weight, keeping everything else it has (forwarding, thresholds, tunnel).
 * Weight 0 takes it out of new scheduling while its connections go on. Returns the server before
 * the change (to put it back).
 */
export async function setServerWeight(service: ServiceKey, server: ServerKey, weight: number): Promise<Server> {
  const now = await existing(service, server);
  const { activeConns: _a, inactiveConns: _i, persistentConns: _p, stats: _s, ...settings } = now;
  await editServer(service, { ...settings, weight });
  return now;
}

/** Take a real server out of a service (its connections end); returns it, to put it back with addServer. */
export async function removeServer(service: ServiceKey, server: ServerKey): Promise<Server> {
  const now = await existing(service, server);
  await deleteServer(service, now);
  return now;
}

/** Put a real server (back) into a service with all its settings. */
export async function addServer(service: ServiceKey, server: Server): Promise<void> {
  const { activeConns: _a, inactiveConns: _i, persistentConns: _p, stats: _s, ...settings } = server;
  await addServerRequest(service, settings);
}
