/**
 * Netlink message framing: `struct nlmsghdr` and the control messages (ERROR, DONE).
 */
import { align4 } from './attr.js';

export const NLMSG_HDRLEN = 16;

export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

/** Extended ACK attributes that may follow an NLMSG_ERROR payload (when the socket asked for them). */
export const NLMSGERR_ATTR_MSG = 1;

export interface NetlinkHeader {
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export interface NetlinkMessage extends NetlinkHeader {
  /** Payload after the 16-byte header (a view into the datagram). */
  data: Buffer;
}

/** Frame one message. `parts` are concatenated as the payload. */
export function encodeMessage(header: NetlinkHeader, ...parts: Uint8Array[]): Buffer {
  const payloadLen = parts.reduce((n, p) => n + p.length, 0);
  const len = NLMSG_HDRLEN + payloadLen;
  const out = Buffer.alloc(align4(len));
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(header.type, 4);
  out.writeUInt16LE(header.flags, 6);
  out.writeUInt32LE(header.seq >>> 0, 8);
  out.writeUInt32LE(header.pid >>> 0, 12);
  let off = NLMSG_HDRLEN;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Split one datagram into its messages. Stops at a truncated tail rather than reading past it. */
export function parseMessages(buf: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      data: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** The errno of an NLMSG_ERROR message (0 for an ACK), as a positive number. */
export function errorCode(msg: NetlinkMessage): number {
  if (msg.data.length < 4) return 0;
  return -msg.data.readInt32LE(0);
}

/** The extended-ack text of an NLMSG_ERROR message, if the kernel included one. */
export function extAckMessage(msg: NetlinkMessage): string | undefined {
  if (!(msg.flags & NLM_F_ACK_TLVS) || msg.data.length < 4 + NLMSG_HDRLEN) return undefined;
  const origLen = msg.data.readUInt32LE(4);
  const skip = 4 + (msg.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(origLen));
  let off = skip;
  while (off + 4 <= msg.data.length) {
    const len = msg.data.readUInt16LE(off);
    const type = msg.data.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4) break;
    if (type === NLMSGERR_ATTR_MSG) {
      const s = msg.data.subarray(off + 4, off + len);
      const nul = s.indexOf(0);
      return s.subarray(0, nul === -1 ? s.length : nul).toString('utf8');
    }
    off += align4(len);
  }
  return undefined;
}
