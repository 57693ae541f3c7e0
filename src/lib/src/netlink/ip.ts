/**
 * IP addresses as bytes and as text: the one codec every plugin uses.
 *
 * Parsing accepts exactly what inet_pton(3) accepts (glibc): IPv4 as four decimal parts without
 * leading zeros; IPv6 with "::" and an optional trailing dotted quad, hex in either case, no zone
 * index. Formatting writes exactly what inet_ntop(3) writes, which is what ip(8), ipvsadm and the
 * kernel's own text show: lower case, the longest run of two or more zero words as "::" (the first
 * of equal runs), and the IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) forms.
 * Both are tested against glibc over a generated corpus (src/lib/test/ip.test.ts).
 *
 * Both are written for speed, without regular expressions or intermediate strings: a restore
 * reads every address of a 100,000-route or 60,000-server state file.
 */

export type IpFamily = 'ipv4' | 'ipv6';

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export interface IpAddress {
  family: IpFamily;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  bytes: Buffer;
}

export interface IpPrefix extends IpAddress {
  prefixlen: number;
}

export const familyNumber = (f: IpFamily): number => (f === 'ipv4' ? AF_INET : AF_INET6);
export const familyName = (n: number): IpFamily | undefined => (n === AF_INET ? 'ipv4' : n === AF_INET6 ? 'ipv6' : undefined);

/** Parse text[start, end) as a dotted quad into out[at..at+4); false when it is not one. */
export function parseIpv4Into(text: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let part = 0;
  let digits = 0;
  let value = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 3) return false;
      out[at + part++] = value;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const group = new Int32Array(9);
const quad = new Uint8Array(4);

/** Parse text[start, end) as an IPv6 address into out[0..16); false when it is not one. */
export function parseIpv6Into(text: string, start: number, end: number, out: Uint8Array): boolean {
  const n = end;
  if (n - start < 2 || n - start > 45) return false;
  let count = 0;
  let gap = -1;
  let i = start;
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
    if (i === n) {
      out.fill(0, 0, 16);
      return true;
    }
  }
  while (i < n) {
    // one group: hex digits, or a dotted quad at the end
    let j = i;
    let value = 0;
    while (j < n) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      j++;
    }
    if (j < n && text.charCodeAt(j) === 46) {
      // a dotted quad: last, and two words
      if (!parseIpv4Into(text, i, n, quad, 0) || count > 6) return false;
      group[count++] = (quad[0]! << 8) | quad[1]!;
      group[count++] = (quad[2]! << 8) | quad[3]!;
      i = n;
      break;
    }
    if (j === i || j - i > 4 || count > 7) return false;
    group[count++] = value;
    if (j === n) { i = n; break; }
    if (text.charCodeAt(j) !== 58) return false;
    if (j + 1 < n && text.charCodeAt(j + 1) === 58) {
      if (gap !== -1) return false;
      gap = count;
      i = j + 2;
      if (i === n) break;
    } else {
      i = j + 1;
      if (i === n) return false; // a trailing single ":"
    }
  }
  if (gap === -1 ? count !== 8 : count > 7) return false;
  out.fill(0, 0, 16);
  const tail = gap === -1 ? 0 : count - gap;
  for (let k = 0; k < count; k++) {
    const pos = gap === -1 || k < gap ? k : 8 - tail + (k - gap);
    out[pos * 2] = group[k]! >> 8;
    out[pos * 2 + 1] = group[k]! & 0xff;
  }
  return true;
}

/**
 * Parse text[start, end) into out (16 bytes of room): the family, or undefined when it is not an
 * address. Nothing is allocated.
 */
export function parseIpInto(text: string, out: Uint8Array, start = 0, end = text.length): IpFamily | undefined {
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) === 58) return parseIpv6Into(text, start, end, out) ? 'ipv6' : undefined;
  }
  return parseIpv4Into(text, start, end, out, 0) ? 'ipv4' : undefined;
}

/** An IPv4 dotted quad or an IPv6 address (no zone, no prefix), or undefined. */
export function parseIp(text: string): IpAddress | undefined {
  const b = Buffer.allocUnsafe(16);
  const family = parseIpInto(text, b);
  if (!family) return undefined;
  return { family, bytes: family === 'ipv4' ? b.subarray(0, 4) : b };
}

const remembered = new Map<string, IpAddress | undefined>();
/**
 * parseIp, remembering the last few thousand results: for values that repeat (gateways, real
 * servers). The bytes are shared: do not modify them.
 */
export function parseIpCached(text: string): IpAddress | undefined {
  if (remembered.has(text)) return remembered.get(text);
  const ip = parseIp(text);
  if (remembered.size > 4096) remembered.clear();
  remembered.set(text, ip);
  return ip;
}

const words = new Uint16Array(8);

