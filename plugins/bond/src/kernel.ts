/**
 * Bonds in the kernel, over rtnetlink only: RTM_NEWLINK with IFLA_LINKINFO kind "bond" and
 * IFLA_INFO_DATA (IFLA_BOND_*) to create and change a bond, IFLA_MASTER on a port to enslave or
 * release it, RTM_GETLINK dumps decoded back into the model (ports' state from
 * IFLA_INFO_SLAVE_DATA). Errors name the bond or port concerned and what to do.
 */
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { OperationError, UnavailableError, UsageError, errnoCode } from '@ha/lib';
import {
  IFF_UP, IFLA_INFO_DATA, IFLA_LINKINFO, Link, NETLINK_ROUTE, NLM_F_CREATE, NLM_F_EXCL, NetlinkError, type Request, NetlinkSession, RTM_DELLINK,
  RTM_NEWLINK, decodeLink, encodeIfInfo, encodeNested, linkAttrs, linkInfoAttrs, listLinks,
} from '@ha/lib/netlink';
import { AdInfo, BondDataRequest, decodeBondData, encodeBondData, decodePortData, PortData } from './codec.js';
import { BondOptions, Mode, applicableOptions, flagName, OPTION_BY_KEY } from './options.js';

export const MODULE_HINT = 'the bonding module is not available in this kernel: load it with "modprobe bonding" (or install a kernel that has it)';

export interface Port extends PortData {
  name: string;
  index: number;
  /** The port is administratively up. */
  up: boolean;
  /** The port has carrier (IFF_LOWER_UP). */
  carrier: boolean;
  /** Kind of the port's own link (veth, dummy…), absent for hardware. */
  kind?: string;
}

export interface Bond {
  name: string;
  index: number;
  mode: Mode;
  up: boolean;
  carrier: boolean;
  operstate: string;
  mac?: string;
  mtu?: number;
  /** The options that mean something in this mode, as the kernel reports them. */
  options: BondOptions;
  primary?: string;
  active?: string;
  ports: Port[];
  /** 802.3ad: the active aggregator. */
  lacp?: AdInfo;
}

const rtnl = (): NetlinkSession => NetlinkSession.get(NETLINK_ROUTE);

/** Is bonding present (loaded, or loadable from this kernel's modules)? */
export function bondingAvailable(): boolean {
  if (existsSync('/sys/module/bonding') || existsSync('/sys/class/net/bonding_masters')) return true;
  return existsSync(`/lib/modules/${release()}/kernel/drivers/net/bonding`);
}

export function toBond(link: Link, links: Link[]): Bond {
  const data = decodeBondData(link.infoData ?? Buffer.alloc(0));
  const byIndex = new Map(links.map((l) => [l.index, l]));
  const ports: Port[] = links.filter((l) => l.master === link.index).map((l) => ({
    name: l.name,
    index: l.index,
    up: l.up,
    carrier: l.lowerUp,
    ...(l.kind ? { kind: l.kind } : {}),
    ...decodePortData(l.slaveData ?? Buffer.alloc(0)),
  }));
  const bond: Bond = {
    name: link.name,
    index: link.index,
    mode: data.mode,
    up: link.up,
    carrier: link.lowerUp,
    operstate: link.operstate,
    options: applicableOptions(data.mode, data.options),
    ports,
  };
  if (link.address !== undefined) bond.mac = link.address;
  if (link.mtu !== undefined) bond.mtu = link.mtu;
  if (data.primaryIndex) bond.primary = byIndex.get(data.primaryIndex)?.name;
  if (data.activeIndex) bond.active = byIndex.get(data.activeIndex)?.name;
  if (data.adInfo) bond.lacp = data.adInfo;
  if (!bond.primary) delete bond.primary;
  if (!bond.active) delete bond.active;
  return bond;
}

/** Every bond of this network namespace, by name. */
export async function listBonds(): Promise<Bond[]> {
  const links = await listLinks();
  return links.filter((l) => l.kind === 'bond').map((l) => toBond(l, links)).sort((a, b) => a.name.localeCompare(b.name));
}

export async function findBond(name: string): Promise<Bond | undefined> {
  const links = await listLinks();
  const l = links.find((x) => x.name === name);
  if (!l || l.kind !== 'bond') return undefined;
  return toBond(l, links);
}

/** The bond by name: exit 1 when it does not exist, exit 2 when the interface is not a bond. */
export async function getBond(name: string): Promise<Bond> {
  const links = await listLinks();
  const l = links.find((x) => x.name === name);
  if (!l) throw new OperationError(`bond ${name} does not exist`, 'ENODEV');
  if (l.kind !== 'bond') throw new UsageError(`interface ${name} is not a bond (it is ${l.kind ? `a ${l.kind} link` : 'a hardware interface'})`);
  return toBond(l, links);
}

function bondError(name: string, error: unknown): unknown {
  if (!(error instanceof NetlinkError)) return error;
  const ext = error.extAck ? ` (kernel: ${error.extAck})` : '';
  switch (error.errnoName) {
    case 'EOPNOTSUPP':
    case 'ENOTSUP':
      return new UnavailableError(MODULE_HINT);
    case 'EEXIST':
      return new OperationError(`interface ${name} already exists`, 'EEXIST', error);
    case 'EBUSY':
      return new OperationError(`bond ${name} must be down for this change: run "ip link set ${name} down" first, or give --force to let ha do it and restore the bond${ext}`, 'EBUSY', error);
    case 'ENOTEMPTY':
      return new OperationError(`bond ${name} must have no ports for this change: remove them first, or give --force to let ha release and re-add them${ext}`, 'ENOTEMPTY', error);
    case 'EACCES':
      return new OperationError(`bond ${name}: option not valid in the bond's mode${ext}`, 'EACCES', error);
    default:
      return error;
  }
}

