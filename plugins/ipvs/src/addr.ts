/**
 * IP addresses as bytes and as text. Text is what glibc's inet_ntop prints (so our output matches
 * ipvsadm's), parsing accepts what inet_pton accepts, and comparison is numeric.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Family } from './model.js';

export interface ParsedAddress {
  family: Family;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  bytes: Buffer;
}

function v4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

export function parseAddress(text: string): ParsedAddress | undefined {
  if (isIPv4(text) && /^\d+\.\d+\.\d+\.\d+$/.test(text)) return { family: 'ipv4', bytes: v4Bytes(text) };
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let head = text;
  let tailV4: Buffer | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = v4Bytes(text.slice(lastColon + 1));
    head = `${text.slice(0, lastColon + 1)}${tailV4.readUInt16BE(0).toString(16)}:${tailV4.readUInt16BE(2).toString(16)}`;
  }
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const words = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  const bytes = Buffer.alloc(16);
  words.forEach((w, i) => bytes.writeUInt16BE(Number.parseInt(w, 16), i * 2));
  return { family: 'ipv6', bytes };
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

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

/** inet_ntop: IPv4 dotted quad; IPv6 with the longest run of zero words (2 or more) as ::. */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const b = Buffer.from(bytes);
  const words = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { bestBase = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // an embedded IPv4 address: ::a.b.c.d (compatible) or ::ffff:a.b.c.d (mapped)
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += [...b.subarray(12)].join('.');
      break;
    }
    out += words[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

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
