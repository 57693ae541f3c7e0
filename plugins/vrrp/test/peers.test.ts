/**
 * The peers analysis: PeerTable fed by hand (every problem it names, the states it believes,
 * its memory bounds, passwords never shown), and `ha vrrp peers` on the wire: keepalived and our
 * own socket both advertising as master of VRID 51 on one bridge (namespaces so-…), heard by the
 * built CLI in a third namespace.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ha, haRun, needsRoot, oneLine, which } from '@ha/lib/testing';
import { Ns, startKeepalived } from './ns.js';
import { PeerTable, masterDownMs, renderPeers, type PeerProblemKind, type PeerReport } from '../src/peers.js';
import { VrrpSocket } from '../src/sockets.js';
import { VRRP_GROUP_V4, encodeAdvert, passwordBytes } from '../src/packet.js';
import type { Advert, Family } from '../src/types.js';

// ---- PeerTable, pure ----

const v2 = (o: Partial<Advert> = {}): Advert => ({
  version: 2, family: 4, vrid: 51, priority: 100, intervalCs: 100, addresses: ['192.0.2.100'], authType: 1, authData: passwordBytes('s3cret'), ...o,
});

/** Adverts from `source` every interval from `from` to `to` (ms). */
function stream(t: PeerTable, source: string, advert: Advert, from: number, to: number, o: { ttl?: number; ifname?: string; family?: Family } = {}): void {
  for (let at = from; at <= to; at += advert.intervalCs * 10) {
    t.feed({ ifname: o.ifname ?? 'eth0', family: o.family ?? 4, at, rx: { source, destination: VRRP_GROUP_V4, ttl: o.ttl ?? 255, ifindex: 2 }, advert });
  }
}

const kinds = (r: PeerReport): PeerProblemKind[] => r.problems.map((p) => p.kind).sort();

test('one master and nothing wrong: one router, believed master, no problems', () => {
  const t = new PeerTable();
  stream(t, '192.0.2.1', v2({ priority: 200 }), 0, 3000);
  const r = t.report(3200);
  assert.deepEqual(r.problems, []);
  assert.equal(r.groups.length, 1);
  const g = r.groups[0]!;
  assert.deepEqual([g.interface, g.family, g.vrid, g.masters], ['eth0', 4, 51, ['192.0.2.1']]);
  assert.deepEqual(g.routers[0], {
    address: '192.0.2.1', state: 'master', priority: 200, version: 2, intervalCs: 100, addresses: ['192.0.2.100'], authType: 1, auth: 'PASS#1',
    ttl: 255, badTtl: 0, adverts: 4, priorityZero: 0, firstSeenMs: 0, lastSeenMs: 3000,
  });
});

test('a master falls silent after its Master_Down_Interval, and one that sent priority 0 has released', () => {
  const t = new PeerTable();
  stream(t, '192.0.2.1', v2({ priority: 200 }), 0, 2000);
  stream(t, '192.0.2.2', v2({ vrid: 52 }), 0, 2000);
  t.feed({ ifname: 'eth0', family: 4, at: 2100, rx: { source: '192.0.2.2', destination: VRRP_GROUP_V4, ttl: 255, ifindex: 2 }, advert: v2({ vrid: 52, priority: 0 }) });
  assert.equal(masterDownMs(2, 100, 200), 3000 + (56 * 1000) / 256);
  assert.equal(masterDownMs(3, 100, 200), 3000 + (56 * 1000) / 256);
  assert.equal(masterDownMs(3, 50, 100), 1500 + (156 * 500) / 256);
  const soon = t.report(2000 + 3000);
  assert.deepEqual(soon.groups.map((g) => g.routers[0]!.state), ['master', 'released']);
  assert.equal(soon.groups[1]!.routers[0]!.priorityZero, 1);
  const later = t.report(2000 + masterDownMs(2, 100, 200) + 1000);
  assert.deepEqual(later.groups.map((g) => g.routers[0]!.state), ['silent', 'released']);
  assert.deepEqual(later.groups[0]!.masters, []);
});

