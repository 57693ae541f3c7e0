/**
 * rtnetlink addresses and sysctl names: golden kernel bytes (captured once from Linux 6.18 in a
 * fresh namespace with 192.0.2.10/32 label lo:vip and 2001:db8::10/128 on lo, by a raw RTM_GETADDR
 * dump), request encoding checked against the request the kernel echoed back, text round trips,
 * and a live run in a network namespace of its own read back with ip(8).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../src/errors.js';
import {
  AF_INET, IFA_F_NODAD, IFA_F_PERMANENT, NLMSG_ERROR, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, NetlinkError,
  RTM_GETADDR, RTM_NEWADDR, RT_SCOPE_HOST, addrAttrs, addressFlagNames, addressText, confSysctl, decodeAddress, decodeIfAddr,
  encodeIfAddr, encodeMessage, errorCode, formatIp, formatPrefix, parseAttrs, parseIp, parseMessages, parsePrefix, scopeName,
  sysctlPath,
} from '../src/netlink/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** RTM_GETADDR dump, family AF_INET: 127.0.0.1/8 and 192.0.2.10/32 label lo:vip, two messages in one datagram. */
const DUMP_V4 = hex(`
  4c000000 1400 0200 01000000 20030008
    02 08 80 fe 01000000
    0800 0100 7f000001  0800 0200 7f000001  0700 0300 6c6f0000  0800 0800 80000000
    1400 0600 ffffffff ffffffff 71280300 71280300
  50000000 1400 0200 01000000 20030008
    02 20 80 00 01000000
    0800 0100 c000020a  0800 0200 c000020a  0b00 0300 6c6f3a76 69700000  0800 0800 80000000
    1400 0600 ffffffff ffffffff 71280300 71280300`);

/** RTM_GETADDR dump, family AF_INET6: 2001:db8::10/128 and ::1/128 (with IFA_PROTO), then NLMSG_DONE. */
const DUMP_V6 = hex(`
  48000000 1400 0200 02000000 20034008
    0a 80 80 00 01000000
    1400 0100 20010db8 00000000 00000000 00000010
    1400 0600 ffffffff ffffffff 71280300 71280300  0800 0800 80000000
  50000000 1400 0200 02000000 20034008
    0a 80 80 fe 01000000
    1400 0100 00000000 00000000 00000000 00000001
    1400 0600 ffffffff ffffffff 71280300 71280300  0800 0800 80000000  0500 0b00 01000000
  14000000 0300 0200 02000000 20034008 00000000`);

/** NLMSG_ERROR EEXIST for RTM_NEWADDR 192.0.2.10/32 on index 1 (CREATE|EXCL|ACK), the request echoed. */
const EEXIST_V4 = hex(`
  3c000000 0200 0000 03000000 20038008
    efffffff
    28000000 1400 0506 03000000 00000000
      02 20 00 00 01000000  0800 0200 c000020a  0800 0100 c000020a`);

test('ifaddrmsg encodes to its 8-byte layout and back', () => {
  const b = encodeIfAddr({ family: AF_INET, prefixlen: 32, flags: IFA_F_PERMANENT, scope: RT_SCOPE_HOST, index: 0x01020304 });
  assert.deepEqual(b, Buffer.from([2, 32, 0x80, 254, 4, 3, 2, 1]));
  assert.deepEqual(decodeIfAddr(b), { family: 2, prefixlen: 32, flags: 0x80, scope: 254, index: 0x01020304 });
  assert.deepEqual(encodeIfAddr(), Buffer.alloc(8));
});

