/**
 * The codecs and parsers without a kernel: messages the kernel sent (captured once from a
 * namespace: routes with RTA_MULTIPATH, a resilient nexthop group) decoded into the model and
 * their multipath payload re-encoded byte for byte; the path syntax of --nexthop; the saved route
 * lines (round trip); the checks of a state section.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIp, parseIp } from '@ha/lib/netlink';
import { scanDestination } from '../src/addr.js';
import { decodeMultipath, encodeMultipath, routeAttrs, RTMSG_LEN } from '../src/codec.js';
import { Links, decodeNexthop, decodeRoute } from '../src/kernel.js';
import { parseLegSpec } from '../src/model.js';
import { RoutesSection, checkSection, examine, normalizeRoute, parseRouteLine, scanRouteLine, toLine } from '../src/section.js';

const links: Links = {
  index: (n) => ({ hb0: 2, ha0: 3 })[n] ?? 0,
  name: (i) => ({ 2: 'hb0', 3: 'ha0' })[i] ?? `if${i}`,
  has: (n) => n === 'ha0' || n === 'hb0',
};
const msg = (hex: string) => ({ type: 24, flags: 0, seq: 0, pid: 0, data: Buffer.from(hex, 'hex') });

// ip route add 203.0.113.0/24 proto static metric 7 nexthop via 198.51.100.1 dev ha0 weight 1 nexthop via 192.0.2.1 dev hb0 weight 3
const V4 = '02180000fe0400010000000008000f00fe00000008000100cb007100080006000700000024000900100000000300000008000500c6336401100000020200000008000500c0000201';
// ip -6 route add 2001:db8:7::/48 nexthop via 2001:db8:a::1 dev ha0 weight 2 nexthop via 2001:db8:b::1 dev hb0 weight 5
const V6 = '0a300000fe0300010000000008000f00fe0000001400010020010db800070000000000000000000008000600000400003c0009001c000001030000001400050020010db8000a000000000000000000011c000004020000001400050020010db8000b0000000000000000000124000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000';
// ip nexthop add id 9 group 1,2/2 type resilient buckets 8 idle_timer 30 (members: 1 with weight 2, 2 with weight 1)
const GROUP = '000000000000000008000100090000000600030001000000140002000100000001000000020000000000000028000c80060001000800000008000200b80b000008000300000000000c000400000000000000000008000e0000000080';

test('an IPv4 multipath route the kernel sent decodes into one route with weighted paths', () => {
  assert.deepEqual(decodeRoute(msg(V4), links), {
    family: 'ipv4', dst: '203.0.113.0/24', table: 254, metric: 7, type: 'unicast', protocol: 'static', scope: 'global',
    nexthops: [{ weight: 1, via: '198.51.100.1', dev: 'ha0' }, { weight: 3, via: '192.0.2.1', dev: 'hb0' }],
  });
});

test('an IPv6 multipath route (siblings in the kernel) is dumped and decoded as one route', () => {
  assert.deepEqual(decodeRoute(msg(V6), links), {
    family: 'ipv6', dst: '2001:db8:7::/48', table: 254, metric: 1024, type: 'unicast', protocol: 'boot', scope: 'global',
    nexthops: [{ weight: 2, via: '2001:db8:a::1', dev: 'ha0' }, { weight: 5, via: '2001:db8:b::1', dev: 'hb0' }],
  });
});

test('RTA_MULTIPATH re-encodes byte for byte as the kernel wrote it', () => {
  for (const hex of [V4, V6]) {
    const a = routeAttrs.decode(Buffer.from(hex, 'hex').subarray(RTMSG_LEN));
    const legs = decodeMultipath(a.multipath!);
    assert.deepEqual(encodeMultipath(legs), a.multipath);
  }
});

test('a resilient nexthop group decodes with its members, weights, buckets and timers', () => {
  assert.deepEqual(decodeNexthop({ type: 104, flags: 0, seq: 0, pid: 0, data: Buffer.from(GROUP, 'hex') }, links), {
    id: 9, group: [{ id: 1, weight: 2 }, { id: 2, weight: 1 }], type: 'resilient', buckets: 8, idleTimer: 30, unbalancedTimer: 0, protocol: 'unspec',
  });
});

test('--nexthop and --primary syntax: GW, GW@IF, GW:WEIGHT, [IPv6]@IF:WEIGHT, @IF', () => {
  const p = (t: string) => {
    const r = parseLegSpec(t, { weights: true, what: '--nexthop' });
    return `${r.via ? `${r.via.family} ${parseIp(String(r.via.family === 'ipv4' ? [...r.via.bytes].join('.') : '::'))?.family}` : '-'} ${r.dev ?? '-'} ${r.weight}`;
  };
  assert.equal(p('198.51.100.1'), 'ipv4 ipv4 - 1');
  assert.equal(p('198.51.100.1@eth0:3'), 'ipv4 ipv4 eth0 3');
  assert.equal(p('198.51.100.1:256'), 'ipv4 ipv4 - 256');
  assert.equal(p('[2001:db8::1]@eth1:2'), 'ipv6 ipv6 eth1 2');
  assert.equal(p('2001:db8::1@eth1:2'), 'ipv6 ipv6 eth1 2');
  assert.equal(p('2001:db8::1'), 'ipv6 ipv6 - 1');
  assert.equal(p('@eth2:4'), '- eth2 4');
  for (const bad of ['198.51.100.1:0', '198.51.100.1:x', '[2001:db8::1', '198.51.100.1@', '@', '1.2.3:4', '198.51.100.1@a/b']) {
    assert.throws(() => parseLegSpec(bad, { weights: true, what: '--nexthop' }), { name: 'UsageError' }, bad);
  }
  assert.throws(() => parseLegSpec('198.51.100.1:2', { weights: false, what: '--backup' }), /a weight is not accepted here/);
});

test('saved route lines read back into the same routes (and the fast reader agrees with the general one)', () => {
  const lines = [
    'default metric 100 via 198.51.100.1 dev ha0',
    'unreachable ::/0 metric 1024 proto boot',
    '203.0.113.0/24 table 100 metric 7 proto boot nexthop via 198.51.100.1 dev ha0 weight 1 nexthop via 192.0.2.1 dev hb0 weight 3',
    'blackhole 192.0.2.0/25 metric 0',
    '2001:db8:9::/48 metric 1024 nhid 31',
    '203.0.113.5/32 metric 0 proto boot src 192.0.2.2 dev hb0',
    '203.0.113.6/32 metric 0 scope host dev hb0',
    '192.0.2.128/25 metric 3 proto boot via 192.0.2.50 dev ha0 onlink',
  ];
  for (const line of lines) {
    const e = parseRouteLine(line);
    const fast = scanRouteLine(line);
    if (fast) assert.deepEqual(fast, e, line);
    assert.equal(toLine(normalizeRoute(e)), line);
  }
  assert.equal(normalizeRoute(parseRouteLine('::/0 metric 5 via 2001:db8::1')).family, 'ipv6');
});

test('address parsing agrees with the general parser, and destinations come out canonical', () => {
  for (const t of ['192.0.2.1', '0.0.0.0', '2001:db8::1', '2001:DB8:0:0::1', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8', '::', '01.2.3.4', '1::2::3', '2001:db8::1%eth0', '12345::']) {
    const a = parseIp(t);
    const b = parseIp(t);
    assert.equal(b ? `${b.family} ${b.bytes.toString('hex')}` : '-', a ? `${a.family} ${a.bytes.toString('hex')}` : '-', t);
  }
  assert.deepEqual(scanDestination('2001:DB8:0:0:0::/32', undefined), { family: 'ipv6', prefixlen: 32, text: '2001:db8::/32' });
  assert.deepEqual(scanDestination('0.0.0.0/0', undefined), { family: 'ipv4', prefixlen: 0, text: 'default' });
  assert.deepEqual(scanDestination('192.0.2.1/24', undefined), { error: 'destination 192.0.2.1/24 has host bits set' });
  // canonical text kept as written, anything else rewritten as inet_ntop(3) would print it
  let seed = 7;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (let k = 0; k < 5000; k++) {
    const words = Array.from({ length: 8 }, () => (rnd(2) ? '0' : rnd(2) ? rnd(16).toString(16) : rnd(65536).toString(16)));
    let t = words.join(':');
    if (rnd(3) === 0) t = t.replace(/(^|:)0(:0)+(:|$)/, '::');
    if (rnd(5) === 0) t = t.toUpperCase();
    if (rnd(5) === 0) t = t.replace(/(^|:)0(:|$)/, '$100$2');
    const ip = parseIp(t);
    if (!ip) continue;
    assert.equal((scanDestination(`${t}/128`, undefined) as { text: string }).text, `${formatIp(ip.bytes)}/128`, t);
  }
  assert.equal((scanDestination('2001:db8::/032', undefined) as { text: string }).text, '2001:db8::/32');
});

test('a state section is checked: references between routes and nexthops, duplicates, bad lines', () => {
  const check = (s: RoutesSection) => checkSection(s).map(([p, m]) => `${p}: ${m}`);
  assert.deepEqual(check({ routes: ['203.0.113.0/24 metric 0 nhid 5'], nexthops: [{ id: 5, group: [{ id: 1, weight: 1 }, { id: 2, weight: 1 }] }, { id: 1, via: '198.51.100.1', dev: 'ha0' }] }),
    ['.nexthops[0].group[1]: nexthop group 5 references nexthop 2, which is not in nexthops']);
  assert.deepEqual(check({ routes: ['203.0.113.0/24 metric 0 nhid 6'] }), ['.routes[0]: route uses nexthop 6, which is not in nexthops']);
  assert.deepEqual(check({ routes: ['default metric 5 via 198.51.100.1', { dst: '0.0.0.0/0', metric: 5, via: '192.0.2.1' }] }),
    ['.routes[1]: duplicate of routes[0] (default metric 5)']);
  assert.deepEqual(check({ routes: ['default metric 5 via 198.51.100.1', '::/0 metric 5 via 2001:db8::1'] }), []);
  assert.match(check({ routes: ['192.0.2.0/24 metric 1 via 2001:db8::1 dev x nexthop via 1.2.3.4'] })[0]!, /give one of via\/dev, nexthops or nhid/);
  assert.match(check({ routes: ['2001:db8::/32 via 198.51.100.1'] })[0]!, /via 198\.51\.100\.1 is not IPv6 like the destination/);
  assert.match(check({ routes: ['192.0.2.0/24 metric'] })[0]!, /metric needs a value/);
});

test('the fast path for plain saved lines gives exactly the routes the general path gives', () => {
  const lines = [
    '2001:db8::/64 metric 1024 proto boot via 2001:db8:ffff::2 dev v0', '2001:db8:0:1::/64 via 2001:db8:ffff::2',
    'default metric 0 via 198.51.100.1 dev ha0', 'default via 2001:db8::1', '0.0.0.0/0 metric 9 via 192.0.2.1', '192.0.2.0/24 dev ha0',
    '192.0.2.0/25 table 100 metric 5 via 198.51.100.1', '192.0.2.0/26 table main metric 5 proto static via 198.51.100.1',
    '2001:DB8:1::/48 via 2001:DB8::1', '192.0.2.64/26 via 2001:db8::1 dev ha0', '192.0.2.128/26 metric 3 proto 99 dev ha0',
  ];
  const fast = examine({ routes: lines }).normalized!.routes;
  assert.deepEqual(fast, lines.map((l) => normalizeRoute(parseRouteLine(l))));
  for (const bad of ['2001:db8::/64 via 198.51.100.1', '192.0.2.1/24 via 198.51.100.1', '192.0.2.0/24 metric 1 proto nosuch via 198.51.100.1', '192.0.2.0/24 metric 1']) {
    assert.equal(examine({ routes: [bad] }).problems.length, 1, bad);
  }
});

test('the fast route request writer gives exactly the bytes of the attribute table codec, over a matrix of routes', async () => {
  const { routePayload } = await import('../src/kernel.js');
  const { encodeRtMsg, encodeMultipath, routeAttrs: table, RTNH_F_ONLINK } = await import('../src/codec.js');
  const { AF_INET, AF_INET6, parseIp: ip, scopeNumber } = await import('@ha/lib/netlink');
  const names = ['lo', 'eth0', 'eth1', 'eth2'];
  const l = { index: (n: string) => names.indexOf(n) + 1, name: (i: number) => names[i - 1]!, has: (n: string) => names.includes(n) };
  type R = import('../src/model.js').Route;
  /** The reference: the rtmsg and the table codec, from the route's fields, in the request order. */
  const reference = (op: 'add' | 'replace' | 'delete', r: R): Buffer => {
    const alen = r.family === 'ipv4' ? 4 : 16;
    const [addr, len] = r.dst === 'default' ? ['', 0] : [r.dst.split('/')[0]!, Number(r.dst.split('/')[1] ?? alen * 8)];
    const via = (f: string, v: string): { gateway?: Buffer; via?: Buffer } => {
      const g = ip(v)!;
      if (g.family === f) return { gateway: g.bytes };
      const b = Buffer.alloc(2 + g.bytes.length);
      b.writeUInt16LE(g.family === 'ipv4' ? AF_INET : AF_INET6, 0);
      g.bytes.copy(b, 2);
      return { via: b };
    };
    const attrs: Record<string, unknown> = { priority: r.metric };
    if (r.table > 255) attrs.table = r.table;
    if (len) attrs.dst = ip(addr)!.bytes;
    if (op !== 'delete') {
      if (r.src) attrs.prefsrc = ip(r.src)!.bytes;
      if (r.nhid !== undefined) attrs.nhId = r.nhid;
      else if (r.nexthops) {
        attrs.multipath = encodeMultipath(r.nexthops.map((n) => ({ flags: n.onlink ? RTNH_F_ONLINK : 0, hops: n.weight - 1, ifindex: n.dev ? l.index(n.dev) : 0, ...(n.via ? via(r.family, n.via) : {}) })));
      } else {
        if (r.via) Object.assign(attrs, via(r.family, r.via));
        if (r.dev) attrs.oif = l.index(r.dev);
      }
    }
    const protocols: Record<string, number> = { boot: 3, static: 4, unspec: 0, kernel: 2 };
    const types: Record<string, number> = { unicast: 1, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9 };
    const head = encodeRtMsg({
      family: r.family === 'ipv4' ? AF_INET : AF_INET6, dstLen: len, srcLen: 0, tos: 0, table: r.table > 255 ? 0 : r.table,
      protocol: op === 'delete' ? 0 : protocols[r.protocol]!, scope: op === 'delete' ? 255 : scopeNumber(r.scope)!,
      type: op === 'delete' ? 0 : types[r.type]!, flags: !r.nexthops && r.onlink ? RTNH_F_ONLINK : 0,
    });
    return Buffer.concat([head, table.encode(attrs as never)]);
  };
  const base = (over: Partial<R>): R => ({ family: 'ipv4', dst: '192.0.2.0/24', table: 254, metric: 0, type: 'unicast', protocol: 'static', scope: 'global', ...over } as R);
  const routes: R[] = [];
  for (const table of [254, 100, 1000]) {
    for (const metric of [0, 100, 4294967295]) {
      routes.push(
        base({ table, metric, via: '198.51.100.1' }),
        base({ table, metric, via: '198.51.100.1', dev: 'eth0', src: '198.51.100.2', protocol: 'boot' }),
        base({ table, metric, dst: 'default', dev: 'eth1', scope: 'link' }),
        base({ table, metric, dst: '192.0.2.7/32', via: '2001:db8::1', dev: 'eth2' }),
        base({ table, metric, dst: '10.0.0.0/8', type: 'blackhole', scope: 'global' }),
        base({ table, metric, via: '203.0.113.1', dev: 'eth0', onlink: true }),
        base({ table, metric, nexthops: [{ via: '198.51.100.1', dev: 'eth0', weight: 1 }, { via: '203.0.113.1', weight: 3, onlink: true }, { dev: 'eth2', weight: 256 }] }),
        base({ table, metric, dst: 'default', nhid: 7 }),
        base({ table, metric, family: 'ipv6', dst: '2001:db8:100::/48', via: 'fe80::1', dev: 'eth0' }),
        base({ table, metric, family: 'ipv6', dst: '2001:db8::5/128', dev: 'eth1', src: '2001:db8::2' }),
        base({ table, metric, family: 'ipv6', dst: 'default', nexthops: [{ via: '2001:db8:1::1', dev: 'eth0', weight: 2 }, { via: '2001:db8:2::1', dev: 'eth1', weight: 1 }] }),
        base({ table, metric, family: 'ipv6', dst: '2001:db8:dead::/64', type: 'unreachable' }),
      );
    }
  }
  let compared = 0;
  for (const r of routes) {
    for (const op of ['add', 'replace', 'delete'] as const) {
      assert.deepEqual(routePayload(op, r, l), reference(op, r), `${op} ${JSON.stringify(r)}`);
      compared++;
    }
  }
  assert.equal(compared, 324);
});
