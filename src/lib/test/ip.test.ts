/**
 * The IP text codec against glibc's inet_pton(3) and inet_ntop(3) (through python3's socket
 * module, which calls them) over a generated corpus: every address text we accept is one glibc
 * accepts, with the same bytes, and every address we write is the text glibc writes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { canonicalIp, compareIp, formatIp, ipv4Number, ipv4Text, isCanonicalIpv6, parseIp, parseIpInto } from '../src/netlink/ip.js';

/** A deterministic generator, so a failure can be run again. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** glibc's answers: for each text, the bytes (hex) or "-" when inet_pton refuses it; for each byte string, inet_ntop's text. */
function glibc(texts: string[], byteStrings: string[]): { pton: string[]; ntop: string[] } {
  const py = `
import socket, sys, json
d = json.load(sys.stdin)
def pton(t):
    for f in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_pton(f, t).hex()
        except OSError:
            pass
    return '-'
print(json.dumps({'pton': [pton(t) for t in d['texts']], 'ntop': [socket.inet_ntop(socket.AF_INET6 if len(b) == 32 else socket.AF_INET, bytes.fromhex(b)) for b in d['bytes']]}))
`;
  const r = spawnSync('python3', ['-c', py], { input: JSON.stringify({ texts, bytes: byteStrings }), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { pton: string[]; ntop: string[] };
}

/** 16-byte addresses with the shapes that matter: zero runs of every length and place, embedded IPv4. */
function corpusBytes(n: number): Buffer[] {
  const r = rng(7);
  const out: Buffer[] = [];
  for (let k = 0; k < n; k++) {
    const b = Buffer.alloc(16);
    const shape = k % 6;
    for (let i = 0; i < 8; i++) {
      const zero = shape === 0 ? r() < 0.5 : shape === 1 ? r() < 0.8 : shape === 2 ? i < 5 : r() < 0.3;
      b.writeUInt16BE(zero ? 0 : Math.floor(r() * 65536) & (r() < 0.3 ? 0xf : 0xffff), i * 2);
    }
    if (shape === 2) b.writeUInt16BE(r() < 0.5 ? 0xffff : 0, 10);
    if (shape === 3 && r() < 0.5) b.fill(0, 0, 14);
    out.push(b);
  }
  for (let i = 0; i < 600; i++) {
    const v4 = Buffer.alloc(4);
    for (let j = 0; j < 4; j++) v4[j] = r() < 0.3 ? 0 : Math.floor(r() * 256);
    out.push(v4);
  }
  return out;
}

/** Texts: what formatIp writes, the same addresses written otherwise, and near misses. */
function corpusTexts(bytes: Buffer[]): string[] {
  const r = rng(11);
  const texts: string[] = [];
  const mutate = (t: string): string => {
    const i = Math.floor(r() * (t.length + 1));
    const c = ':.0123456789abcdefABCDEFg% /'[Math.floor(r() * 28)]!;
    switch (Math.floor(r() * 3)) {
      case 0: return t.slice(0, i) + c + t.slice(i);
      case 1: return t.slice(0, i) + t.slice(i + 1);
      default: return t.slice(0, i) + c + t.slice(i + 1);
    }
  };
  for (const b of bytes) {
    const canon = formatIp(b);
    texts.push(canon);
    if (b.length === 16) {
      // the long form, upper case, leading zeros in groups, a dotted tail
      const full = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
      texts.push(full, full.toUpperCase(), Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16).padStart(4, '0')).join(':'));
      texts.push(`${Array.from({ length: 6 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':')}:${b[12]}.${b[13]}.${b[14]}.${b[15]}`);
    } else {
      texts.push(`0${canon}`, `${canon}.1`, canon.replace(/\./, '..'));
    }
    texts.push(mutate(canon), mutate(mutate(canon)));
  }
  texts.push('', '::', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '::1.2.3.4.5', '1.2.3', '1.2.3.4.', '256.1.1.1', '01.2.3.4', 'fe80::1%eth0', '12345::', '::ffff:1.2.3.04', '1::2:3:4:5:6:7', ' 1.2.3.4', '0x1.2.3.4');
  return texts;
}

test('parsing and formatting agree with glibc\'s inet_pton and inet_ntop over a generated corpus', () => {
  const bytes = corpusBytes(3000);
  const texts = corpusTexts(bytes);
  const ref = glibc(texts, bytes.map((b) => b.toString('hex')));
  let accepted = 0;
  texts.forEach((t, i) => {
    const ours = parseIp(t);
    const theirs = ref.pton[i]!;
    assert.equal(ours ? ours.bytes.toString('hex') : '-', theirs, `parse ${JSON.stringify(t)}`);
    if (ours) accepted++;
  });
  assert.ok(accepted > texts.length / 3 && accepted < texts.length, `a mix of good and bad texts (${accepted} of ${texts.length})`);
  bytes.forEach((b, i) => assert.equal(formatIp(b), ref.ntop[i], `format ${b.toString('hex')}`));
});

test('canonical text is recognized without rebuilding it, and only when it is canonical', () => {
  for (const b of corpusBytes(2000).filter((x) => x.length === 16)) {
    const canon = formatIp(b);
    assert.ok(isCanonicalIpv6(canon, b), canon);
    const upper = canon.toUpperCase();
    if (upper !== canon) assert.ok(!isCanonicalIpv6(upper, b), upper);
    const full = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
    if (full !== canon) assert.ok(!isCanonicalIpv6(full, b), full);
  }
});

test('the helpers: into a buffer, canonical form, IPv4 numbers, numeric order', () => {
  const out = new Uint8Array(16);
  assert.equal(parseIpInto('x2001:DB8::1y', out, 1, 12), 'ipv6');
  assert.equal(formatIp(out), '2001:db8::1');
  assert.equal(parseIpInto('192.0.2.1', out), 'ipv4');
  assert.deepEqual(canonicalIp('2001:0DB8:0:0::0001'), { family: 'ipv6', text: '2001:db8::1' });
  assert.equal(canonicalIp('192.0.2.01'), undefined);
  assert.equal(ipv4Number('192.0.2.10'), 0xc000020a);
  assert.equal(ipv4Number('255.255.255.255'), 4294967295);
  assert.equal(ipv4Number('1.2.3'), -1);
  assert.equal(ipv4Text(0xc000020a), '192.0.2.10');
  const sorted = ['192.0.2.10', '2001:db8::2', '192.0.2.9', '10.0.0.1', '2001:db8::10'].sort(compareIp);
  assert.deepEqual(sorted, ['10.0.0.1', '192.0.2.9', '192.0.2.10', '2001:db8::2', '2001:db8::10']);
});