test('split brain: two routers advertising as master at once', () => {
  const t = new PeerTable();
  stream(t, '192.0.2.1', v2({ priority: 200 }), 100, 3100);
  stream(t, '192.0.2.3', v2({ priority: 100 }), 600, 2600);
  const r = t.report(3200);
  assert.deepEqual(kinds(r), ['split-brain']);
  const p = r.problems[0]!;
  assert.deepEqual([p.severity, p.interface, p.family, p.vrid, p.routers.sort()], ['error', 'eth0', 4, 51, ['192.0.2.1', '192.0.2.3']]);
  assert.match(p.message, /^VRID 51 on eth0 \(IPv4\): 2 routers advertise as master at once \(split brain\)/);
  assert.deepEqual(r.groups[0]!.masters.sort(), ['192.0.2.1', '192.0.2.3']);
});

test('a takeover is not a split brain: the old master stops as the new one starts', () => {
  const t = new PeerTable();
  stream(t, '192.0.2.3', v2({ priority: 100 }), 0, 3000);
  stream(t, '192.0.2.1', v2({ priority: 200 }), 3010, 6010);
  // the old one is still within its Master_Down_Interval at 4000, yet no split brain
  assert.deepEqual(kinds(t.report(4000)), []);
  assert.deepEqual(kinds(t.report(6100)), []);
  // and a master that released (priority 0) is not one either
  const u = new PeerTable();
  stream(u, '192.0.2.3', v2(), 0, 3000);
  u.feed({ ifname: 'eth0', family: 4, at: 3050, rx: { source: '192.0.2.3', destination: VRRP_GROUP_V4, ttl: 255, ifindex: 2 }, advert: v2({ priority: 0 }) });
  stream(u, '192.0.2.1', v2({ priority: 50 }), 1000, 6000);
  assert.deepEqual(kinds(u.report(6100)), []);
});

test('different VIP sets between routers of one VRID (order does not matter)', () => {
  const t = new PeerTable();
  stream(t, '192.0.2.1', v2({ addresses: ['192.0.2.100', '192.0.2.101'] }), 0, 0);
  stream(t, '192.0.2.2', v2({ addresses: ['192.0.2.101', '192.0.2.100'] }), 0, 0);
  assert.deepEqual(kinds(t.report(10_000)), []);
  stream(t, '192.0.2.3', v2({ addresses: ['192.0.2.200'] }), 0, 0);
  const r = t.report(10_000);
  assert.deepEqual(kinds(r), ['vip-mismatch']);
  assert.equal(r.problems[0]!.severity, 'warning');
  assert.match(r.problems[0]!.message, /192\.0\.2\.1, 192\.0\.2\.2: 192\.0\.2\.100 192\.0\.2\.101; 192\.0\.2\.3: 192\.0\.2\.200/);
});

test('different advert intervals: an error for VRRPv2, a warning for VRRPv3', () => {
  const t = new PeerTable();
  stream(t, '192.0.2.1', v2({ intervalCs: 100 }), 0, 0);
  stream(t, '192.0.2.2', v2({ intervalCs: 200 }), 0, 0);
  const r = t.report(10_000);
  assert.deepEqual(kinds(r), ['interval-mismatch']);
  assert.equal(r.problems[0]!.severity, 'error');
  assert.match(r.problems[0]!.message, /advert intervals differ: 1s \(192\.0\.2\.1\), 2s \(192\.0\.2\.2\)/);
  const u = new PeerTable();
  const v3: Advert = { version: 3, family: 4, vrid: 5, priority: 100, intervalCs: 100, addresses: ['192.0.2.100'], authType: 0 };
  stream(u, '192.0.2.1', v3, 0, 0);
  stream(u, '192.0.2.2', { ...v3, intervalCs: 50 }, 0, 0);
  assert.equal(u.report(10_000).problems[0]!.severity, 'warning');
});

