/**
 * IP addresses as bytes and as text. Text is what glibc's inet_ntop prints (so our output matches
 * ipvsadm's), parsing accepts what inet_pton accepts, and comparison is numeric.
 */
import { type IpAddress, formatIp, parseIp } from '@ha/lib/netlink';
import type { Family } from './model.js';

export type ParsedAddress = IpAddress;

/** An IPv4 or IPv6 address as bytes (the shared library's parser). */
export const parseAddress = (text: string): ParsedAddress | undefined => parseIp(text);

const V4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** The family and inet_ntop text of an address, or undefined; IPv4 without building bytes. */
export function canonicalAddress(text: string): { family: Family; address: string } | undefined {
  const m = V4.exec(text);
  if (m) {
    const parts = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    return parts.every((n) => n <= 255) ? { family: 'ipv4', address: parts.join('.') } : undefined;
  }
  const p = parseAddress(text);
  return p ? { family: p.family, address: formatAddress(p.bytes) } : undefined;
}

/** inet_ntop text of address bytes (the shared library's formatter). */
export const formatAddress = (bytes: Uint8Array): string => formatIp(bytes);

/** The kernel's 16-byte union nf_inet_addr for an address (IPv4 in the first 4 bytes). */
export function toInetAddr(address: string): Buffer {
  const p = parseAddress(address);
  if (!p) throw new Error(`not an IP address: ${address}`);
  const out = Buffer.alloc(16);
  p.bytes.copy(out);
  return out;
}

export function fromInetAddr(buf: Buffer, family: Family): string {
  return formatAddress(family === 'ipv4' ? buf.subarray(0, 4) : buf.subarray(0, 16));
}

/** Numeric comparison of two addresses of the same family (IPv4 before IPv6 otherwise). */
export function compareAddress(a: string, b: string): number {
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.bytes.length !== pb.bytes.length) return pa.bytes.length - pb.bytes.length;
  return Buffer.compare(pa.bytes, pb.bytes);
}
