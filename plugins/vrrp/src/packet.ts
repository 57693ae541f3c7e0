/**
 * The VRRP advertisement on the wire, both versions, without sockets: encode what we send, parse
 * what arrives, and the per-instance checks keepalived makes before it believes an advert.
 *
 * - VRRPv2 (RFC 3768): vers/type 0x21, VRID, priority, count, auth type, advert interval in whole
 *   seconds, a checksum over the VRRP message alone, IPv4 addresses, then 8 bytes of auth data
 *   (a zero-padded password for type 1, as keepalived cuts it to 8 bytes).
 * - VRRPv3 (RFC 5798): vers/type 0x31, VRID, priority, count, 4 reserved bits and a 12-bit
 *   interval in centiseconds, and a checksum that covers the IPv4 or IPv6 pseudo-header (source,
 *   destination, protocol 112, length) too; keepalived rejects a v3-over-IPv4 advert whose
 *   checksum leaves the pseudo-header out ("Invalid VRRPv3 checksum").
 *
 * parseAdvert runs for every packet the raw socket delivers, hostile ones included: it never
 * throws, reads bytes by index, allocates nothing on the drop path but its result, and remembers
 * the pseudo-header sum of the last source/destination pair (a LAN has few masters). Its checks
 * run in a fixed order, so that a packet wrong in two ways always counts under the same reason.
 */
import { formatIp, parseIpInto } from '@ha/lib/netlink';
import {
  AUTH_AH,
  AUTH_NONE,
  AUTH_PASS,
  type Advert,
  type DropReason,
  type Family,
  type ParseResult,
  type Received,
  type VrrpVersion,
} from './types.js';

export const VRRP_PROTOCOL = 112;
export const VRRP_GROUP_V4 = '224.0.0.18';
export const VRRP_GROUP_V6 = 'ff02::12';
/** keepalived carries at most 20 addresses in a VRRPv2 advert (the rest are still configured). */
export const MAX_V2_ADDRESSES = 20;

const HEADER_LEN = 8;
const AUTH_LEN = 8;
/** Larger than any advert a 1500-byte link can carry: refused before anything is read. */
const MAX_PACKET = 1500;
const MAX_V3_INTERVAL_CS = 0x0fff;
const MAX_V2_INTERVAL_S = 255;

const addressLength = (family: Family): number => (family === 4 ? 4 : 16);

// ---- checksums ----

/**
 * The sum of b[start, end) as 16-bit big-endian words, added to acc, unfolded: at most 1,500
 * bytes and a pseudo-header stay far below 2^32.
 */
function sum16(b: Uint8Array, start: number, end: number, acc: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if (i < end) acc += b[i]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

const scratch = new Uint8Array(16);

/**
 * The unfolded sum of source and destination addresses for the pseudo-header, or -1 when either
 * is not an address of `family`. Protocol and length are added by the caller.
 */
function addressPairSum(family: Family, source: string, destination: string): number {
  const name = family === 4 ? 'ipv4' : 'ipv6';
  const len = addressLength(family);
  if (parseIpInto(source, scratch) !== name) return -1;
  let acc = sum16(scratch, 0, len, 0);
  if (parseIpInto(destination, scratch) !== name) return -1;
  acc = sum16(scratch, 0, len, acc);
  return acc;
}

let cachedFamily = 0;
let cachedSource = '';
let cachedDestination = '';
let cachedSum = -1;

function cachedPairSum(family: Family, source: string, destination: string): number {
  if (family !== cachedFamily || source !== cachedSource || destination !== cachedDestination) {
    cachedSum = addressPairSum(family, source, destination);
    cachedFamily = family;
    cachedSource = source;
    cachedDestination = destination;
  }
  return cachedSum;
}

/**
 * The VRRPv3 pseudo-header sum (IPv4: src, dst, zero, protocol, 16-bit length; IPv6: src, dst,
 * 32-bit length, three zeros, next header); as sums of words both come to the same terms.
 */
const pseudoHeaderSum = (pairSum: number, length: number): number => pairSum + VRRP_PROTOCOL + length;

// ---- encoding ----

function fail(message: string): never {
  throw new RangeError(`cannot encode VRRP advert: ${message}`);
}

/** Write the address (optionally followed by "/prefixlen", which is checked and dropped) at `at`. */
function writeAddress(out: Uint8Array, at: number, text: string, family: Family): void {
  const slash = text.indexOf('/');
  const end = slash === -1 ? text.length : slash;
  const name = family === 4 ? 'ipv4' : 'ipv6';
  if (parseIpInto(text, scratch, 0, end) !== name) fail(`${JSON.stringify(text)} is not an IPv${family} address`);
  if (slash !== -1) {
    const len = text.slice(slash + 1);
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(len) || Number(len) > max) fail(`bad prefix length in ${JSON.stringify(text)}`);
  }
  out.set(scratch.subarray(0, addressLength(family)), at);
}