test('authentication: a type mismatch, and a password mismatch compared by bytes and never shown', () => {
  const t = new PeerTable();
  stream(t, '192.0.2.1', v2(), 0, 0);
  stream(t, '192.0.2.2', v2({ authType: 0, authData: undefined }), 0, 0);
  const r = t.report(10_000);
  assert.deepEqual(kinds(r), ['auth-mismatch']);
  assert.match(r.problems[0]!.message, /authentication types differ: 192\.0\.2\.1 PASS, 192\.0\.2\.2 none/);

  const u = new PeerTable();
  stream(u, '192.0.2.1', v2({ authData: passwordBytes('s3cret') }), 0, 0);
  stream(u, '192.0.2.2', v2({ authData: passwordBytes('s3cret') }), 10, 10);
  assert.deepEqual(kinds(u.report(10_000)), []);
  stream(u, '192.0.2.3', v2({ authData: passwordBytes('other-pw') }), 20, 20);
  const s = u.report(10_000);
  assert.deepEqual(kinds(s), ['auth-mismatch']);
  assert.equal(s.problems[0]!.message, 'VRID 51 on eth0 (IPv4): passwords differ: 192.0.2.1 has password #1, 192.0.2.2 has password #1, 192.0.2.3 has password #2');
  assert.deepEqual(s.groups[0]!.routers.map((x) => x.auth), ['PASS#1', 'PASS#1', 'PASS#2']);
  const everything = JSON.stringify(s) + renderPeers(s);
  assert.doesNotMatch(everything, /s3cret|other-pw/);
});

test('TTL not 255 is named per router, with the TTL seen', () => {
  const t = new PeerTable();
  stream(t, '192.0.2.1', v2(), 0, 2000, { ttl: 64 });
  stream(t, '192.0.2.2', v2({ vrid: 52 }), 0, 0);
  const r = t.report(2100);
  assert.deepEqual(kinds(r), ['ttl']);
  assert.equal(r.problems[0]!.message, 'VRID 51 on eth0 (IPv4): 192.0.2.1 sent 3 adverts with TTL 64, not 255 (routed, or not a conforming sender; peers drop them)');
  assert.deepEqual(r.problems[0]!.routers, ['192.0.2.1']);
  assert.equal(r.groups[0]!.routers[0]!.badTtl, 3);
});

test('different VRRP versions on one VRID', () => {
  const t = new PeerTable();
  stream(t, '192.0.2.1', v2(), 0, 0);
  stream(t, '192.0.2.2', { version: 3, family: 4, vrid: 51, priority: 100, intervalCs: 100, addresses: ['192.0.2.100'], authType: 0 }, 0, 0);
  const r = t.report(10_000);
  // v3 has no auth: only the v2 router is compared for it
  assert.deepEqual(kinds(r), ['version-mismatch']);
  assert.match(r.problems[0]!.message, /VRRP versions differ: 192\.0\.2\.1 v2, 192\.0\.2\.2 v3/);
});

test('rejected packets by reason, with their senders (at most 8 kept) and the VRID when known', () => {
  const t = new PeerTable();
  for (let i = 0; i < 20; i++) t.feed({ ifname: 'eth0', family: 4, at: i, reason: 'checksum_err', rx: { source: `192.0.2.${10 + (i % 10)}` }, vrid: 51 });
  t.feed({ ifname: 'eth0', family: 6, at: 30, reason: 'overflow', count: 1234 });
  const r = t.report(100);
  assert.deepEqual(kinds(r), ['rejected', 'rejected']);
  assert.deepEqual(r.rejected[0], { interface: 'eth0', family: 4, reason: 'checksum_err', count: 20, vrid: 51, sources: Array.from({ length: 8 }, (_, i) => `192.0.2.${10 + i}`) });
  assert.deepEqual(r.rejected[1], { interface: 'eth0', family: 6, reason: 'overflow', count: 1234, sources: [] });
  assert.equal(r.problems[1]!.message, '1234 packets rejected (overflow) on eth0 (IPv6)');
});

test('memory is bounded: routers past the limit per VRID and VRIDs past the limit are counted, not kept', () => {
  const t = new PeerTable({ maxRouters: 4, maxGroups: 2 });
  for (let i = 1; i <= 10; i++) stream(t, `192.0.2.${i}`, v2(), 0, 0);
  for (let vrid = 1; vrid <= 5; vrid++) stream(t, '192.0.2.1', v2({ vrid }), 0, 0);
  const r = t.report(0);
  assert.equal(r.groups.length, 2);
  const g51 = r.groups.find((g) => g.vrid === 51)!;
  assert.equal(g51.routers.length, 4);
  assert.equal(g51.untracked, 6);
  assert.equal(t.untrackedGroups, 4);
});