test('golden: an IPv4 address dump decodes, label and scope included, and re-encodes byte for byte', () => {
  const msgs = parseMessages(DUMP_V4);
  assert.equal(msgs.length, 2);
  const [lo, vip] = msgs.map((m) => decodeAddress(m)!);
  assert.deepEqual(lo, { index: 1, family: 'ipv4', address: '127.0.0.1', prefixlen: 8, scope: 254, flags: 0x80, label: 'lo' });
  assert.deepEqual(vip, { index: 1, family: 'ipv4', address: '192.0.2.10', prefixlen: 32, scope: 0, flags: 0x80, label: 'lo:vip' });
  assert.equal(scopeName(lo!.scope), 'host');
  assert.equal(scopeName(vip!.scope), 'global');
  assert.equal(addressText(vip!), '192.0.2.10/32');
  assert.deepEqual(addressFlagNames(vip!.flags), ['permanent']);
  // the attribute table names every attribute this kernel sent for IPv4: re-encoding each one in
  // the kernel's order (ADDRESS, LOCAL, LABEL, FLAGS, CACHEINFO) gives the datagram back
  const again = msgs.map((m) => {
    assert.equal(m.type, RTM_NEWADDR);
    assert.deepEqual(parseAttrs(m.data.subarray(8)).map((a) => a.type), [1, 2, 3, 8, 6]);
    const d = addrAttrs.decode(m.data.subarray(8));
    return encodeMessage(m, m.data.subarray(0, 8),
      addrAttrs.encode({ address: d.address }), addrAttrs.encode({ local: d.local }), addrAttrs.encode({ label: d.label }),
      addrAttrs.encode({ flags: d.flags }), addrAttrs.encode({ cacheinfo: d.cacheinfo }));
  });
  assert.deepEqual(Buffer.concat(again), DUMP_V4);
});

test('golden: an IPv6 address dump decodes (no IFA_LOCAL, unknown IFA_PROTO skipped) and ends with DONE', () => {
  const msgs = parseMessages(DUMP_V6);
  assert.deepEqual(msgs.map((m) => m.type), [RTM_NEWADDR, RTM_NEWADDR, 3]);
  const [vip, loop] = msgs.slice(0, 2).map((m) => decodeAddress(m)!);
  assert.deepEqual(vip, { index: 1, family: 'ipv6', address: '2001:db8::10', prefixlen: 128, scope: 0, flags: 0x80 });
  assert.deepEqual(loop, { index: 1, family: 'ipv6', address: '::1', prefixlen: 128, scope: 254, flags: 0x80 });
  assert.equal(addrAttrs.decode(msgs[1]!.data.subarray(8)).proto, 1, 'IFAPROT_KERNEL_LO');
});

test('golden: our RTM_NEWADDR request is the one the kernel echoed with EEXIST', () => {
  const [m] = parseMessages(EEXIST_V4);
  assert.equal(m!.type, NLMSG_ERROR);
  assert.equal(errorCode(m!), 17);
  const echoed = m!.data.subarray(4);
  const ours = encodeMessage(
    { type: RTM_NEWADDR, flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq: 3, pid: echoed.readUInt32LE(12) },
    encodeIfAddr({ family: AF_INET, prefixlen: 32, index: 1 }),
    addrAttrs.encode({ local: parseIp('192.0.2.10')!.bytes, address: parseIp('192.0.2.10')!.bytes }),
  );
  assert.deepEqual(echoed, ours);
  const err = new NetlinkError(17, { object: 'address 192.0.2.10/32 on lo', messages: { EEXIST: 'address 192.0.2.10/32 already on lo' } });
  assert.equal(err.message, 'address 192.0.2.10/32 already on lo');
});

test('IFA_FLAGS carries the flags that do not fit in ifa_flags; the dump request is 8 zero-family bytes', () => {
  const a = addrAttrs.encode({ flags: IFA_F_NODAD | 0x200 });
  assert.deepEqual(a, Buffer.from([8, 0, 8, 0, 0x02, 0x02, 0, 0]));
  const dump = encodeMessage({ type: RTM_GETADDR, flags: NLM_F_REQUEST | 0x300, seq: 1, pid: 0 }, encodeIfAddr());
  assert.equal(dump.toString('hex'), '18000000' + '1600' + '0103' + '01000000' + '00000000' + '0000000000000000');
});

