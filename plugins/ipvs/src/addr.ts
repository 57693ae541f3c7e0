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

const v4Texts = new Map<number, string>();

/** The dotted quad of an IPv4 address given as an unsigned 32-bit number (a table repeats its addresses: cached). */
export function ipv4Text(n: number): string {
  let t = v4Texts.get(n);
  if (t === undefined) {
    t = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    if (v4Texts.size >= 65_536) v4Texts.clear();
    v4Texts.set(n, t);
  }
  return t;
}

/** inet_ntop text of address bytes (the shared library's formatter). */
export const formatAddress = (bytes: Uint8Array): string => formatIp(bytes);

const inetCache = new Map<string, Buffer>();

/**
 * The kernel's 16-byte union nf_inet_addr for an address (IPv4 in the first 4 bytes). Shared per
 * address (a table repeats its addresses; requests only read them): do not write to the result.
 */
export function toInetAddr(address: string): Buffer {
  let out = inetCache.get(address);
  if (out) return out;
  const p = parseAddress(address);
  if (!p) throw new Error(`not an IP address: ${address}`);
  out = Buffer.alloc(16);
  p.bytes.copy(out);
  if (inetCache.size >= 65_536) inetCache.clear();
  inetCache.set(address, out);
  return out;
}

/** An IPv4 dotted quad as an unsigned 32-bit number, or -1 for anything else. */
export function v4Number(text: string): number {
  let n = 0;
  let part = -1;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (part < 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = -1;
    } else if (c >= 48 && c <= 57) {
      part = part < 0 ? c - 48 : part * 10 + c - 48;
      if (part > 255) return -1;
    } else {
      return -1;
    }
  }
  return dots === 3 && part >= 0 ? n * 256 + part : -1;
}

export function fromInetAddr(buf: Buffer, family: Family): string {
  return formatAddress(family === 'ipv4' ? buf.subarray(0, 4) : buf.subarray(0, 16));
}

/** Numeric comparison of two addresses of the same family (IPv4 before IPv6 otherwise). */
export function compareAddress(a: string, b: string): number {
  const na = v4Number(a);
  const nb = v4Number(b);
  if (na >= 0 && nb >= 0) return na - nb;
  const pa = parseAddress(a);
  const pb = parseAddress(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.bytes.length !== pb.bytes.length) return pa.bytes.length - pb.bytes.length;
  return Buffer.compare(pa.bytes, pb.bytes);
}
