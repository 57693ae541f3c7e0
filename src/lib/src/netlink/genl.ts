/**
 * Generic netlink: the genlmsghdr, family resolution through the controller (kept per netlink
 * handle, and looked up again when the kernel no longer knows the id), and a small helper to send
 * commands with typed attributes.
 */
import { UnavailableError } from '../errors.js';
import { attrCodec, parseAttrs } from './attr.js';
import { NetlinkError } from './errno.js';
import { NETLINK_GENERIC, NetlinkMessage } from './message.js';
import { NetlinkHandle, defaultHandle } from './handle.js';
import { Request } from './session.js';

export const GENL_HDRLEN = 4;
export const GENL_ID_CTRL = 16;
export const CTRL_CMD_GETFAMILY = 3;

const mcastGroup = attrCodec({ name: [1, 'string'], id: [2, 'u32'] });
export const ctrlAttrs = attrCodec({
  familyId: [1, 'u16'],
  familyName: [2, 'string'],
  version: [3, 'u32'],
  hdrSize: [4, 'u32'],
  maxAttr: [5, 'u32'],
  mcastGroups: [7, mcastGroup, 'array'],
});

export interface GenlFamily {
  name: string;
  id: number;
  version: number;
  hdrSize: number;
  maxAttr: number;
  mcastGroups: Record<string, number>;
}

const headers = new Map<number, Buffer>();

/** The genl header for a command; shared (request payloads are only ever read). */
export function genlHeader(cmd: number, version: number): Buffer {
  const key = (cmd << 8) | version;
  let b = headers.get(key);
  if (!b) {
    b = Buffer.alloc(GENL_HDRLEN);
    b.writeUInt8(cmd, 0);
    b.writeUInt8(version, 1);
    headers.set(key, b);
  }
  return b;
}

export interface GenlMessage {
  cmd: number;
  version: number;
  /** The attributes after the genl header (and any family header). */
  attrs: Buffer;
}

export function parseGenl(msg: NetlinkMessage, hdrSize = 0): GenlMessage {
  return {
    cmd: msg.data.readUInt8(0),
    version: msg.data.readUInt8(1),
    attrs: msg.data.subarray(GENL_HDRLEN + hdrSize),
  };
}

/**
 * Resolve a generic netlink family by name, once per handle. A family the kernel does not have
 * gives an UnavailableError carrying `hint` (for example how to load the module).
 */
export function resolveFamily(name: string, hint?: string, handle: NetlinkHandle = defaultHandle()): Promise<GenlFamily> {
  let p = handle.families.get(name) as Promise<GenlFamily> | undefined;
  if (!p) {
    p = lookupFamily(name, hint, handle);
    handle.families.set(name, p);
    p.catch(() => handle.families.delete(name));
  }
  return p;
}

/**
 * Run `fn` with the family; when the kernel answers ENOENT (which it also gives for an id it no
 * longer has: the module was reloaded and got a new one), look the family up again, and run `fn`
 * once more if the id changed. A genuine ENOENT (no such object) is thrown as it is.
 */
export async function withFamily<T>(name: string, hint: string | undefined, fn: (f: GenlFamily) => Promise<T>, handle: NetlinkHandle = defaultHandle()): Promise<T> {
  const f = await resolveFamily(name, hint, handle);
  try {
    return await fn(f);
  } catch (error) {
    if (!(error instanceof NetlinkError) || error.errnoName !== 'ENOENT') throw error;
    handle.families.delete(name);
    const again = await resolveFamily(name, hint, handle);
    if (again.id === f.id) throw error;
    return fn(again);
  }
}

async function lookupFamily(name: string, hint: string | undefined, handle: NetlinkHandle): Promise<GenlFamily> {
  const session = handle.session(NETLINK_GENERIC);
  let replies: NetlinkMessage[];
  try {
    replies = await session.request({
      type: GENL_ID_CTRL,
      payload: [genlHeader(CTRL_CMD_GETFAMILY, 1), ctrlAttrs.encode({ familyName: name })],
      context: { object: `generic netlink family ${name}` },
    });
  } catch (error) {
    if (error instanceof NetlinkError && error.errnoName === 'ENOENT') {
      throw new UnavailableError(`generic netlink family ${name} is not available in this kernel${hint ? `: ${hint}` : ''}`);
    }
    throw error;
  }
  const reply = replies[0];
  if (!reply) throw new UnavailableError(`generic netlink family ${name}: the controller sent no reply`);
  const a = ctrlAttrs.decode(parseGenl(reply).attrs);
  if (a.familyId === undefined) throw new UnavailableError(`generic netlink family ${name}: reply without a family id`);
  const groups: Record<string, number> = {};
  for (const g of a.mcastGroups ?? []) if (g.name !== undefined && g.id !== undefined) groups[g.name] = g.id;
  return {
    name,
    id: a.familyId,
    version: a.version ?? 1,
    hdrSize: a.hdrSize ?? 0,
    maxAttr: a.maxAttr ?? 0,
    mcastGroups: groups,
  };
}

/** Build a request for a resolved family. */
export function genlRequest(family: GenlFamily, cmd: number, attrs: Buffer, extra: Omit<Request, 'type' | 'payload'> = {}, version = family.version): Request {
  return { ...extra, type: family.id, payload: [genlHeader(cmd, version), attrs] };
}

export { parseAttrs };
