/**
 * Address text to bytes, fast: a restore reads every destination of a 100,000-route state file,
 * and the general parser (regular expressions, several passes) was the largest cost of planning.
 * This one reads the text in one pass without regular expressions, accepts what inet_pton(3)
 * accepts (IPv4 dotted quads without leading zeros; IPv6 with "::" and a trailing dotted quad, no
 * zone), and remembers the last few thousand results, since gateways repeat.
 */
import { formatIp, type IpAddress } from '@ha/lib/netlink';

function v4(text: string, start: number, end: number, out: Buffer, at: number): boolean {
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
const quad = Buffer.alloc(4);

function v6(text: string, out: Buffer): boolean {
  const n = text.length;
  if (n < 2 || n > 45) return false;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) {
      out.fill(0);
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
      // dotted quad: must be last, and take two words
      if (!v4(text, i, n, quad, 0) || count > 6) return false;
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
      if (i === n) return false; // trailing single ":"
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

/** Parse without remembering (destinations are all different). */
export function parseAddressOnce(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const b = Buffer.allocUnsafe(16);
    return v6(text, b) ? { family: 'ipv6', bytes: b } : undefined;
  }
  const b = Buffer.allocUnsafe(4);
  return v4(text, 0, text.length, b, 0) ? { family: 'ipv4', bytes: b } : undefined;
}

const remembered = new Map<string, IpAddress | undefined>();
/** Parse, remembering the result (gateways, sources: few distinct values). Do not modify the bytes. */
export function parseAddress(text: string): IpAddress | undefined {
  if (remembered.has(text)) return remembered.get(text);
  const ip = parseAddressOnce(text);
  if (remembered.size > 4096) remembered.clear();
  remembered.set(text, ip);
  return ip;
}

const scratch = Buffer.alloc(16);
const words = new Uint16Array(8);

/**
 * Check a destination ("default", "PREFIX/LEN" or an address) without allocating: its family,
 * prefix length and canonical text (as the kernel's routes read back), or a reason it is wrong.
 */
export function scanDestination(text: string, family: 'ipv4' | 'ipv6' | undefined):
  { family: 'ipv4' | 'ipv6'; prefixlen: number; text: string } | { error: string } {
  if (text === 'default') return { family: family ?? 'ipv4', prefixlen: 0, text: 'default' };
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  const f = addr.includes(':') ? 'ipv6' : 'ipv4';
  const ok = f === 'ipv6' ? v6(addr, scratch) : v4(addr, 0, addr.length, scratch, 0);
  if (!ok) return { error: `not a destination: ${JSON.stringify(text)} (expected default, an IPv4/IPv6 prefix such as 192.0.2.0/24 or 2001:db8::/32, or an address)` };
  if (family && family !== f) return { error: `destination ${text} is not ${family === 'ipv4' ? 'IPv4' : 'IPv6'}` };
  const max = f === 'ipv4' ? 32 : 128;
  let len = max;
  if (slash !== -1) {
    len = 0;
    const n = text.length - slash - 1;
    if (n < 1 || n > 3) len = -1;
    for (let i = slash + 1; i < text.length && len >= 0; i++) {
      const c = text.charCodeAt(i);
      len = c >= 48 && c <= 57 ? len * 10 + c - 48 : -1;
    }
    if (len < 0 || len > max) return { error: `bad prefix length in ${JSON.stringify(text)}: expected 0 to ${max}` };
  }
  const bytes = max >> 3;
  const whole = len >> 3;
  const rest = len & 7;
  let host = rest !== 0 && (scratch[whole]! & (0xff >> rest)) !== 0;
  for (let i = whole + (rest ? 1 : 0); i < bytes && !host; i++) if (scratch[i]) host = true;
  if (host) return { error: `destination ${text} has host bits set` };
  if (len === 0) return { family: f, prefixlen: 0, text: 'default' };
  // already canonical (what ha save writes): keep the text, build no new string. A dotted quad
  // that parsed has no other spelling; a length is canonical without leading zeros.
  if (slash !== -1 && (text.charCodeAt(slash + 1) !== 48 || slash + 2 === text.length)
    && (f === 'ipv4' || v6IsCanonical(text, slash))) {
    return { family: f, prefixlen: len, text };
  }
  return { family: f, prefixlen: len, text: `${f === 'ipv4' ? `${scratch[0]}.${scratch[1]}.${scratch[2]}.${scratch[3]}` : v6Text(scratch)}/${len}` };
}

/** IPv6 bytes as inet_ntop(3) writes them (longest run of two or more zero words as "::"). */
function v6Text(b: Buffer): string {
  for (let i = 0; i < 8; i++) words[i] = (b[i * 2]! << 8) | b[i * 2 + 1]!;
  // IPv4-mapped and -compatible forms keep the general formatter's output
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && (words[5] === 0xffff || (words[5] === 0 && words[6] !== 0))) {
    return fallbackText(b);
  }
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += words[i]!.toString(16);
  }
  return out;
}

/** Is text[0, end) exactly what v6Text() would write for the address in scratch? */
function v6IsCanonical(text: string, end: number): boolean {
  for (let i = 0; i < 8; i++) words[i] = (scratch[i * 2]! << 8) | scratch[i * 2 + 1]!;
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && (words[5] === 0xffff || (words[5] === 0 && words[6] !== 0))) {
    return false;
  }
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let p = 0;
  let afterColon = true;
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      if (text.charCodeAt(p) !== 58 || text.charCodeAt(p + 1) !== 58) return false;
      p += 2;
      i += bestLen - 1;
      afterColon = true;
      continue;
    }
    if (p > 0 && !afterColon) {
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

const fallbackText = (b: Buffer): string => formatIp(Buffer.from(b));

/** Write a destination's address bytes (already checked by scanDestination) at `off`. */
export function writeDestination(text: string, out: Buffer, off: number): void {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  if (addr.includes(':')) v6(addr, scratch);
  else v4(addr, 0, addr.length, scratch, 0);
  scratch.copy(out, off, 0, addr.includes(':') ? 16 : 4);
}