function checkByte(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 255) fail(`${name} ${value} is not ${min} to 255`);
}

/**
 * The VRRP payload (no IP header) of an advert. `source` and `destination` are the IP header's
 * addresses, used for the VRRPv3 pseudo-header (ignored by v2). An address in `a.addresses` may
 * carry a prefix length ("192.0.2.100/24"), which is left out. Throws a RangeError for an advert
 * that cannot be put on the wire: VRRPv2 with IPv6, more than 255 addresses or more than 1500
 * bytes, an interval the version cannot express (v2: whole seconds 1-255; v3: 1-4095 cs), auth
 * other than none/PASS (v2) or any auth (v3).
 */
export function encodeAdvert(a: Advert, source: string, destination: string): Uint8Array {
  if (a.version !== 2 && a.version !== 3) fail(`version ${String(a.version)} is not 2 or 3`);
  if (a.family !== 4 && a.family !== 6) fail(`family ${String(a.family)} is not 4 or 6`);
  if (a.version === 2 && a.family === 6) fail('VRRPv2 carries IPv4 addresses only');
  checkByte('VRID', a.vrid, 1);
  checkByte('priority', a.priority, 0);
  const count = a.addresses.length;
  if (count > 255) fail(`${count} addresses, at most 255 fit the count field`);
  const alen = addressLength(a.family);
  const length = HEADER_LEN + count * alen + (a.version === 2 ? AUTH_LEN : 0);
  if (length > MAX_PACKET) fail(`${count} IPv${a.family} addresses make ${length} bytes, more than ${MAX_PACKET}`);

  const out = new Uint8Array(length);
  out[0] = (a.version << 4) | 1;
  out[1] = a.vrid;
  out[2] = a.priority;
  out[3] = count;
  if (a.version === 2) {
    const seconds = a.intervalCs / 100;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_V2_INTERVAL_S) {
      fail(`VRRPv2 interval ${a.intervalCs} cs is not whole seconds from 1 to ${MAX_V2_INTERVAL_S}`);
    }
    if (a.authType !== AUTH_NONE && a.authType !== AUTH_PASS) fail(`auth type ${a.authType} (only none and PASS are spoken)`);
    out[4] = a.authType;
    out[5] = seconds;
  } else {
    if (!Number.isInteger(a.intervalCs) || a.intervalCs < 1 || a.intervalCs > MAX_V3_INTERVAL_CS) {
      fail(`VRRPv3 interval ${a.intervalCs} cs is not 1 to ${MAX_V3_INTERVAL_CS}`);
    }
    if (a.authType !== AUTH_NONE) fail('VRRPv3 has no authentication');
    out[4] = a.intervalCs >> 8;
    out[5] = a.intervalCs & 0xff;
  }
  for (let i = 0; i < count; i++) writeAddress(out, HEADER_LEN + i * alen, a.addresses[i]!, a.family);
  if (a.version === 2 && a.authType === AUTH_PASS && a.authData) {
    out.set(a.authData.subarray(0, AUTH_LEN), HEADER_LEN + count * 4);
  }

  let acc = 0;
  if (a.version === 3) {
    const pair = addressPairSum(a.family, source, destination);
    if (pair < 0) fail(`source ${JSON.stringify(source)} and destination ${JSON.stringify(destination)} must be IPv${a.family} addresses`);
    acc = pseudoHeaderSum(pair, length);
  }
  const checksum = ~fold(sum16(out, 0, length, acc)) & 0xffff;
  out[6] = checksum >> 8;
  out[7] = checksum & 0xff;
  return out;
}

