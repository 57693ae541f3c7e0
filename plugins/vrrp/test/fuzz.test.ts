/**
 * Hostile input for the receive path: over a million packets, most of them valid adverts of every
 * kind mutated in one known way (truncated, extended, a byte flipped, a wrong checksum, a wrong
 * count, version, type or auth type with the checksum made right again, the wrong source, the
 * wrong socket family), the rest random bytes of random length, through parseAdvert; and IPv4
 * datagrams, valid and broken, through stripIpv4Header. Nothing may throw, every result is an
 * advert or a DropReason of the type, and wherever the mutation decides the outcome (a truncated
 * advert is packet_len_err, a flipped checksum byte alone is checksum_err, ...) the reason must be
 * that one. The PRNG is seeded (VRRP_FUZZ_SEED overrides) and re-seeded per packet, so a failure
 * names the seed and the packet number that reproduce it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '@ha/lib/netlink';
import { encodeAdvert, parseAdvert, passwordBytes, stripIpv4Header, VRRP_GROUP_V4, VRRP_GROUP_V6 } from '../src/packet.js';
import type { Advert, DropReason, Family, ParseResult } from '../src/types.js';

const ALL_REASONS = [
  'packet_len_err', 'version_err', 'invalid_type_rcvd', 'checksum_err', 'ip_ttl_err', 'vrid_err', 'advert_interval_err',
  'invalid_authtype', 'authtype_mismatch', 'auth_failure', 'address_family_err', 'own_packet',
] as const satisfies readonly DropReason[];
// fails to compile when DropReason gains a member this list lacks
const exhaustive: [Exclude<DropReason, (typeof ALL_REASONS)[number]>] extends [never] ? true : never = true;
const REASONS = new Set<string>(ALL_REASONS);

const SEED = Number(process.env.VRRP_FUZZ_SEED ?? 0x5eed_1e55) >>> 0;
const PARSE_PACKETS = 1_000_000;
const STRIP_PACKETS = 250_000;

// ---- a seeded PRNG (mulberry32), re-seeded for each packet ----

let state = 0;
function reseed(i: number, stream: number): void {
  state = (SEED ^ Math.imul(i + 1, 0x9e3779b9) ^ Math.imul(stream, 0x85ebca6b)) >>> 0;
}
function next(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
/** An integer in [lo, hi]. */
const int = (lo: number, hi: number): number => lo + (next() % (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length]!;
/**
 * Packets are built in one reused buffer and handed over as views of it (each is parsed before
 * the next is built): allocating a fresh backing store per packet would cost more than parsing.
 */
const work = new Uint8Array(4096);
function randomBytes(n: number): Uint8Array {
  for (let i = 0; i < n; i++) work[i] = next() & 0xff;
  return work.subarray(0, n);
}
/** A copy of src in the work buffer, `extra` zero bytes after it. */
function copyOf(src: Uint8Array, extra = 0): Uint8Array {
  work.set(src);
  work.fill(0, src.length, src.length + extra);
  return work.subarray(0, src.length + extra);
}

// ---- checksums, independently of the codec ----

function onesSum(b: Uint8Array, acc = 0): number {
  for (let i = 0; i < b.length; i += 2) {
    acc += (b[i]! << 8) + (i + 1 < b.length ? b[i + 1]! : 0);
    if (acc > 0xffff) acc -= 0xffff;
  }
  return acc;
}

const pseudoSums = new Map<string, number>();
function pseudoSum(family: Family, source: string, destination: string, length: number): number {
  const key = `${family} ${source} ${destination} ${length}`;
  const known = pseudoSums.get(key);
  if (known !== undefined) return known;
  const sum = computePseudoSum(family, source, destination, length);
  pseudoSums.set(key, sum);
  return sum;
}
function computePseudoSum(family: Family, source: string, destination: string, length: number): number {
  const s = parseIp(source)!.bytes;
  const d = parseIp(destination)!.bytes;
  const p = family === 4
    ? new Uint8Array([...s, ...d, 0, 112, length >> 8, length & 255])
    : new Uint8Array([...s, ...d, 0, 0, length >> 8, length & 255, 0, 0, 0, 112]);
  return onesSum(p);
}

/** Make the checksum of b right again, as the version nibble of b[0] says (v3: with the pseudo-header). */
function fixChecksum(b: Uint8Array, family: Family, source: string, destination: string, asVersion = b[0]! >> 4): void {
  b[6] = 0;
  b[7] = 0;
  const sum = onesSum(b, asVersion === 3 ? pseudoSum(family, source, destination, b.length) : 0);
  const c = 0xffff - sum;
  b[6] = c >> 8;
  b[7] = c & 255;
}

// ---- the valid adverts mutations start from ----

interface Base {
  name: string;
  wire: Uint8Array;
  version: 2 | 3;
  family: Family;
  source: string;
  destination: string;
  count: number;
}

function v4Addresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${pick(['192.0.2', '198.51.100', '203.0.113'])}.${i}`);
}
function v6Addresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `2001:db8:${int(0, 0xffff).toString(16)}::${(i + 1).toString(16)}`);
}

function makeBases(): Base[] {
  reseed(-1, 99);
  const bases: Base[] = [];
  const add = (name: string, a: Advert, source: string, destination: string): void => {
    bases.push({ name, wire: encodeAdvert(a, source, destination), version: a.version, family: a.family, source, destination, count: a.addresses.length });
  };
  for (const count of [0, 1, 3, 20, 255]) {
    add(`v2 none x${count}`, { version: 2, family: 4, vrid: int(1, 255), priority: int(0, 255), intervalCs: 100 * int(1, 255), addresses: v4Addresses(count), authType: 0 }, '192.0.2.1', VRRP_GROUP_V4);
  }
  for (const count of [1, 3, 20]) {
    add(`v2 PASS x${count}`, { version: 2, family: 4, vrid: int(1, 255), priority: int(0, 255), intervalCs: 100, addresses: v4Addresses(count), authType: 1, authData: passwordBytes('k@l!ve1') }, '192.0.2.1', VRRP_GROUP_V4);
  }
  for (const count of [0, 1, 2, 20, 255]) {
    add(`v3 IPv4 x${count}`, { version: 3, family: 4, vrid: int(1, 255), priority: int(0, 255), intervalCs: int(1, 4095), addresses: v4Addresses(count), authType: 0 }, `198.51.100.${int(1, 254)}`, VRRP_GROUP_V4);
  }
  add('v3 IPv4 unicast', { version: 3, family: 4, vrid: 77, priority: 100, intervalCs: 100, addresses: v4Addresses(2), authType: 0 }, '192.0.2.1', '192.0.2.2');
  for (const count of [0, 1, 2, 20, 93]) {
    add(`v3 IPv6 x${count}`, { version: 3, family: 6, vrid: int(1, 255), priority: int(0, 255), intervalCs: int(1, 4095), addresses: v6Addresses(count), authType: 0 }, `fe80::${int(1, 0xffff).toString(16)}`, VRRP_GROUP_V6);
  }
  return bases;
}

/** VRRPv2 laid out for IPv6 (16-byte addresses, auth data, a good v2 checksum): address_family_err. */
function v2OverV6(count: number): Uint8Array {
  const b = work.subarray(0, 8 + 16 * count + 8);
  b.fill(0);
  b[0] = 0x21;
  b[1] = int(1, 255);
  b[2] = int(0, 255);
  b[3] = count;
  b[5] = 1;
  for (let i = 8; i < 8 + 16 * count; i++) b[i] = next() & 0xff;
  fixChecksum(b, 6, '', '', 2);
  return b;
}

/** Change one byte of an address's text form (for a v3 pseudo-header that no longer matches). */
function otherAddress(text: string): string {
  const ip = parseIp(text)!;
  const bytes = new Uint8Array(ip.bytes);
  bytes[int(0, bytes.length - 1)]! ^= int(1, 255);
  return ip.family === 'ipv4' ? bytes.join('.') : Buffer.from(bytes).toString('hex').replace(/(.{4})(?!$)/g, '$1:');
}

// ---- the mutations ----

type Expect = DropReason | 'ok' | 'any';
interface Case {
  wire: Uint8Array;
  family: Family;
  source: string;
  destination: string;
  expect: Expect;
}

const caseOf = (b: Base, wire: Uint8Array, expect: Expect): Case => ({ wire, family: b.family, source: b.source, destination: b.destination, expect });

const MUTATIONS: Array<[string, number, (b: Base) => Case]> = [
  ['valid', 4, (b) => caseOf(b, b.wire, 'ok')],
  ['truncated', 8, (b) => caseOf(b, b.wire.subarray(0, int(0, b.wire.length - 1)), 'packet_len_err')],
  ['extended', 6, (b) => {
    const extra = int(1, 2000 - b.wire.length);
    const w = copyOf(b.wire, extra);
    for (let i = b.wire.length; i < Math.min(w.length, b.wire.length + 64); i++) w[i] = next() & 0xff;
    return caseOf(b, w, 'packet_len_err');
  }],
  ['checksum byte flipped', 8, (b) => {
    const w = copyOf(b.wire);
    w[int(6, 7)]! ^= int(1, 255);
    return caseOf(b, w, 'checksum_err');
  }],
  ['random checksum', 4, (b) => {
    const w = copyOf(b.wire);
    const old = (w[6]! << 8) | w[7]!;
    const c = int(0, 0xffff);
    w[6] = c >> 8;
    w[7] = c & 255;
    // 0x0000 and 0xffff are the same number in one's complement
    return caseOf(b, w, c % 0xffff === old % 0xffff ? 'ok' : 'checksum_err');
  }],
  ['one byte flipped', 12, (b) => {
    const w = copyOf(b.wire);
    const at = int(0, w.length - 1);
    w[at]! ^= int(1, 255);
    let expect: Expect = 'checksum_err';
    if (at === 3) expect = 'packet_len_err'; // another count: another length
    if (at === 0) {
      const version = w[0]! >> 4;
      if (version !== 2 && version !== 3) expect = 'version_err';
      else if (version !== b.version) expect = 'packet_len_err'; // v2 has 8 auth bytes more
      else expect = 'invalid_type_rcvd';
    }
    return caseOf(b, w, expect);
  }],
  ['wrong count, checksum fixed', 6, (b) => {
    const w = copyOf(b.wire);
    let c = int(0, 255);
    if (c === b.count) c = (c + 1) & 255;
    w[3] = c;
    fixChecksum(w, b.family, b.source, b.destination);
    return caseOf(b, w, 'packet_len_err');
  }],
  ['wrong version, checksum fixed', 5, (b) => {
    const w = copyOf(b.wire);
    let v = int(0, 15);
    if (v === b.version) v = 15 - v;
    w[0] = (v << 4) | 1;
    fixChecksum(w, b.family, b.source, b.destination);
    return caseOf(b, w, v === 2 || v === 3 ? 'packet_len_err' : 'version_err');
  }],
  ['wrong type, checksum fixed', 5, (b) => {
    const w = copyOf(b.wire);
    let t = int(0, 15);
    if (t === 1) t = 0;
    w[0] = (b.version << 4) | t;
    fixChecksum(w, b.family, b.source, b.destination);
    return caseOf(b, w, 'invalid_type_rcvd');
  }],
  ['auth type, checksum fixed', 5, (b) => {
    const w = copyOf(b.wire);
    const t = int(0, 255);
    w[4] = t;
    fixChecksum(w, b.family, b.source, b.destination);
    // v3: byte 4 holds reserved bits and the interval's high nibble, never judged
    return caseOf(b, w, b.version === 3 || t <= 2 ? 'ok' : 'invalid_authtype');
  }],
  ['other source or destination', 5, (b) => {
    const moved = next() & 1 ? { source: otherAddress(b.source) } : { destination: otherAddress(b.destination) };
    return { wire: b.wire, family: b.family, source: b.source, destination: b.destination, ...moved, expect: b.version === 3 ? 'checksum_err' : 'ok' };
  }],
  ['other socket family', 3, (b) => {
    const family: Family = b.family === 4 ? 6 : 4;
    // the length no longer fits the count, unless there are no addresses: then the v3
    // pseudo-header addresses are of the wrong family, and v2 has no place on IPv6
    let expect: Expect = 'packet_len_err';
    if (b.count === 0) expect = 'address_family_err';
    return { wire: b.wire, family, source: b.source, destination: b.destination, expect };
  }],
  ['v2 over IPv6', 3, () => ({ wire: v2OverV6(int(0, 10)), family: 6, source: 'fe80::1', destination: VRRP_GROUP_V6, expect: 'address_family_err' })],
  ['several bytes flipped', 6, (b) => {
    const w = copyOf(b.wire);
    for (let k = int(2, 6); k > 0; k--) w[int(0, w.length - 1)]! ^= int(1, 255);
    return caseOf(b, w, 'any');
  }],
  ['random bytes', 10, () => {
    const n = int(0, 2000);
    const w = randomBytes(n);
    const family: Family = next() & 1 ? 4 : 6;
    return { wire: w, family, source: family === 4 ? '192.0.2.1' : 'fe80::1', destination: family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6, expect: n < 8 || n > 1500 ? 'packet_len_err' : 'any' };
  }],
  ['random body, plausible header', 6, (b) => {
    // header of a valid kind, everything after it random, exactly the length the count asks for
    const w = randomBytes(b.wire.length);
    w[0] = b.wire[0]!;
    w[3] = b.wire[3]!;
    return caseOf(b, w, 'any');
  }],
];

const WEIGHTS = MUTATIONS.flatMap(([, weight], index) => new Array<number>(weight).fill(index));

function checkResult(r: ParseResult, c: Case): string | undefined {
  if (r.ok) {
    const a = r.advert;
    if (a.version !== 2 && a.version !== 3) return `ok with version ${a.version}`;
    if (a.family !== c.family) return 'ok with another family';
    if (a.addresses.length !== c.wire[3]) return 'address count differs from the count byte';
    if (a.version === 2 && a.authData?.length !== 8) return 'v2 without 8 bytes of auth data';
    return undefined;
  }
  if (!REASONS.has(r.reason)) return `unknown reason ${String(r.reason)}`;
  if (typeof r.detail !== 'string' || r.detail.includes('\n')) return 'detail is not one line';
  return undefined;
}

test(`parseAdvert: ${PARSE_PACKETS.toLocaleString('en')} mutated and random packets (seed ${SEED})`, (t) => {
  assert.equal(exhaustive, true);
  const bases = makeBases();
  const tally = new Map<string, number>();
  const byMutation = MUTATIONS.map(() => ({ n: 0, reasons: new Map<string, number>() }));
  const failures: string[] = [];
  const started = performance.now();
  for (let i = 0; i < PARSE_PACKETS; i++) {
    reseed(i, 1);
    const m = WEIGHTS[next() % WEIGHTS.length]!;
    const [name, , mutate] = MUTATIONS[m]!;
    const base = pick(bases);
    const c = mutate(base);
    let r: ParseResult;
    try {
      r = parseAdvert(c.wire, c.family, c.source, c.destination);
    } catch (e) {
      failures.push(`packet ${i} (${name} of ${base.name}): threw ${(e as Error).message}`);
      continue;
    }
    const got = r.ok ? 'ok' : r.reason;
    tally.set(got, (tally.get(got) ?? 0) + 1);
    const stat = byMutation[m]!;
    stat.n++;
    stat.reasons.set(got, (stat.reasons.get(got) ?? 0) + 1);
    const bad = checkResult(r, c) ?? (c.expect !== 'any' && c.expect !== got ? `expected ${c.expect}, got ${got}${r.ok ? '' : ` (${r.detail})`}` : undefined);
    if (bad && failures.length < 20) failures.push(`packet ${i} (${name} of ${base.name}, ${c.wire.length} bytes ${Buffer.from(c.wire.subarray(0, 48)).toString('hex')}): ${bad}`);
    else if (bad) failures.push('');
  }
  const ms = performance.now() - started;
  t.diagnostic(`seed ${SEED}: ${PARSE_PACKETS.toLocaleString('en')} packets in ${(ms / 1000).toFixed(2)} s`);
  t.diagnostic(`tally: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  MUTATIONS.forEach(([name], m) => {
    const s = byMutation[m]!;
    t.diagnostic(`  ${name} (${s.n}): ${[...s.reasons].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures; rerun with VRRP_FUZZ_SEED=${SEED}`);
  for (const reason of ['ok', 'packet_len_err', 'version_err', 'invalid_type_rcvd', 'address_family_err', 'checksum_err', 'invalid_authtype']) {
    assert.ok((tally.get(reason) ?? 0) > 1000, `${reason} hit ${tally.get(reason) ?? 0} times`);
  }
  for (const [m, s] of byMutation.entries()) assert.ok(s.n > 10_000, `${MUTATIONS[m]![0]} ran ${s.n} times`);
});

// ---- IPv4 datagrams ----

const dgram = new Uint8Array(2200);
/** An IPv4 datagram around payload, in a buffer of its own (mutations copy it to `work`). */
function datagram(payload: Uint8Array, source: string, destination: string, options: number): Uint8Array {
  const ihl = 5 + options;
  const d = dgram.subarray(0, ihl * 4 + payload.length);
  d.fill(0, 0, 20);
  d[0] = 0x40 | ihl;
  d[1] = 0xc0;
  d[2] = d.length >> 8;
  d[3] = d.length & 255;
  d[5] = int(1, 255);
  d[8] = 255;
  d[9] = 112;
  d.set(parseIp(source)!.bytes, 12);
  d.set(parseIp(destination)!.bytes, 16);
  for (let i = 20; i < ihl * 4; i++) d[i] = 1; // NOP options
  d.set(payload, ihl * 4);
  return d;
}

test(`stripIpv4Header: ${STRIP_PACKETS.toLocaleString('en')} valid, broken and random datagrams`, (t) => {
  const bases = makeBases().filter((b) => b.family === 4);
  const tally = new Map<string, number>();
  const failures: string[] = [];
  const started = performance.now();
  for (let i = 0; i < STRIP_PACKETS; i++) {
    reseed(i, 2);
    const base = pick(bases);
    const options = next() % 4 === 0 ? int(1, 10) : 0;
    const d = datagram(base.wire, base.source, base.destination, options);
    const kind = next() % 8;
    let input = d;
    let expect: DropReason | 'ok' | 'any' = 'ok';
    if (kind === 1) {
      input = d.subarray(0, int(0, d.length - 1));
      expect = 'packet_len_err';
    } else if (kind === 2) {
      input = copyOf(d, int(1, 100));
      expect = 'packet_len_err';
    } else if (kind === 3) {
      input = copyOf(d);
      input[0] = 0x40 | int(0, 4);
      expect = 'packet_len_err';
    } else if (kind === 4) {
      input = copyOf(d);
      let total = int(0, 0xffff);
      if (total === d.length) total++;
      input[2] = total >> 8;
      input[3] = total & 255;
      expect = 'packet_len_err';
    } else if (kind === 5) {
      input = copyOf(d);
      let v = int(0, 15);
      if (v === 4) v = 6;
      input[0] = (v << 4) | (d[0]! & 15);
      expect = 'address_family_err';
    } else if (kind === 6) {
      input = randomBytes(int(0, 2000));
      expect = 'any';
    }
    let r: ReturnType<typeof stripIpv4Header>;
    try {
      r = stripIpv4Header(input);
    } catch (e) {
      failures.push(`datagram ${i}: threw ${(e as Error).message}`);
      continue;
    }
    const got = 'reason' in r ? r.reason : 'ok';
    tally.set(got, (tally.get(got) ?? 0) + 1);
    if (!REASONS.has(got) && got !== 'ok') failures.push(`datagram ${i}: unknown reason ${got}`);
    if (expect !== 'any' && got !== expect) failures.push(`datagram ${i} (kind ${kind}): expected ${expect}, got ${got}`);
    if (!('reason' in r)) {
      if (r.payload.buffer !== input.buffer) failures.push(`datagram ${i}: the payload is a copy`);
      const p = parseAdvert(r.payload, 4, r.source, r.destination);
      const pr = p.ok ? 'ok' : p.reason;
      tally.set(`then ${pr}`, (tally.get(`then ${pr}`) ?? 0) + 1);
      if (kind === 0 || kind === 7) {
        if (!p.ok) failures.push(`datagram ${i}: the payload of a valid datagram did not parse: ${p.reason}`);
        if (r.ttl !== 255 || r.protocol !== 112 || r.source !== base.source || r.destination !== base.destination) failures.push(`datagram ${i}: header fields`);
      }
    }
    if (failures.length > 20) break;
  }
  const ms = performance.now() - started;
  t.diagnostic(`seed ${SEED}: ${STRIP_PACKETS.toLocaleString('en')} datagrams in ${(ms / 1000).toFixed(2)} s`);
  t.diagnostic(`tally: ${[...tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  assert.deepEqual(failures, [], `rerun with VRRP_FUZZ_SEED=${SEED}`);
  for (const reason of ['ok', 'packet_len_err', 'address_family_err', 'then ok']) assert.ok((tally.get(reason) ?? 0) > 1000, reason);
});