/** The longest run of two or more zero words in `words`: [start, length], start -1 for none. */
function zeroRun(): [number, number] {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  return bestLen < 2 ? [-1, 0] : [best, bestLen];
}

/** Does `words` hold an IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) address, as inet_ntop writes them? */
function embedsIpv4(): boolean {
  if (words[0] !== 0 || words[1] !== 0 || words[2] !== 0 || words[3] !== 0 || words[4] !== 0) return false;
  // ::ffff:a.b.c.d; and ::a.b.c.d when the zero run is exactly words 0 to 5 (glibc): with word 6
  // zero too the run is longer and the address is written in hex (::1, ::2)
  return words[5] === 0xffff || (words[5] === 0 && words[6] !== 0);
}

/** Address bytes (4 or 16) as inet_ntop(3) writes them. */
export function formatIp(bytes: Uint8Array, at = 0, length = bytes.length - at): string {
  if (length === 4) return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
  if (length !== 16) return Buffer.from(bytes.subarray(at, at + length)).toString('hex');
  for (let i = 0; i < 8; i++) words[i] = (bytes[at + i * 2]! << 8) | bytes[at + i * 2 + 1]!;
  const [best, bestLen] = zeroRun();
  let out = '';
  const v4 = embedsIpv4();
  const last = v4 ? 6 : 8;
  for (let i = 0; i < last; i++) {
    if (i === best) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += words[i]!.toString(16);
  }
  if (v4) {
    if (!out.endsWith(':')) out += ':';
    out += `${bytes[at + 12]}.${bytes[at + 13]}.${bytes[at + 14]}.${bytes[at + 15]}`;
  }
  return out;
}

/**
 * Is text[start, end) exactly what formatIp() writes for the IPv6 address in `bytes`? (A state
 * file written by ha is canonical already: its text is then kept instead of rebuilt.)
 */
export function isCanonicalIpv6(text: string, bytes: Uint8Array, start = 0, end = text.length): boolean {
  for (let i = 0; i < 8; i++) words[i] = (bytes[i * 2]! << 8) | bytes[i * 2 + 1]!;
  if (embedsIpv4()) return text.slice(start, end) === formatIp(bytes, 0, 16);
  const [best, bestLen] = zeroRun();
  let p = start;
  let afterColon = true;
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      if (text.charCodeAt(p) !== 58 || text.charCodeAt(p + 1) !== 58) return false;
      p += 2;
      i += bestLen - 1;
      afterColon = true;
      continue;
    }
    if (p > start && !afterColon) {
      if (text.charCodeAt(p) !== 58) return false;
      p++;
    }
    const w = words[i]!;
    let started = false;
    for (let shift = 12; shift >= 0; shift -= 4) {
      const d = (w >> shift) & 15;
      if (!started && d === 0 && shift > 0) continue;
      started = true;
      if (text.charCodeAt(p) !== (d < 10 ? 48 + d : 87 + d)) return false;
      p++;
    }
    afterColon = false;
  }
  return p === end;
}

/** The canonical (inet_ntop) text of an address, or undefined when it is not one. */
export function canonicalIp(text: string): { family: IpFamily; text: string } | undefined {
  const ip = parseIp(text);
  return ip ? { family: ip.family, text: formatIp(ip.bytes) } : undefined;
}

/** An IPv4 dotted quad as an unsigned 32-bit number, or -1 for anything else (leading zeros too). */
export function ipv4Number(text: string): number {
  if (!parseIpv4Into(text, 0, text.length, quad, 0)) return -1;
  return ((quad[0]! << 24) >>> 0) + (quad[1]! << 16) + (quad[2]! << 8) + quad[3]!;
}

const v4Texts = new Map<number, string>();
/** The dotted quad of an unsigned 32-bit number (remembered: tables repeat their addresses). */
export function ipv4Text(n: number): string {
  let t = v4Texts.get(n);
  if (t === undefined) {
    t = `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    if (v4Texts.size >= 65_536) v4Texts.clear();
    v4Texts.set(n, t);
  }
  return t;
}

/** Numeric order of two addresses (IPv4 before IPv6; text order for anything else). */
export function compareIp(a: string, b: string): number {
  const na = ipv4Number(a);
  const nb = ipv4Number(b);
  if (na >= 0 && nb >= 0) return na - nb;
  const pa = parseIpCached(a);
  const pb = parseIpCached(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.bytes.length !== pb.bytes.length) return pa.bytes.length - pb.bytes.length;
  return Buffer.compare(pa.bytes, pb.bytes);
}

/** "192.0.2.10:80", "[2001:db8::1]:443": an address and port as people and ipvsadm write them. */
export function hostPort(family: IpFamily, address: string, port: number): string {
  return family === 'ipv6' ? `[${address}]:${port}` : `${address}:${port}`;
}

/** An address for a message: IPv6 in brackets, so that a port or a colon after it reads right. */
export function ipForText(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
