/**
 * IPVS's own form of addresses: the kernel's 16-byte union nf_inet_addr (IPv4 in its first four
 * bytes). Address text itself is the shared codec's (@ha/lib ip.ts: inet_pton/inet_ntop, numeric
 * order).
 */
import { formatIp, parseIpCached } from '@ha/lib/netlink';
import type { Family } from './model.js';

const inetCache = new Map<string, Buffer>();

/**
 * The nf_inet_addr for an address. Shared per address (a table repeats its addresses; requests
 * only read them): do not write to the result.
 */
export function toInetAddr(address: string): Buffer {
  let out = inetCache.get(address);
  if (out) return out;
  const p = parseIpCached(address);
  if (!p) throw new Error(`not an IP address: ${address}`);
  out = Buffer.alloc(16);
  p.bytes.copy(out);
  if (inetCache.size >= 65_536) inetCache.clear();
  inetCache.set(address, out);
  return out;
}

export function fromInetAddr(buf: Buffer, family: Family): string {
  return formatIp(buf, 0, family === 'ipv4' ? 4 : 16);
}
