/**
 * rtnetlink links: the ifinfomsg header, the common IFLA_* attributes, and the few operations every
 * plugin needs (find an interface, list them, create a veth pair, set up/down, delete). Plugins that
 * own a link kind (bond) decode IFLA_INFO_DATA themselves from `linkInfo.data`.
 */
import { attrCodec, encodeAttr, encodeNested } from './attr.js';
import { NETLINK_ROUTE, NLM_F_CREATE, NLM_F_EXCL, NetlinkMessage } from './message.js';
import { NetlinkSession } from './session.js';
import { UsageError } from '../errors.js';

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const IFF_UP = 0x1;
export const IFF_LOWER_UP = 0x10000;

export const IFLA_IFNAME = 3;
export const IFLA_LINKINFO = 18;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const VETH_INFO_PEER = 1;

export const IFINFOMSG_LEN = 16;

export interface IfInfoMsg {
  family?: number;
  type?: number;
  index?: number;
  flags?: number;
  change?: number;
}

export function encodeIfInfo(h: IfInfoMsg = {}): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(h.family ?? 0, 0);
  b.writeUInt16LE(h.type ?? 0, 2);
  b.writeInt32LE(h.index ?? 0, 4);
  b.writeUInt32LE(h.flags ?? 0, 8);
  b.writeUInt32LE(h.change ?? 0, 12);
  return b;
}

export function decodeIfInfo(b: Buffer): Required<IfInfoMsg> {
  return {
    family: b.readUInt8(0),
    type: b.readUInt16LE(2),
    index: b.readInt32LE(4),
    flags: b.readUInt32LE(8),
    change: b.readUInt32LE(12),
  };
}

export const linkInfoAttrs = attrCodec({
  // without a NUL, as ip(8) sends it
  kind: [1, 'text'],
  data: [2, 'binary'],
  slaveKind: [4, 'string'],
  slaveData: [5, 'binary'],
});

export const linkAttrs = attrCodec({
  address: [1, 'binary'],
  broadcast: [2, 'binary'],
  name: [3, 'string'],
  mtu: [4, 'u32'],
  link: [5, 'u32'],
  master: [10, 'u32'],
  operstate: [16, 'u8'],
  linkInfo: [18, linkInfoAttrs],
  netnsId: [37, 's32'],
});

const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;

export interface Link {
  index: number;
  name: string;
  /** ARPHRD_* hardware type. */
  type: number;
  flags: number;
  up: boolean;
  lowerUp: boolean;
  operstate: string;
  mtu?: number;
  address?: string;
  master?: number;
  kind?: string;
  slaveKind?: string;
  /** Raw IFLA_INFO_DATA for the plugin that owns this kind. */
  infoData?: Buffer;
  /** Raw IFLA_INFO_SLAVE_DATA for the plugin that owns the master's kind. */
  slaveData?: Buffer;
}

export function formatMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function decodeLink(msg: NetlinkMessage): Link {
  const h = decodeIfInfo(msg.data);
  const a = linkAttrs.decode(msg.data.subarray(IFINFOMSG_LEN));
  return {
    index: h.index,
    name: a.name ?? `if${h.index}`,
    type: h.type,
    flags: h.flags,
    up: (h.flags & IFF_UP) !== 0,
    lowerUp: (h.flags & IFF_LOWER_UP) !== 0,
    operstate: OPERSTATES[a.operstate ?? 0] ?? 'unknown',
    mtu: a.mtu,
    address: a.address ? formatMac(a.address) : undefined,
    master: a.master || undefined,
    kind: a.linkInfo?.kind,
    slaveKind: a.linkInfo?.slaveKind,
    infoData: a.linkInfo?.data,
    slaveData: a.linkInfo?.slaveData,
  };
}

const rtnl = (): NetlinkSession => NetlinkSession.get(NETLINK_ROUTE);

export async function listLinks(): Promise<Link[]> {
  const msgs = await rtnl().dump({ type: RTM_GETLINK, payload: encodeIfInfo() });
  return msgs.filter((m) => m.type === RTM_NEWLINK).map(decodeLink);
}

/** One link by name; the error names the interface when it does not exist. */
export async function getLink(name: string): Promise<Link> {
  const msgs = await rtnl().request({
    type: RTM_GETLINK,
    payload: [encodeIfInfo(), linkAttrs.encode({ name })],
    context: { object: `interface ${name}`, messages: { ENODEV: `interface ${name} does not exist` } },
  });
  const msg = msgs.find((m) => m.type === RTM_NEWLINK);
  if (!msg) throw new Error(`interface ${name}: no reply`);
  return decodeLink(msg);
}

/** Create a veth pair `name` <-> `peer` in the current network namespace. */
export async function createVeth(name: string, peer: string): Promise<void> {
  const peerPayload = Buffer.concat([encodeIfInfo(), linkAttrs.encode({ name: peer })]);
  await rtnl().request({
    type: RTM_NEWLINK,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    payload: [
      encodeIfInfo(),
      linkAttrs.encode({ name }),
      encodeNested(IFLA_LINKINFO, [
        linkInfoAttrs.encode({ kind: 'veth' }),
        encodeNested(IFLA_INFO_DATA, [encodeAttr(VETH_INFO_PEER, peerPayload)]),
      ]),
    ],
    context: { object: `interface ${name}` },
  });
}

export async function setLinkUp(name: string, up: boolean): Promise<void> {
  const link = await getLink(name);
  await rtnl().request({
    type: RTM_NEWLINK,
    payload: encodeIfInfo({ index: link.index, flags: up ? IFF_UP : 0, change: IFF_UP }),
    context: { object: `interface ${name}` },
  });
}

export async function deleteLink(name: string): Promise<void> {
  await rtnl().request({
    type: RTM_DELLINK,
    payload: [encodeIfInfo(), linkAttrs.encode({ name })],
    context: { object: `interface ${name}`, messages: { ENODEV: `interface ${name} does not exist` } },
  });
}

/** IFNAMSIZ: 16 bytes with the terminating NUL. */
export const IFNAME_MAX_BYTES = 15;

/**
 * Why `name` cannot be an interface name, or undefined when the kernel takes it (dev_valid_name):
 * 1 to 15 bytes (UTF-8 counts bytes, not characters), not "." or "..", no "/", ":", spaces or
 * control characters.
 */
export function ifnameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > IFNAME_MAX_BYTES) return `it is ${bytes} bytes long (at most ${IFNAME_MAX_BYTES})`;
  if (name === '.' || name === '..') return `"${name}" is not allowed`;
  // eslint-disable-next-line no-control-regex
  if (/[/:\s\x00-\x1f\x7f]/u.test(name)) return 'it contains "/", ":", a space or a control character';
  return undefined;
}

/** The name, or a UsageError naming `what` and why the kernel would refuse it. */
export function checkIfname(name: string, what = 'interface'): string {
  const problem = ifnameProblem(name);
  if (problem) throw new UsageError(`${what} ${JSON.stringify(name)} is not an interface name: ${problem}`);
  return name;
}