/** A VRRPv2 password as keepalived puts it on the wire: UTF-8, cut to 8 bytes, zero padded. */
export function passwordBytes(pw: string): Uint8Array {
  const out = new Uint8Array(AUTH_LEN);
  out.set(Buffer.from(pw, 'utf8').subarray(0, AUTH_LEN));
  return out;
}

// ---- parsing ----

const drop = (reason: DropReason, detail: string): ParseResult => ({ ok: false, reason, detail });

/**
 * Decode a VRRP payload received on a socket of `family`, from `source` to `destination` (the IP
 * header's addresses, text form; used for the VRRPv3 checksum). Never throws. Checks, in order:
 * under 8 bytes or over 1500 -> packet_len_err; version not 2 or 3 -> version_err (the layout,
 * and so the length, depend on it); length not exactly the header, `count` addresses and (v2)
 * 8 auth bytes -> packet_len_err (keepalived too wants the exact length); type not 1 ->
 * invalid_type_rcvd; v2 over IPv6, or a v3 source/destination not of `family` ->
 * address_family_err; checksum -> checksum_err; v2 auth type not 0, 1 or 2 -> invalid_authtype.
 * Auth type 2 (AH) parses: the instance, which never speaks AH, refuses it (authtype_mismatch).
 */
export function parseAdvert(bytes: Uint8Array, family: Family, source: string, destination: string): ParseResult {
  const n = bytes.length;
  if (n < HEADER_LEN) return drop('packet_len_err', `${n} bytes, shorter than the ${HEADER_LEN}-byte header`);
  if (n > MAX_PACKET) return drop('packet_len_err', `${n} bytes, more than ${MAX_PACKET}`);
  const versionType = bytes[0]!;
  const version = versionType >> 4;
  if (version !== 2 && version !== 3) return drop('version_err', `version ${version}`);
  const count = bytes[3]!;
  const alen = addressLength(family);
  const expected = HEADER_LEN + count * alen + (version === 2 ? AUTH_LEN : 0);
  if (n !== expected) {
    return drop('packet_len_err', `${n} bytes, ${count} IPv${family} address${count === 1 ? '' : 'es'} make ${expected}`);
  }
  if ((versionType & 0x0f) !== 1) return drop('invalid_type_rcvd', `type ${versionType & 0x0f}`);
  if (version === 2 && family === 6) return drop('address_family_err', 'VRRPv2 over IPv6');

  let acc = 0;
  if (version === 3) {
    const pair = cachedPairSum(family, source, destination);
    if (pair < 0) return drop('address_family_err', `source ${source} or destination ${destination} is not an IPv${family} address`);
    acc = pseudoHeaderSum(pair, n);
  }
  if (fold(sum16(bytes, 0, n, acc)) !== 0xffff) {
    return drop('checksum_err', `checksum ${((bytes[6]! << 8) | bytes[7]!).toString(16).padStart(4, '0')} is wrong`);
  }

  const authType = version === 2 ? bytes[4]! : AUTH_NONE;
  if (authType > AUTH_AH) return drop('invalid_authtype', `auth type ${authType}`);
  const addresses = new Array<string>(count);
  for (let i = 0; i < count; i++) addresses[i] = formatIp(bytes, HEADER_LEN + i * alen, alen);
  if (version === 2) {
    // a copy (the receive buffer is reused), byte by byte: cheaper than a subarray for 8 bytes
    const authAt = HEADER_LEN + count * 4;
    const authData = new Uint8Array(AUTH_LEN);
    for (let i = 0; i < AUTH_LEN; i++) authData[i] = bytes[authAt + i]!;
    return {
      ok: true,
      advert: { version: 2, family, vrid: bytes[1]!, priority: bytes[2]!, intervalCs: bytes[5]! * 100, addresses, authType, authData },
    };
  }
  return {
    ok: true,
    advert: {
      version: 3, family, vrid: bytes[1]!, priority: bytes[2]!, intervalCs: ((bytes[4]! & 0x0f) << 8) | bytes[5]!, addresses,
      authType: AUTH_NONE,
    },
  };
}

