/**
 * The VRRP test LAN proved with keepalived alone, before ha's speaker is put on it: if these
 * figures match what keepalived is known to do here (../../../../shared/VRRP.md: takeover 3.805 s
 * after the last advert when the master dies, 0.806 s after a priority-0 advert), then the LAN,
 * its packet capture, its echo client and its fault injection can be trusted to judge ha.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { needsRoot, which } from '@ha/lib/testing';
import { Capture, EchoClient, KeepalivedProc, Lan, LanNode, keepalivedConf, now, parseTcpdump } from './lan.js';

const missing = ['keepalived', 'tcpdump'].filter((c) => !which(c));
const skip = needsRoot || (missing.length > 0 && `needs ${missing.join(', ')} (apt-get install -y ${missing.join(' ')})`);
const noNft = !which('nft') && 'block() needs nft (apt-get install -y nftables)';

const TOLERANCE = 0.3;
const skew = (prio: number, interval = 1, version = 2): number => ((256 - prio) / 256) * (version === 3 ? interval : 1);
const masterDown = (prio: number, interval = 1, version = 2): number => 3 * interval + skew(prio, interval, version);
const near = (measured: number, expected: number, tolerance: number, what: string): void =>
  assert.ok(Math.abs(measured - expected) <= tolerance, `${what}: measured ${measured.toFixed(3)} s, expected ${expected.toFixed(3)} ± ${tolerance} s`);

describe('tcpdump lines and keepalived.conf (no root)', () => {
  test('VRRP, ARP and NA lines parse into events', () => {
    const v2 = parseTcpdump('1796184600.381635 c2:15:b4:66:d6:5e > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 54: (tos 0xc0, ttl 255, id 1, offset 0, flags [none], proto VRRP (112), length 40) 192.0.2.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 54, prio 100, authtype simple, intvl 1s, length 20, addrs: 192.0.2.102 auth "secret"');
    assert.deepEqual({ ...v2, line: undefined }, {
      t: 1796184600.381635, srcMac: 'c2:15:b4:66:d6:5e', dstMac: '01:00:5e:00:00:12', ethertype: 'IPv4', kind: 'vrrp', ttl: 255,
      src: '192.0.2.11', dst: '224.0.0.18', version: 2, type: 'Advertisement', vrid: 54, prio: 100, authtype: 'simple', intvl: 1,
      addrs: ['192.0.2.102'], auth: 'secret', line: undefined,
    });
    const v3 = parseTcpdump('1796184600.364425 c2:15:b4:66:d6:5e > 33:33:00:00:00:12, ethertype IPv6 (0x86dd), length 78: (class 0xc0, flowlabel 0xc4b41, hlim 254, next-header VRRP (112) payload length: 24) fe80::c015:b4ff:fe66:d65e > ff02::12: VRRPv3, Advertisement, vrid 52, prio 0, intvl 10cs, length 24, addrs(2): 2001:db8::100,2001:db8::101');
    assert.equal(v3?.ttl, 254);
    assert.equal(v3?.prio, 0);
    assert.equal(v3?.intvl, 0.1);
    assert.deepEqual(v3?.addrs, ['2001:db8::100', '2001:db8::101']);
    assert.equal(v3?.src, 'fe80::c015:b4ff:fe66:d65e');
    const plain = parseTcpdump('1796184439.618353 7a:8b:cf:bd:93:65 > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 54: 192.0.2.11 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 50, intvl 100cs, length 12');
    assert.deepEqual([plain?.version, plain?.vrid, plain?.prio, plain?.intvl, plain?.ttl], [3, 51, 50, 1, undefined]);
    const arp = parseTcpdump('1796184600.373546 c2:15:b4:66:d6:5e > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Ethernet (len 6), IPv4 (len 4), Request who-has 192.0.2.100 (ff:ff:ff:ff:ff:ff) tell 192.0.2.100, length 28');
    assert.deepEqual([arp?.kind, arp?.op, arp?.target, arp?.sender], ['arp', 'request', '192.0.2.100', '192.0.2.100']);
    const reply = parseTcpdump('1.5 02:00:c0:00:02:0a > 02:00:c0:00:02:32, ethertype ARP (0x0806), length 42: Reply 192.0.2.100 is-at 02:00:c0:00:02:0a, length 28');
    assert.deepEqual([reply?.op, reply?.target, reply?.lladdr], ['reply', '192.0.2.100', '02:00:c0:00:02:0a']);
    const na = parseTcpdump('1796184600.366456 c2:15:b4:66:d6:5e > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 86: (hlim 255, next-header ICMPv6 (58) payload length: 32) 2001:db8::100 > ff02::1: [icmp6 sum ok] ICMP6, neighbor advertisement, length 32, tgt is 2001:db8::100, Flags [override] destination link-address option (2), length 8 (1): c2:15:b4:66:d6:5e');
    assert.deepEqual([na?.kind, na?.target, na?.flags, na?.ttl], ['na', '2001:db8::100', 'override', 255]);
    assert.equal(parseTcpdump('listening on br0, link-type EN10MB (Ethernet)'), undefined);
  });

  test('keepalived.conf has every option asked for, and refuses words that would break it', () => {
    const conf = keepalivedConf({
      vrrpVersion: 3,
      instances: [{ vrid: 7, priority: 90, advertInt: 0.1, version: 3, nopreempt: true, preemptDelay: 5, authPass: 'pw', vips: ['192.0.2.100/24', '2001:db8::100 dev eth1'], unicastSrc: '192.0.2.10', unicastPeers: ['192.0.2.11'], notify: true }],
    }, '/tmp/x/notify.sh');
    for (const line of ['vrrp_version 3', 'script_user root', 'vrrp_instance VI_7 {', 'virtual_router_id 7', 'priority 90', 'advert_int 0.1', 'version 3', 'nopreempt',
      'preempt_delay 5', 'auth_type PASS', 'auth_pass pw', 'unicast_src_ip 192.0.2.10', '192.0.2.11', 'notify /tmp/x/notify.sh', '192.0.2.100/24 dev eth0', '2001:db8::100 dev eth1']) {
      assert.ok(conf.split('\n').some((l) => l.trim() === line), `missing ${line}:\n${conf}`);
    }
    assert.ok(!conf.includes('enable_script_security'));
    assert.throws(() => keepalivedConf({ instances: [{ vrid: 1, priority: 1, vips: ['192.0.2.1'], authPass: 'a }\nglobal_defs {' }] }), /not a plain word/);
  });
});

describe('two keepalived nodes and a client (IPv4, VRRPv2, advert 1 s, auth PASS)', { skip }, () => {
  const VIP = '192.0.2.100';
  const instance = (priority: number): Parameters<Lan['keepalived']>[1] => ({ vrid: 51, priority, advertInt: 1, version: 2, authPass: 'secret', vips: [`${VIP}/24`], notify: true });
  let lan: Lan;
  let n1: LanNode;
  let n2: LanNode;
  let cap: Capture;
  let k1: KeepalivedProc;
  let k2: KeepalivedProc;
  let client: EchoClient;

  before(async () => {
    lan = await Lan.create({ nodes: ['n1', 'n2'], clients: ['c1'] });
    [n1, n2] = [lan.node('n1'), lan.node('n2')];
    cap = await lan.capture('hub');
  });
  after(() => lan?.destroy());

  test('the higher priority becomes master, holds the VIP and answers the client', async (t) => {
    const t0 = now();
    k1 = await lan.keepalived(n1, instance(100));
    k2 = await lan.keepalived(n2, instance(50));
    await lan.waitFor(() => n1.vips().includes(VIP), 10_000, 'the VIP on n1');
    const first = await cap.advert({ from: n1, since: t0 }, 1000);
    t.diagnostic(`n1 master ${(first.t - t0).toFixed(3)} s after start (expected ~${masterDown(100).toFixed(3)})`);
    await k1.waitState('MASTER', 1000);
    assert.equal(k2.state(), 'BACKUP');
    assert.deepEqual(n2.vips(), []);
    assert.deepEqual([first.ttl, first.version, first.vrid, first.prio, first.intvl, first.auth, first.addrs], [255, 2, 51, 100, 1, 'secret', [VIP]]);
    assert.equal(first.srcMac, n1.mac);
    await cap.waitFor((p) => p.kind === 'arp' && p.op === 'request' && p.target === VIP && p.sender === VIP && p.srcMac === n1.mac, 1000, 'a gratuitous ARP from n1');
    await lan.waitFor(() => k1.notifications().some((l) => / INSTANCE VI_51 MASTER 100$/.test(l)), 3000, 'the notify script for MASTER');
    await lan.echoServer(n1, VIP, 7000);
    await lan.echoServer(n2, VIP, 7000);
    client = await lan.client('c1', VIP, 7000, { intervalMs: 20 });
    await lan.waitFor(() => client.lastBy() === 'n1', 3000, 'a reply from n1');
    assert.equal(lan.neighbour('c1', VIP)?.lladdr, n1.mac);
  });

  test('the master dies (kill -9, cable cut): the backup takes over 3 x 1 s + (256-50)/256 s after its last advert', async (t) => {
    const tKill = now();
    // a dead machine neither advertises nor answers; kill -9 alone would leave n1 answering on the VIP
    await k1.kill();
    n1.linkDown();
    assert.equal(k1.childPids().length, 0);
    assert.ok(n1.vips().includes(VIP), 'keepalived killed -9 leaves its VIP behind');
    const first = await cap.advert({ from: n2, since: tKill }, 8000);
    const last = cap.vrrp({ from: n1, until: tKill }).at(-1)!;
    assert.equal(cap.vrrp({ from: n1, since: tKill + 0.05 }).length, 0, 'no advert from n1 after the kill');
    const delay = first.t - last.t;
    t.diagnostic(`takeover after kill: ${delay.toFixed(3)} s after the last advert (expected ${masterDown(50).toFixed(3)})`);
    near(delay, masterDown(50), TOLERANCE, 'takeover after kill -9');
    assert.equal(first.prio, 50);
    await lan.waitFor(() => n2.vips().includes(VIP), 2000, 'the VIP on n2');
    await lan.waitFor(() => client.lastBy() === 'n2', 3000, 'a reply from n2');
    // keepalived's first 5 GARPs, or the second burst 5 s later, move the client's entry
    await lan.waitFor(() => lan.neighbour('c1', VIP)?.lladdr === n2.mac, 7000, "the client's neighbour entry on n2's MAC");
    const o = client.outage(tKill - 1);
    t.diagnostic(`client outage ${o.gap.toFixed(3)} s (${o.lost} of ${o.sent} datagrams lost), first answer by ${o.after?.by} ${((o.after?.t ?? 0) - first.t).toFixed(3)} s after n2's first advert`);
    // the outage runs from the kill to the takeover: answers stop with n1 and resume, from n2, with its first advert (and GARP)
    assert.equal(o.after?.by, 'n2');
    near(o.before!.t, tKill, 0.1, 'last answer before the outage');
    near(o.after!.t, first.t, 0.2, 'first answer after the outage');
  });

  test('graceful stop (SIGTERM): a priority-0 advert, then takeover after the skew', async (t) => {
    n1.linkUp();
    k1 = await lan.keepalived(n1, instance(100));
    // preempts: ignores n2's lower-priority adverts until its own master-down timer fires
    await lan.waitFor(() => n1.vips().includes(VIP) && n2.vips().length === 0, 10_000, 'n1 master again');
    await k2.waitState('BACKUP', 2000);
    const tStop = now();
    await k1.stop();
    const zero = await cap.advert({ from: n1, prio: 0, since: tStop }, 3000);
    const first = await cap.advert({ from: n2, prio: 50, since: zero.t }, 3000);
    const delay = first.t - zero.t;
    t.diagnostic(`takeover after a priority-0 advert: ${delay.toFixed(3)} s (expected ${skew(50).toFixed(3)})`);
    near(delay, skew(50), TOLERANCE, 'takeover after graceful stop');
    assert.deepEqual(n1.vips(), []);
    await lan.waitFor(() => n2.vips().includes(VIP), 2000, 'the VIP on n2');
    await lan.waitFor(() => client.lastBy() === 'n2', 3000, 'a reply from n2');
  });

  test('block() drops VRRP at the switch (both become master); unblock() ends it', { skip: noNft }, async (t) => {
    n2.block();
    const tBlock = now();
    k1 = await lan.keepalived(n1, instance(100));
    await lan.waitFor(() => n1.vips().includes(VIP) && n2.vips().includes(VIP), 8000, 'the VIP on both nodes');
    assert.equal(k2.state(), 'MASTER');
    // the hub's own port still sees both: the drop is in the bridge's forward path only
    await cap.advert({ from: n1, since: tBlock }, 2000);
    await cap.advert({ from: n2, since: tBlock }, 2000);
    n2.unblock();
    const tUnblock = now();
    await k2.waitState('BACKUP', 3000);
    await lan.waitFor(() => n2.vips().length === 0, 2000, 'n2 without the VIP');
    t.diagnostic(`split brain resolved ${(now() - tUnblock).toFixed(3)} s after unblock`);
    assert.ok(n1.vips().includes(VIP));
  });

  test('linkDown() is a cut cable (FAULT, the other takes over); linkUp() brings it back', async () => {
    if (!k1.running) {
      // the block() test was skipped
      k1 = await lan.keepalived(n1, instance(100));
      await lan.waitFor(() => n1.vips().includes(VIP) && n2.vips().length === 0, 10_000, 'n1 master again');
    }
    const tDown = now();
    n1.linkDown();
    await k1.waitState('FAULT', 3000);
    const first = await cap.advert({ from: n2, since: tDown }, 6000);
    assert.equal(first.prio, 50);
    await lan.waitFor(() => n2.vips().includes(VIP), 2000, 'the VIP on n2');
    n1.linkUp();
    await lan.waitFor(() => k1.state() !== 'FAULT', 5000, 'n1 out of FAULT');
  });
});

describe('IPv6 (VRRPv3, advert 0.1 s)', { skip }, () => {
  let lan: Lan;
  before(async () => {
    lan = await Lan.create({ nodes: ['a', 'b'], ipv6: true });
  });
  after(() => lan?.destroy());

  test('link-local source, hop limit 255, takeover after 3 x 0.1 s + skew, unsolicited NAs', async (t) => {
    const VIP6 = '2001:db8::100';
    const [a, b] = [lan.node('a'), lan.node('b')];
    assert.equal(a.address6, '2001:db8::10');
    assert.match(a.linkLocal6 ?? '', /^fe80::/);
    const cap = await lan.capture('hub');
    const ka = await lan.keepalived(a, { vrid: 61, priority: 100, advertInt: 0.1, version: 3, vips: [`${VIP6}/64`] });
    await lan.keepalived(b, { vrid: 61, priority: 50, advertInt: 0.1, version: 3, vips: [`${VIP6}/64`] });
    await lan.waitFor(() => a.vips().includes(VIP6), 5000, 'the VIP6 on a');
    const adv = await cap.advert({ from: a }, 1000);
    assert.deepEqual([adv.src, adv.dst, adv.ttl, adv.version, adv.intvl, adv.addrs], [a.linkLocal6, 'ff02::12', 255, 3, 0.1, [VIP6]]);
    await lan.waitFor(() => cap.vrrp({ from: a }).length >= 5, 2000, 'a few adverts');
    const tKill = now();
    await ka.kill();
    const first = await cap.advert({ from: b, since: tKill }, 3000);
    const delay = first.t - cap.vrrp({ from: a, until: tKill }).at(-1)!.t;
    assert.equal(cap.vrrp({ from: a, since: tKill }).length, 0, 'a crash sends no priority-0 advert');
    t.diagnostic(`IPv6 takeover after kill: ${delay.toFixed(3)} s (expected ${masterDown(50, 0.1, 3).toFixed(3)})`);
    near(delay, masterDown(50, 0.1, 3), 0.1, 'IPv6 takeover');
    const na = await cap.waitFor((p) => p.kind === 'na' && p.target === VIP6 && p.srcMac === b.mac, 2000, 'an NA from b');
    assert.equal(na.flags, 'override');
    await lan.waitFor(() => b.vips().includes(VIP6), 2000, 'the VIP6 on b');
  });
});