test('the window: routers not heard for longer are left out of the problems, not of the table', () => {
  const t = new PeerTable({ windowMs: 10_000 });
  stream(t, '192.0.2.1', v2({ addresses: ['192.0.2.100'] }), 0, 0);
  stream(t, '192.0.2.2', v2({ addresses: ['192.0.2.200'] }), 60_000, 60_000);
  const r = t.report(60_500);
  assert.deepEqual(kinds(r), []);
  assert.equal(r.groups[0]!.routers.length, 2);
});

test('the text table: a row per router, then the problems; an empty report says so', () => {
  const t = new PeerTable();
  stream(t, '192.0.2.1', v2({ priority: 200 }), 100, 3100);
  stream(t, '192.0.2.3', v2({ priority: 100, addresses: ['192.0.2.200'] }), 600, 2600);
  const text = renderPeers(t.report(3200), { now: 3200, heading: 'Listened 3 s on eth0' });
  const lines = text.split('\n');
  assert.equal(lines[0], 'Listened 3 s on eth0');
  assert.match(lines[2]!, /^INTERFACE\s+FAMILY\s+VRID\s+ROUTER\s+STATE\s+PRIO\s+VER\s+INTERVAL\s+AUTH\s+TTL\s+ADVERTS\s+LAST\s+VIPS$/);
  assert.match(lines[3]!, /^eth0\s+IPv4\s+51\s+192\.0\.2\.1\s+master\s+200\s+v2\s+1s\s+PASS#1\s+255\s+4\s+0\.1s\s+192\.0\.2\.100$/);
  assert.match(lines[4]!, /^eth0\s+IPv4\s+51\s+192\.0\.2\.3\s+master\s+100\s+v2\s+1s\s+PASS#1\s+255\s+3\s+0\.6s\s+192\.0\.2\.200$/);
  assert.match(text, /\nProblems:\n {2}error: VRID 51 on eth0 \(IPv4\): 2 routers advertise as master at once \(split brain\)/);
  assert.match(text, /\n {2}warning: VRID 51 on eth0 \(IPv4\): routers carry different virtual addresses/);
  assert.equal(renderPeers(new PeerTable().report(0)), 'No VRRP adverts seen.\n\nNo problems seen.');
});

// ---- ha vrrp peers on the wire ----


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


describe('ha vrrp peers on a bridge: keepalived and our own socket both master of VRID 51', { skip: needsRoot || (!which('keepalived') && 'keepalived is not installed (apt-get install -y keepalived)') }, () => {
  const spaces: Ns[] = [];
  let dir: string;
  let k: ReturnType<typeof startKeepalived> | undefined;
  let c: Ns;
  let b: Ns;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ha-so-peers-'));
    const br = Ns.create('br');
    const a = Ns.create('a');
    b = Ns.create('b');
    c = Ns.create('c');
    spaces.push(br, a, b, c);
    br.ip('link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
    br.ip('link', 'set', 'br0', 'up');
    for (const [ns, n] of [[a, 1], [b, 2], [c, 3]] as const) {
      br.ip('link', 'add', `p${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name);
      br.ip('link', 'set', `p${n}`, 'master', 'br0');
      br.ip('link', 'set', `p${n}`, 'up');
      ns.ip('addr', 'add', `192.0.2.${n}/24`, 'dev', 'eth0');
      ns.ip('link', 'set', 'eth0', 'up');
    }
    k = startKeepalived(a, dir, `vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 255
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass s3cret
  }
  virtual_ipaddress {
    192.0.2.150/24
  }
}
`);
  });
  after(async () => {
    await k?.stop();
    for (const ns of spaces) ns.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Our adverts carry keepalived's own VIP list: keepalived 2.2.7 as MASTER drops an advert whose
  // list differs, and every packet it drops (or a bad checksum) restarts its advert timer, so a
  // stream of them at its interval silences it (measured). A valid lower-priority advert makes it
  // advertise at once, so both keep advertising: the split brain.
  test('--json: two masters of VRID 51 (split brain), and our bad-checksum packets rejected', async () => {
    const info = JSON.parse(c.ip('-j', 'link', 'show', 'eth0')) as Array<{ ifindex: number }>;
    const sc = VrrpSocket.open({ family: 4, ifname: 'eth0', ifindex: info[0]!.ifindex, netns: c.path, source: '192.0.2.3' });
    const ours = encodeAdvert({ version: 2, family: 4, vrid: 51, priority: 100, intervalCs: 100, addresses: ['192.0.2.150'], authType: 1, authData: passwordBytes('s3cret') }, '192.0.2.3', VRRP_GROUP_V4);
    const broken = Uint8Array.from(ours);
    broken[7] = broken[7]! ^ 0xff;
    const send = (): void => {
      sc.send(ours, VRRP_GROUP_V4);
      sc.send(broken, VRRP_GROUP_V4);
    };
    send();
    const timer = setInterval(send, 1000);
    try {
      // keepalived at priority 255 (the address owner) is master as soon as it runs
      for (let i = 0; i < 100 && !k!.log().includes('Entering MASTER STATE'); i++) await sleep(50);
      assert.match(k!.log(), /Entering MASTER STATE/);
      const { done } = haRun(['vrrp', 'peers', '--interface', 'eth0', '--seconds', '3', '--family', '4', '--json'], { wrap: b.wrap });
      const r = await done;

      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { interface: string; families: number[]; seconds: number; packets: number; groups: PeerReport['groups']; rejected: PeerReport['rejected']; problems: PeerReport['problems'] };
      assert.deepEqual([out.interface, out.families, out.seconds], ['eth0', [4], 3]);
      assert.equal(out.groups.length, 1);
      const g = out.groups[0]!;
      assert.equal(g.vrid, 51);
      const byAddress = Object.fromEntries(g.routers.map((x) => [x.address, x]));
      assert.deepEqual(Object.keys(byAddress).sort(), ['192.0.2.1', '192.0.2.3']);
      assert.deepEqual([byAddress['192.0.2.1']!.priority, byAddress['192.0.2.1']!.state, byAddress['192.0.2.1']!.addresses, byAddress['192.0.2.1']!.auth], [255, 'master', ['192.0.2.150'], 'PASS#1']);
      assert.deepEqual([byAddress['192.0.2.3']!.priority, byAddress['192.0.2.3']!.state, byAddress['192.0.2.3']!.addresses, byAddress['192.0.2.3']!.auth], [100, 'master', ['192.0.2.150'], 'PASS#1']);
      assert.ok(byAddress['192.0.2.1']!.adverts >= 3, `keepalived sent ${byAddress['192.0.2.1']!.adverts} adverts in 3 s`);
      const problemKinds = [...new Set(out.problems.map((p) => p.kind))].sort();
      assert.deepEqual(problemKinds, ['rejected', 'split-brain']);
      const split = out.problems.find((p) => p.kind === 'split-brain')!;
      assert.deepEqual(split.routers.sort(), ['192.0.2.1', '192.0.2.3']);
      assert.deepEqual(out.rejected.map((x) => [x.reason, x.vrid, x.sources]), [['checksum_err', 51, ['192.0.2.3']]]);
      assert.ok(out.rejected[0]!.count >= 2);
      assert.doesNotMatch(r.stdout, /s3cret/);
    } finally {
      clearInterval(timer);
      sc.close();
    }
  });

  test('the table for people; an unknown interface is a usage error (exit 2, one line)', async () => {
    const { done } = haRun(['vrrp', 'peers', '-i', 'eth0', '--seconds', '1.5'], { wrap: b.wrap });
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Listened 1\.5 s on eth0 \(IPv4, IPv6\): \d+ VRRP packets?\./);
    assert.match(r.stdout, /\neth0\s+IPv4\s+51\s+192\.0\.2\.1\s+master\s+255\s+v2\s+1s\s+PASS#1\s+255\s+\d+\s+\S+\s+192\.0\.2\.150\n/);
    const bad = ha(['vrrp', 'peers', '--interface', 'nosuch0'], { wrap: b.wrap });
    assert.equal(bad.code, 2);
    assert.equal(oneLine(bad.stderr), 'ha: interface nosuch0 does not exist');
    const badJson = ha(['vrrp', 'peers', '--interface', 'nosuch0', '--json'], { wrap: b.wrap });
    assert.equal(badJson.code, 2);
    assert.deepEqual(JSON.parse(badJson.stdout), { error: { code: 'EUSAGE', message: 'interface nosuch0 does not exist', exitCode: 2 } });
    const badFamily = ha(['vrrp', 'peers', '--interface', 'eth0', '--family', '5'], { wrap: b.wrap });
    assert.equal(badFamily.code, 2);
  });
});