// ---- per-instance checks ----

function sameAuthData(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  for (let i = 0; i < AUTH_LEN; i++) {
    if ((a?.[i] ?? 0) !== (b?.[i] ?? 0)) return false;
  }
  return true;
}

/**
 * The checks an instance makes on a parsed advert, in keepalived's order of counting: TTL / hop
 * limit not 255 -> ip_ttl_err; version not ours -> version_err; then for v2 only (v3 has no auth
 * field and a backup adopts the master's interval): auth type not ours -> authtype_mismatch,
 * password (8 zero-padded bytes) not ours -> auth_failure, interval not ours ->
 * advert_interval_err. undefined: accept.
 */
export function checkAdvert(
  a: Advert,
  rx: Pick<Received, 'ttl'>,
  ours: { version: VrrpVersion; intervalCs: number; authType: number; authData?: Uint8Array },
): DropReason | undefined {
  if (rx.ttl !== 255) return 'ip_ttl_err';
  if (a.version !== ours.version) return 'version_err';
  if (a.version === 2) {
    if (a.authType !== ours.authType) return 'authtype_mismatch';
    if (a.authType === AUTH_PASS && !sameAuthData(a.authData, ours.authData)) return 'auth_failure';
    if (a.intervalCs !== ours.intervalCs) return 'advert_interval_err';
  }
  return undefined;
}

/** The address part of "addr[/len]" in canonical text; the text itself when it is not an address. */
function canonicalAddress(text: string): string {
  const slash = text.indexOf('/');
  const end = slash === -1 ? text.length : slash;
  const family = parseIpInto(text, scratch, 0, end);
  if (family === undefined) return text;
  return formatIp(scratch, 0, family === 'ipv4' ? 4 : 16);
}

/**
 * Does the advert carry other addresses than ours? keepalived counts addr_list_err and still
 * accepts the advert. Compared as sets of addresses, prefix lengths left out; for v2 only our
 * first MAX_V2_ADDRESSES count, as only those are carried.
 */
export function addressListDiffers(a: Advert, vips: string[]): boolean {
  const mine = new Set<string>();
  const limit = a.version === 2 ? Math.min(vips.length, MAX_V2_ADDRESSES) : vips.length;
  for (let i = 0; i < limit; i++) mine.add(canonicalAddress(vips[i]!));
  const theirs = new Set<string>();
  for (const address of a.addresses) theirs.add(canonicalAddress(address));
  if (mine.size !== theirs.size) return true;
  for (const address of theirs) if (!mine.has(address)) return true;
  return false;
}

// ---- the IPv4 header ----

/**
 * Split what an IPv4 raw socket delivers into the header's fields and the payload (a view of
 * `datagram`, no copy). The kernel has checked the header checksum and reassembled fragments;
 * this refuses a header that is not IPv4 (address_family_err), an IHL under 5 or past the end,
 * or a total length other than what arrived (packet_len_err, as keepalived).
 */
export function stripIpv4Header(
  datagram: Uint8Array,
): { ttl: number; source: string; destination: string; protocol: number; payload: Uint8Array } | { reason: DropReason } {
  const n = datagram.length;
  if (n < 20) return { reason: 'packet_len_err' };
  const first = datagram[0]!;
  if (first >> 4 !== 4) return { reason: 'address_family_err' };
  const headerLength = (first & 0x0f) * 4;
  if (headerLength < 20 || headerLength > n) return { reason: 'packet_len_err' };
  const total = (datagram[2]! << 8) | datagram[3]!;
  if (total !== n) return { reason: 'packet_len_err' };
  return {
    ttl: datagram[8]!,
    protocol: datagram[9]!,
    source: formatIp(datagram, 12, 4),
    destination: formatIp(datagram, 16, 4),
    payload: datagram.subarray(headerLength),
  };
}