test('address text: parse and format match inet_pton/inet_ntop', () => {
  const cases: Array<[string, string]> = [
    ['192.0.2.10', '192.0.2.10'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8::', '2001:db8::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ['2001:0:1:2:3:4:5:0', '2001:0:1:2:3:4:5:0'],
  ];
  for (const [input, text] of cases) {
    const p = parseIp(input);
    assert.ok(p, input);
    assert.equal(formatIp(p.bytes), text, input);
  }
  for (const bad of ['', '192.0.2', '192.0.2.256', '192.0.2.010', ' 192.0.2.1', '2001:db8::1%lo', '2001:db8:::1', 'lo', '1.2.3.4/32']) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

test('prefixes: an address alone is a host prefix; a bad length or address is a UsageError', () => {
  assert.equal(formatPrefix(parsePrefix('192.0.2.10')), '192.0.2.10/32');
  assert.equal(formatPrefix(parsePrefix('2001:db8::10')), '2001:db8::10/128');
  assert.equal(formatPrefix(parsePrefix('198.51.100.7/24')), '198.51.100.7/24');
  assert.equal(formatPrefix(parsePrefix('2001:db8::/32')), '2001:db8::/32');
  assert.throws(() => parsePrefix('192.0.2.10/33'), { name: 'UsageError', message: 'bad prefix length in "192.0.2.10/33": expected 0 to 32' });
  assert.throws(() => parsePrefix('192.0.2.10/'), UsageError);
  assert.throws(() => parsePrefix('192.0.2.10/+1'), UsageError);
  assert.throws(() => parsePrefix('2001:db8::1/129'), /expected 0 to 128/);
  assert.throws(() => parsePrefix('example.org/32'), { message: 'not an IP address: "example.org/32"' });
});

test('sysctl names map to /proc/sys paths; the slash form keeps dots in interface names', () => {
  assert.equal(sysctlPath('net.ipv4.conf.all.arp_ignore'), '/proc/sys/net/ipv4/conf/all/arp_ignore');
  assert.equal(sysctlPath('net/ipv4/conf/eth0.100/rp_filter'), '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  assert.equal(confSysctl('ipv4', 'tunl0', 'rp_filter'), 'net.ipv4.conf.tunl0.rp_filter');
  assert.equal(confSysctl('ipv4', 'eth0.100', 'rp_filter'), 'net/ipv4/conf/eth0.100/rp_filter');
  for (const bad of ['', 'net..ipv4', 'net/../../etc/passwd', 'net.ipv4 x', 'net/ipv4/']) {
    assert.throws(() => sysctlPath(bad), { name: 'UsageError' }, bad);
  }
});

// ---- live, in a network namespace of this test's own (root only) ----

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root to create a network namespace';
const NS = `ha-addr-${process.pid.toString(36)}${Date.now().toString(36).slice(-3)}`;
const NETLINK = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'netlink', 'index.js');
const SCRIPT = `
const nl = await import(process.argv[1]);
const out = {};
const attempt = async (key, fn) => { try { out[key] = (await fn()) ?? 'ok'; } catch (e) { out[key] = { error: e.message, name: e.name }; } };
await attempt('add4', () => nl.addAddress('lo', '192.0.2.10/32', { label: 'lo:vip' }));
await attempt('add6', () => nl.addAddress('lo', '2001:db8::10/128'));
await attempt('again', () => nl.addAddress('lo', '192.0.2.10/32'));
await attempt('nodev', () => nl.addAddress('nosuch0', '192.0.2.11/32'));
await attempt('badlabel', () => nl.addAddress('lo', '192.0.2.12/32', { label: 'eth0:x' }));
await attempt('list', () => nl.listAddresses({ index: 1 }));
await attempt('list6', () => nl.listAddresses({ family: 'ipv6' }));
await attempt('before', () => nl.readSysctl('net.ipv4.conf.lo.arp_ignore'));
await attempt('write', () => nl.writeSysctl('net.ipv4.conf.lo.arp_ignore', 1));
await attempt('after', () => nl.readSysctl('net.ipv4.conf.lo.arp_ignore'));
await attempt('writebad', () => nl.writeSysctl('net.ipv4.conf.lo.arp_announce', 'two'));
await attempt('readmissing', () => nl.readSysctl('net.ipv4.conf.nosuch0.arp_ignore'));
await attempt('ipOutput', async () => (await import('node:child_process')).execFileSync('ip', ['-j', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }));
await attempt('del4', () => nl.deleteAddress('lo', '192.0.2.10/32'));
await attempt('del6', () => nl.deleteAddress('lo', '2001:db8::10'));
await attempt('delagain', () => nl.deleteAddress('lo', '192.0.2.10/32'));
await attempt('delagain6', () => nl.deleteAddress('lo', '2001:db8::10/128'));
nl.NetlinkSession.closeAll();
process.stdout.write(JSON.stringify(out));
`;

interface IpAddrInfo { family: string; local: string; prefixlen: number; scope: string; label?: string }

let live: Record<string, unknown> = {};
before(() => {
  if (!isRoot) return;
  const add = spawnSync('ip', ['netns', 'add', NS], { encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);
  spawnSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  const r = spawnSync('ip', ['netns', 'exec', NS, process.execPath, '--input-type=module', '-e', SCRIPT, NETLINK], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  live = JSON.parse(r.stdout) as Record<string, unknown>;
});
after(() => {
  if (isRoot) spawnSync('ip', ['netns', 'del', NS]);
});

test('live: addAddress returns what the kernel lists, and ip(8) sees the same', { skip }, () => {
  assert.deepEqual(live.add4, { index: 1, family: 'ipv4', address: '192.0.2.10', prefixlen: 32, scope: 0, flags: IFA_F_PERMANENT, label: 'lo:vip' });
  // duplicate address detection may still be running: the tentative bit comes and goes with it
  const add6 = live.add6 as { flags: number };
  assert.deepEqual({ ...add6, flags: add6.flags & ~0x40 }, { index: 1, family: 'ipv6', address: '2001:db8::10', prefixlen: 128, scope: 0, flags: IFA_F_PERMANENT });
  const ip = (JSON.parse(live.ipOutput as string) as Array<{ addr_info: IpAddrInfo[] }>)[0]!.addr_info;
  const ours = live.list as Array<{ family: string; address: string; prefixlen: number; scope: number; label?: string }>;
  assert.deepEqual(
    ours.map((a) => `${a.family === 'ipv4' ? 'inet' : 'inet6'} ${a.address}/${a.prefixlen} ${scopeName(a.scope)} ${a.label ?? ''}`).sort(),
    ip.map((a) => `${a.family} ${a.local}/${a.prefixlen} ${a.scope} ${a.label ?? ''}`).sort(),
  );
  assert.deepEqual((live.list6 as Array<{ address: string }>).map((a) => a.address).sort(), ['2001:db8::10', '::1']);
});

test('live: errors name the address and the interface', { skip }, () => {
  assert.deepEqual(live.again, { error: 'address 192.0.2.10/32 already on lo', name: 'NetlinkError' });
  assert.deepEqual(live.nodev, { error: 'interface nosuch0 does not exist', name: 'NetlinkError' });
  assert.deepEqual(live.badlabel, { error: 'address 192.0.2.12/32: label "eth0:x" must be lo or start with "lo:" (at most 15 characters)', name: 'UsageError' });
  assert.equal(live.del4, 'ok');
  assert.equal(live.del6, 'ok');
  assert.deepEqual(live.delagain, { error: 'address 192.0.2.10/32 is not on lo', name: 'NetlinkError' });
  assert.deepEqual(live.delagain6, { error: 'address 2001:db8::10/128 is not on lo', name: 'NetlinkError' });
});

test('live: sysctls read and write in the caller\'s namespace; errors name the key', { skip }, () => {
  assert.equal(live.after, '1');
  assert.deepEqual(live.writebad, { error: 'cannot set sysctl net.ipv4.conf.lo.arp_announce = two: the kernel refused the value', name: 'OperationError' });
  assert.deepEqual(live.readmissing, { error: 'sysctl net.ipv4.conf.nosuch0.arp_ignore does not exist (missing interface or kernel feature?)', name: 'OperationError' });
});
