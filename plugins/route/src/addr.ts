/**
 * Route destinations as text: "default", "PREFIX/LEN" or an address, checked and made canonical
 * without allocating (a restore reads every destination of a 100,000-route state file), on the
 * shared IP codec (@ha/lib ip.ts).
 */
import { formatIp, isCanonicalIpv6, parseIpv4Into, parseIpv6Into } from '@ha/lib/netlink';

const scratch = Buffer.alloc(16);

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
  const ok = f === 'ipv6' ? parseIpv6Into(addr, 0, addr.length, scratch) : parseIpv4Into(addr, 0, addr.length, scratch, 0);
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
    && (f === 'ipv4' || isCanonicalIpv6(text, scratch, 0, slash))) {
    return { family: f, prefixlen: len, text };
  }
  return { family: f, prefixlen: len, text: `${formatIp(scratch, 0, f === 'ipv4' ? 4 : 16)}/${len}` };
}

/** Write a destination's address bytes (already checked by scanDestination) at `off`. */
export function writeDestination(text: string, out: Buffer, off: number): void {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  if (addr.includes(':')) parseIpv6Into(addr, 0, addr.length, scratch);
  else parseIpv4Into(addr, 0, addr.length, scratch, 0);
  scratch.copy(out, off, 0, addr.includes(':') ? 16 : 4);
}
