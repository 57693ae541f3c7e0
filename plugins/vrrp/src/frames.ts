/**
 * The announcements a new master sends so that neighbours move a VIP to its MAC at once: a
 * gratuitous ARP for IPv4 (a whole Ethernet frame, for an AF_PACKET SOCK_RAW socket) and an
 * unsolicited Neighbor Advertisement for IPv6 (the ICMPv6 message only, for a raw ICMPv6 socket,
 * which fills in the checksum). Both are laid out as keepalived 2.2.7 sends them, checked against
 * frames captured from it (test/packet.test.ts).
 */
import { UsageError } from '@ha/lib';
import { parseIpInto } from '@ha/lib/netlink';

/** Where unsolicited neighbour advertisements go (RFC 4861). */
export const ALL_NODES_V6 = 'ff02::1';

const ETH_ALEN = 6;
/** The shortest Ethernet frame without its FCS: a shorter one is padded with zeros. */
const MIN_FRAME = 60;
const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV4 = 0x0800;
const ARPHRD_ETHER = 1;
const ARPOP_REQUEST = 1;
const ND_NEIGHBOR_ADVERT = 136;
const NA_FLAG_OVERRIDE = 0x20;
const ND_OPT_TARGET_LINKADDR = 2;

function checkMac(mac: Uint8Array): void {
  if (mac.length !== ETH_ALEN) throw new RangeError(`a MAC address has 6 bytes, not ${mac.length}`);
}

function addressBytes(text: string, family: 'ipv4' | 'ipv6'): Uint8Array {
  const out = new Uint8Array(16);
  if (parseIpInto(text, out) !== family) throw new RangeError(`${JSON.stringify(text)} is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
  return family === 'ipv4' ? out.subarray(0, 4) : out;
}

/**
 * A gratuitous ARP for `vip` from `sourceMac`, as a complete Ethernet frame padded to 60 bytes:
 * broadcast, an ARP request whose sender and target IP are both the VIP and whose sender MAC is
 * ours. The target MAC is ff:ff:ff:ff:ff:ff, as keepalived 2.2.7 sends it (captured; RFC 5227
 * would have zeros, which receivers ignore either way).
 */
export function garpFrame(sourceMac: Uint8Array, vip: string): Uint8Array {
  checkMac(sourceMac);
  const ip = addressBytes(vip, 'ipv4');
  const f = new Uint8Array(MIN_FRAME);
  f.fill(0xff, 0, 6); // destination: broadcast
  f.set(sourceMac, 6);
  f[12] = ETHERTYPE_ARP >> 8;
  f[13] = ETHERTYPE_ARP & 0xff;
  // ARP: hardware Ethernet, protocol IPv4, lengths 6 and 4, request
  f[15] = ARPHRD_ETHER;
  f[16] = ETHERTYPE_IPV4 >> 8;
  f[17] = ETHERTYPE_IPV4 & 0xff;
  f[18] = ETH_ALEN;
  f[19] = 4;
  f[21] = ARPOP_REQUEST;
  f.set(sourceMac, 22); // sender MAC
  f.set(ip, 28); // sender IP
  f.fill(0xff, 32, 38); // target MAC
  f.set(ip, 38); // target IP; 42..59 stay zero (padding)
  return f;
}

/**
 * The ICMPv6 message of an unsolicited Neighbor Advertisement for `vip` at `mac` (32 bytes):
 * type 136, code 0, checksum left 0 for the kernel, Override set and Solicited/Router clear,
 * the target, and a Target Link-Layer Address option. Sent to ALL_NODES_V6 with hop limit 255;
 * keepalived sends it from the VIP itself.
 */
export function unsolicitedNa(vip: string, mac: Uint8Array): Uint8Array {
  checkMac(mac);
  const target = addressBytes(vip, 'ipv6');
  const m = new Uint8Array(32);
  m[0] = ND_NEIGHBOR_ADVERT;
  m[4] = NA_FLAG_OVERRIDE;
  m.set(target, 8);
  m[24] = ND_OPT_TARGET_LINKADDR;
  m[25] = 1; // option length in units of 8 bytes
  m.set(mac, 26);
  return m;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** "02:00:5e:00:01:0a" (or with "-", either case, one or two digits a part) as 6 bytes. */
export function parseMac(text: string): Uint8Array {
  const out = new Uint8Array(ETH_ALEN);
  const bad = (): never => {
    throw new UsageError(`not a MAC address: ${JSON.stringify(text)} (expected six hex bytes like 02:00:5e:00:01:0a)`);
  };
  if (text.length > 17) bad();
  let part = 0;
  let digits = 0;
  let value = 0;
  let separator = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? -1 : text.charCodeAt(i);
    if (c === 58 || c === 45 || c === -1) {
      if (digits === 0 || part >= ETH_ALEN) bad();
      if (c !== -1) {
        if (separator !== 0 && c !== separator) bad();
        separator = c;
      }
      out[part++] = value;
      digits = 0;
      value = 0;
      continue;
    }
    const h = hexDigit(c);
    if (h < 0 || ++digits > 2) bad();
    value = value * 16 + h;
  }
  if (part !== ETH_ALEN) bad();
  return out;
}

/** Bytes as a MAC address: lower-case hex pairs joined by ":". */
export function formatMac(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += (i === 0 ? '' : ':') + bytes[i]!.toString(16).padStart(2, '0');
  return out;
}
