/**
 * The VRRP wire on the host kernel, in network namespaces made for the test (names so-…): two
 * namespaces A and B joined by a veth. Adverts from A's VrrpSocket arrive in B with TTL 255 and
 * the right source and destination and never come back to A (v2 and v3 over IPv4, v3 over IPv6,
 * multicast and unicast); a burst into a tiny receive buffer is counted as overflow; a
 * gratuitous ARP and an unsolicited NA from A move B's neighbour entry for a VIP to A's MAC; and
 * keepalived 2.2.7 interoperates both ways: its adverts parse, and it stays BACKUP while we
 * advertise a higher priority, taking over ~3.8 s after we stop.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { needsRoot, which } from '@ha/lib/testing';
import { VrrpSocket, Announcer, interfaceInfo, type InterfaceInfo } from '../src/sockets.js';
import { VRRP_GROUP_V4, VRRP_GROUP_V6, encodeAdvert, parseAdvert, passwordBytes } from '../src/packet.js';
import type { Advert, Received } from '../src/types.js';

import { type Keepalived, Ns, startKeepalived } from './ns.js';

interface Pair {
  a: Ns;
  b: Ns;
  ia: InterfaceInfo;
  ib: InterfaceInfo;
}

/** A (va: 192.0.2.1, 2001:db8::1) <-veth-> B (vb: 192.0.2.2, 2001:db8::2). */
async function makePair(label: string): Promise<Pair> {
  const a = Ns.create(`${label}a`);
  const b = Ns.create(`${label}b`);
  a.ip('link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b.name);
  a.ip('addr', 'add', '192.0.2.1/24', 'dev', 'va');
  a.ip('addr', 'add', '2001:db8::1/64', 'dev', 'va', 'nodad');
  b.ip('addr', 'add', '192.0.2.2/24', 'dev', 'vb');
  b.ip('addr', 'add', '2001:db8::2/64', 'dev', 'vb', 'nodad');
  a.ip('link', 'set', 'va', 'up');
  b.ip('link', 'set', 'vb', 'up');
  return { a, b, ia: await interfaceInfo('va', { netns: a.path }), ib: await interfaceInfo('vb', { netns: b.path }) };
}

interface Heard {
  payload: Uint8Array;
  rx: Received;
  at: number;
}

function listen(s: VrrpSocket): Heard[] {
  const heard: Heard[] = [];
  s.onPacket((payload, rx) => heard.push({ payload, rx, at: performance.now() }));
  return heard;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

function neighbourMac(ns: Ns, address: string, dev: string): string | undefined {
  const list = JSON.parse(ns.ip('-j', 'neigh', 'show', address, 'dev', dev) || '[]') as Array<{ lladdr?: string }>;
  return list[0]?.lladdr;
}

/** One UDP datagram from ns to address (no ping here): the kernel resolves the neighbour first. */
function talkTo(ns: Ns, address: string): void {
  ns.exec('bash', '-c', `echo hello > /dev/udp/${address}/9`);
}

const v2advert: Advert = { version: 2, family: 4, vrid: 51, priority: 100, intervalCs: 100, addresses: ['192.0.2.100', '192.0.2.101'], authType: 1, authData: passwordBytes('s3cret') };

describe('VrrpSocket and Announcer between two namespaces', { skip: needsRoot }, () => {
  let p: Pair;
  const open: Array<VrrpSocket | Announcer> = [];
  before(async () => { p = await makePair('w'); });
  after(() => {
    for (const s of open) s.close();
    p?.a.destroy();
    p?.b.destroy();
  });
  const sock = (side: 'a' | 'b', family: 4 | 6, extra: { source?: string; rcvbuf?: number } = {}): VrrpSocket => {
    const info = side === 'a' ? p.ia : p.ib;
    const s = VrrpSocket.open({ family, ifname: info.name, ifindex: info.ifindex, netns: (side === 'a' ? p.a : p.b).path, ...extra });
    open.push(s);
    return s;
  };

  for (const version of [2, 3] as const) {
    test(`IPv4 VRRPv${version}: A's advert arrives in B (TTL 255, source, 224.0.0.18) and not back in A`, async () => {
      const sa = sock('a', 4, { source: '192.0.2.1' });
      const sb = sock('b', 4);
      const inA = listen(sa);
      const inB = listen(sb);
      const advert: Advert = version === 2 ? v2advert : { version: 3, family: 4, vrid: 51, priority: 100, intervalCs: 50, addresses: ['192.0.2.100', '192.0.2.101'], authType: 0 };
      assert.ok(sa.send(encodeAdvert(advert, '192.0.2.1', VRRP_GROUP_V4), VRRP_GROUP_V4) > 0);
      const got = await waitFor('the advert in B', () => inB[0], 2000);
      assert.deepEqual(got.rx, { source: '192.0.2.1', destination: VRRP_GROUP_V4, ttl: 255, ifindex: p.ib.ifindex });
      const parsed = parseAdvert(got.payload, 4, got.rx.source, got.rx.destination);
      assert.ok(parsed.ok, JSON.stringify(parsed));
      assert.deepEqual(parsed.advert, advert);
      await sleep(200);
      assert.equal(inA.length, 0, 'our own multicast advert came back');
      assert.equal(inB.length, 1);
      assert.equal(sb.counters.received, 1);
      assert.equal(sa.counters.sent, 1);
      sa.close();
      sb.close();
    });
  }

  test('IPv6 VRRPv3: from A\'s link-local address to ff02::12 with hop limit 255, not back in A', async () => {
    const sa = sock('a', 6);
    const sb = sock('b', 6);
    const inA = listen(sa);
    const inB = listen(sb);
    const advert: Advert = { version: 3, family: 6, vrid: 7, priority: 200, intervalCs: 100, addresses: ['2001:db8::100', 'fe80::1'], authType: 0 };
    assert.ok(sa.send(encodeAdvert(advert, p.ia.ipv6LinkLocal!, VRRP_GROUP_V6), VRRP_GROUP_V6) > 0);
    const got = await waitFor('the advert in B', () => inB[0], 2000);
    assert.deepEqual(got.rx, { source: p.ia.ipv6LinkLocal, destination: VRRP_GROUP_V6, ttl: 255, ifindex: p.ib.ifindex });
    const parsed = parseAdvert(got.payload, 6, got.rx.source, got.rx.destination);
    assert.ok(parsed.ok, JSON.stringify(parsed));
    assert.deepEqual(parsed.advert, advert);
    await sleep(200);
    assert.equal(inA.length, 0);
    sa.close();
    sb.close();
  });

  test('unicast adverts to B\'s address, IPv4 and IPv6, with TTL 255 and the chosen source', async () => {
    const sa4 = sock('a', 4, { source: '192.0.2.1' });
    const sb4 = sock('b', 4);
    const sa6 = sock('a', 6, { source: '2001:db8::1' });
    const sb6 = sock('b', 6);
    const in4 = listen(sb4);
    const in6 = listen(sb6);
    const a4: Advert = { version: 3, family: 4, vrid: 51, priority: 100, intervalCs: 100, addresses: ['192.0.2.100'], authType: 0 };
    const a6: Advert = { version: 3, family: 6, vrid: 9, priority: 10, intervalCs: 100, addresses: ['2001:db8::100'], authType: 0 };
    assert.ok(sa4.send(encodeAdvert(a4, '192.0.2.1', '192.0.2.2'), '192.0.2.2') > 0);
    assert.ok(sa6.send(encodeAdvert(a6, '2001:db8::1', '2001:db8::2'), '2001:db8::2') > 0);
    const g4 = await waitFor('the IPv4 unicast advert', () => in4[0], 2000);
    const g6 = await waitFor('the IPv6 unicast advert', () => in6[0], 2000);
    assert.deepEqual(g4.rx, { source: '192.0.2.1', destination: '192.0.2.2', ttl: 255, ifindex: p.ib.ifindex });
    assert.deepEqual(g6.rx, { source: '2001:db8::1', destination: '2001:db8::2', ttl: 255, ifindex: p.ib.ifindex });
    assert.ok(parseAdvert(g4.payload, 4, g4.rx.source, g4.rx.destination).ok);
    assert.ok(parseAdvert(g6.payload, 6, g6.rx.source, g6.rx.destination).ok);
    for (const s of [sa4, sb4, sa6, sb6]) s.close();
  });

  test('a burst into a small receive buffer: the kernel\'s drops are counted as overflow, nothing is lost silently', async () => {
    const sa = sock('a', 4, { source: '192.0.2.1' });
    const sb = sock('b', 4, { rcvbuf: 4096 });
    const inB = listen(sb);
    const bytes = encodeAdvert(v2advert, '192.0.2.1', VRRP_GROUP_V4);
    let sent = 0;
    // synchronous: the event loop cannot drain B meanwhile
    for (let i = 0; i < 500; i++) if (sa.send(bytes, VRRP_GROUP_V4) > 0) sent++;
    await waitFor('the queued packets', () => inB.length > 0, 2000);
    await sleep(100);
    // the drop count rides on the next packet that gets through
    sa.send(bytes, VRRP_GROUP_V4);
    sent++;
    await waitFor('the last packet', () => inB.length > 0 && sb.counters.dropped.overflow > 0, 2000);
    assert.ok(sb.counters.received < sent, `${sb.counters.received} of ${sent} received: the buffer should have overflowed`);
    assert.ok(sb.counters.received + sb.counters.dropped.overflow <= sent);
    assert.ok(sb.counters.dropped.overflow >= sent - sb.counters.received - 50, JSON.stringify(sb.counters));
    sa.close();
    sb.close();
  });

  test('a handler that throws is counted and reported; the socket goes on receiving', async () => {
    const sa = sock('a', 4, { source: '192.0.2.1' });
    const sb = sock('b', 4);
    const errors: Error[] = [];
    sb.onError = (e) => { errors.push(e); throw new Error('and the error handler fails too'); };
    let calls = 0;
    sb.onPacket(() => { calls++; throw new Error('handler bug'); });
    const bytes = encodeAdvert(v2advert, '192.0.2.1', VRRP_GROUP_V4);
    sa.send(bytes, VRRP_GROUP_V4);
    sa.send(bytes, VRRP_GROUP_V4);
    await waitFor('two calls', () => calls === 2, 2000);
    assert.equal(sb.counters.handlerErrors, 2);
    assert.deepEqual(errors.map((e) => e.message), ['handler bug', 'handler bug']);
    sa.close();
    sb.close();
  });

  test('a gratuitous ARP from A moves B\'s STALE entry for the VIP to A\'s MAC', async () => {
    p.a.ip('addr', 'add', '192.0.2.100/32', 'dev', 'va');
    talkTo(p.b, '192.0.2.100');
    await waitFor('B to resolve the VIP', () => neighbourMac(p.b, '192.0.2.100', 'vb') === p.ia.mac, 2000);
    p.b.ip('neigh', 'replace', '192.0.2.100', 'lladdr', '02:00:00:00:00:99', 'dev', 'vb', 'nud', 'stale');
    assert.equal(neighbourMac(p.b, '192.0.2.100', 'vb'), '02:00:00:00:00:99');
    const an = new Announcer({ netns: p.a.path });
    open.push(an);
    assert.equal(an.garp('va', p.ia.ifindex, p.ia.mac!, '192.0.2.100'), 60);
    await waitFor('the entry to move', () => neighbourMac(p.b, '192.0.2.100', 'vb') === p.ia.mac, 2000);
  });

  test('an unsolicited NA from A moves B\'s STALE entry for an IPv6 VIP to A\'s MAC', async () => {
    p.a.ip('addr', 'add', '2001:db8::100/128', 'dev', 'va', 'nodad');
    talkTo(p.b, '2001:db8::100');
    await waitFor('B to resolve the VIP', () => neighbourMac(p.b, '2001:db8::100', 'vb') === p.ia.mac, 2000);
    p.b.ip('-6', 'neigh', 'replace', '2001:db8::100', 'lladdr', '02:00:00:00:00:98', 'dev', 'vb', 'nud', 'stale');
    assert.equal(neighbourMac(p.b, '2001:db8::100', 'vb'), '02:00:00:00:00:98');
    const an = new Announcer({ netns: p.a.path });
    open.push(an);
    assert.equal(an.na(p.ia.ifindex, '2001:db8::100', p.ia.mac!), 32);
    await waitFor('the entry to move', () => neighbourMac(p.b, '2001:db8::100', 'vb') === p.ia.mac, 2000);
  });
});

// ---- keepalived ----

const haveKeepalived = which('keepalived');


function instanceConf(o: { state: 'MASTER' | 'BACKUP'; priority: number; password: string; vips: string[] }): string {
  return `global_defs {
  router_id so_test
}
vrrp_instance VI_1 {
  state ${o.state}
  interface va
  virtual_router_id 51
  priority ${o.priority}
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass ${o.password}
  }
  virtual_ipaddress {
${o.vips.map((v) => `    ${v}`).join('\n')}
  }
}
`;
}

const hasAddress = (ns: Ns, dev: string, address: string): boolean => ns.ip('-o', 'addr', 'show', 'dev', dev).includes(` ${address}/`);

describe('interoperating with keepalived 2.2.7', { skip: needsRoot || (!haveKeepalived && 'keepalived is not installed (apt-get install -y keepalived)') }, () => {
  let p: Pair;
  let dir: string;
  const running: Keepalived[] = [];
  const open: VrrpSocket[] = [];
  before(async () => {
    p = await makePair('k');
    dir = mkdtempSync(join(tmpdir(), 'ha-so-keepalived-'));
  });
  after(async () => {
    for (const k of running) await k.stop();
    for (const s of open) s.close();
    p?.a.destroy();
    p?.b.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('keepalived as MASTER of VRID 51: its adverts arrive in B and parse (v2, priority, VIPs, PASS)', async () => {
    const sb = VrrpSocket.open({ family: 4, ifname: 'vb', ifindex: p.ib.ifindex, netns: p.b.path });
    open.push(sb);
    const heard = listen(sb);
    const k = startKeepalived(p.a, dir, instanceConf({ state: 'MASTER', priority: 200, password: 's3cret', vips: ['192.0.2.150/24', '192.0.2.151/24'] }));
    running.push(k);
    try {
      const first = await waitFor('keepalived\'s first advert', () => heard[0], 8000);
      assert.deepEqual(first.rx, { source: '192.0.2.1', destination: VRRP_GROUP_V4, ttl: 255, ifindex: p.ib.ifindex });
      const r = parseAdvert(first.payload, 4, first.rx.source, first.rx.destination);
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.advert, { version: 2, family: 4, vrid: 51, priority: 200, intervalCs: 100, addresses: ['192.0.2.150', '192.0.2.151'], authType: 1, authData: passwordBytes('s3cret') });
      await waitFor('a second advert', () => heard.length >= 2, 3000);
      const gap = heard[1]!.at - heard[0]!.at;
      assert.ok(gap > 800 && gap < 1300, `adverts ${gap.toFixed(0)} ms apart`);
    } finally {
      await k.stop();
      sb.close();
    }
  });

  test('keepalived as BACKUP (priority 50) stays BACKUP while we advertise priority 100, and takes over ~3.8 s after we stop', async () => {
    const sb = VrrpSocket.open({ family: 4, ifname: 'vb', ifindex: p.ib.ifindex, netns: p.b.path, source: '192.0.2.2' });
    open.push(sb);
    const heard = listen(sb);
    const ours: Advert = { ...v2advert, priority: 100, addresses: ['192.0.2.150', '192.0.2.151'] };
    const bytes = encodeAdvert(ours, '192.0.2.2', VRRP_GROUP_V4);
    assert.ok(sb.send(bytes, VRRP_GROUP_V4) > 0);
    let last = performance.now();
    const timer = setInterval(() => { sb.send(bytes, VRRP_GROUP_V4); last = performance.now(); }, 1000);
    const k = startKeepalived(p.a, dir, instanceConf({ state: 'BACKUP', priority: 50, password: 's3cret', vips: ['192.0.2.150/24', '192.0.2.151/24'] }));
    running.push(k);
    try {
      await waitFor('keepalived to enter BACKUP', () => k.log().includes('Entering BACKUP STATE'), 5000);
      // well past its Master_Down_Interval (3 x 1 s + (256-50)/256 s)
      await sleep(5500);
      assert.doesNotMatch(k.log(), /Entering MASTER STATE/);
      assert.equal(hasAddress(p.a, 'va', '192.0.2.150'), false, 'a BACKUP holds no VIP');
      assert.equal(heard.length, 0, 'a BACKUP sends no adverts');
      clearInterval(timer);
      const stopped = last;
      const first = await waitFor('keepalived\'s first advert as master', () => heard[0], 6000);
      const took = (first.at - stopped) / 1000;
      assert.ok(took > 3.4 && took < 4.6, `keepalived took over ${took.toFixed(3)} s after our last advert (expected ~3.8)`);
      const r = parseAdvert(first.payload, 4, first.rx.source, first.rx.destination);
      assert.ok(r.ok && r.advert.priority === 50 && r.advert.vrid === 51, JSON.stringify(r));
      assert.match(k.log(), /Entering MASTER STATE/);
      await waitFor('the VIPs on keepalived\'s interface', () => hasAddress(p.a, 'va', '192.0.2.150'), 2000);
    } finally {
      clearInterval(timer);
      await k.stop();
      sb.close();
    }
  });
});