const linkinfo = (req: BondDataRequest): Buffer =>
  encodeNested(IFLA_LINKINFO, [linkInfoAttrs.encode({ kind: 'bond' }), encodeNested(IFLA_INFO_DATA, encodeBondData(req))]);

/** The requests of the bond operations (built apart from sending, so that tests can hold them to ip's). */
export const bondRequests = {
  create: (name: string, mode: Mode, options: BondOptions): Request => ({
    type: RTM_NEWLINK,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    payload: [encodeIfInfo(), linkAttrs.encode({ name }), linkinfo({ mode, options })],
    context: { object: `bond ${name}` },
  }),
  change: (bond: Pick<Bond, 'name' | 'index'>, req: BondDataRequest): Request => ({
    type: RTM_NEWLINK,
    payload: [encodeIfInfo({ index: bond.index }), linkinfo(req)],
    context: { object: `bond ${bond.name}` },
  }),
  delete: (bond: Pick<Bond, 'name' | 'index'>): Request => ({
    type: RTM_DELLINK,
    payload: encodeIfInfo({ index: bond.index }),
    context: { object: `bond ${bond.name}`, messages: { ENODEV: `bond ${bond.name} does not exist` } },
  }),
  setUp: (link: { name: string; index: number }, up: boolean): Request => ({
    type: RTM_NEWLINK,
    payload: encodeIfInfo({ index: link.index, flags: up ? IFF_UP : 0, change: IFF_UP }),
    context: { object: `interface ${link.name}` },
  }),
  /** Port to bond (master = the bond's index), or out of it (master 0). */
  master: (bond: Pick<Bond, 'name'>, port: { name: string; index: number }, master: number): Request => ({
    type: RTM_NEWLINK,
    payload: [encodeIfInfo({ index: port.index }), linkAttrs.encode({ master })],
    context: { object: `port ${port.name} of bond ${bond.name}` },
  }),
};

export async function createBond(name: string, mode: Mode, options: BondOptions): Promise<void> {
  try {
    await rtnl().request(bondRequests.create(name, mode, options));
  } catch (error) {
    throw bondError(name, error);
  }
}

/** Change a bond's mode, options, active or primary port in one request. */
export async function changeBond(bond: Pick<Bond, 'name' | 'index'>, req: BondDataRequest): Promise<void> {
  try {
    await rtnl().request(bondRequests.change(bond, req));
  } catch (error) {
    throw bondError(bond.name, error);
  }
}

export async function deleteBond(bond: Pick<Bond, 'name' | 'index'>): Promise<void> {
  await rtnl().request(bondRequests.delete(bond));
}

export async function setUp(link: { name: string; index: number }, up: boolean): Promise<void> {
  await rtnl().request(bondRequests.setUp(link, up));
}

/** Enslave a port (it is set down first: the bond opens it itself). */
export async function enslave(bond: Pick<Bond, 'name' | 'index'>, port: { name: string; index: number; up?: boolean }): Promise<void> {
  if (port.up !== false) await setUp(port, false);
  try {
    await rtnl().request(bondRequests.master(bond, port, bond.index));
  } catch (error) {
    if (error instanceof NetlinkError) {
      throw new OperationError(`cannot add port ${port.name} to bond ${bond.name}: ${error.message.replace(/^port \S+ of bond \S+: /, '')}`, errnoCode(error.errnoName), error);
    }
    throw error;
  }
}

export async function releasePort(bond: Pick<Bond, 'name'>, port: { name: string; index: number }): Promise<void> {
  await rtnl().request(bondRequests.master(bond, port, 0));
}

/** The links by name, for checking ports named on the command line. */
export async function linksByName(): Promise<Map<string, Link>> {
  return new Map((await listLinks()).map((l) => [l.name, l]));
}

/**
 * Check that `names` can become ports of `bondName`: they exist, are not the bond itself or
 * loopback, are not another bond's (or bridge's) port. Exit 2 naming the first that cannot.
 */
export function checkNewPorts(bondName: string, names: string[], links: Map<string, Link>, bondIndex?: number): Link[] {
  const out: Link[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new UsageError(`port ${n} is given twice`);
    seen.add(n);
    if (n === bondName) throw new UsageError(`port ${n}: a bond cannot be its own port`);
    const l = links.get(n);
    if (!l) throw new UsageError(`port ${n} does not exist (see "ip link show" for the interfaces there are)`);
    if (n === 'lo' || l.type === 772) throw new UsageError(`port ${n}: the loopback interface cannot be a bond port`);
    if (l.kind === 'bond' && bondIndex === undefined) throw new UsageError(`port ${n} is itself a bond; ha does not nest bonds`);
    if (l.master) {
      const m = [...links.values()].find((x) => x.index === l.master);
      if (bondIndex !== undefined && l.master === bondIndex) throw new UsageError(`port ${n} is already a port of bond ${bondName}`);
      throw new UsageError(`port ${n} is already enslaved to ${m?.kind ?? 'interface'} ${m?.name ?? `#${l.master}`}: remove it there first (ha bond remove-port ${m?.name ?? ''} ${n})`);
    }
    out.push(l);
  }
  return out;
}

/** The flags of options the kernel only changes on a down bond / a bond without ports. */
export function describeRestricted(keys: string[]): string {
  return keys.map((k) => `--${flagName(OPTION_BY_KEY.get(k)!)}`).join(', ');
}

export { decodeLink };
