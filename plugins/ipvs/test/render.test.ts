/**
 * Host unit tests of the people's table (ha ipvs list): its exact text, and the column-built
 * table equal to the row-built one for every column option.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { ChunkedOutput, table } from '@ha/lib';
import type { Service } from '../src/model.js';
import { renderServices, renderServicesWith, serviceFlagsText } from '../src/render.js';
import { formatList, formatSave, sortServices } from '../src/ipvsadm/format.js';

const stats = (n: bigint) => ({ conns: n, inpkts: n * 2n, outpkts: n * 3n, inbytes: n * 400n, outbytes: 18446744073709551615n, cps: 1n, inpps: 2n, outpps: 3n, inbps: 4n, outbps: 5n });
const services = [
  {
    family: 'ipv4', protocol: 'tcp', address: '192.0.2.10', port: 80, scheduler: 'wrr', schedFlags: [], onePacket: false, stats: stats(7n),
    servers: [
      { family: 'ipv4', address: '198.51.100.2', port: 8080, forward: 'masq', weight: 3, upperThreshold: 100, lowerThreshold: 10, activeConns: 1, inactiveConns: 20, persistentConns: 0, stats: stats(1n) },
      { family: 'ipv4', address: '198.51.100.10', port: 80, forward: 'tunnel', weight: 0, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'gue', port: 6080, checksum: 'csum' } },
    ],
  },
  { family: 'ipv6', fwmark: 4, scheduler: 'sh', schedFlags: ['sh-port'], onePacket: true, persistence: { timeout: 60, netmask: 64 }, pe: 'sip', servers: [] },
  { family: 'ipv4', protocol: 'udp', address: '192.0.2.9', port: 53, scheduler: 'rr', schedFlags: [], onePacket: false, servers: [] },
] as Service[];

test('the table: services in numeric order, each followed by its real servers', () => {
  assert.equal(renderServices(services), [
    'SERVICE            SCHEDULER  FLAGS                                     REAL SERVER           FORWARD  WEIGHT  ACTIVE  INACTIVE',
    '192.0.2.10:80/tcp  wrr',
    '                                                                        -> 198.51.100.2:8080  masq     3       1       20',
    '                                                                        -> 198.51.100.10:80   tunnel   0       -       -',
    '192.0.2.9:53/udp   rr',
    'fwmark 4/ipv6      sh         persistent 60 mask 64 pe sip ops sh-port',
  ].join('\n'));
  assert.equal(renderServices([]), 'No virtual services.');
});

test('built column by column, the table is what the row-built table() gives, for every column option', () => {
  for (const cols of [{}, { thresholds: true }, { persistentConn: true }, { tunInfo: true }, { stats: true }, { rate: true }, { thresholds: true, persistentConn: true, tunInfo: true, stats: true, rate: true }]) {
    const head = ['SERVICE', 'SCHEDULER', 'FLAGS', 'REAL SERVER', 'FORWARD', 'WEIGHT', 'ACTIVE', 'INACTIVE'];
    const extra: string[] = [];
    if (cols.thresholds) extra.push('UPPER', 'LOWER');
    if (cols.persistentConn) extra.push('PERSISTENT');
    if (cols.tunInfo) extra.push('TUNNEL');
    const st = cols.stats ? ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'] as const : [];
    const rt = cols.rate ? ['cps', 'inpps', 'outpps', 'inbps', 'outbps'] as const : [];
    const rows: unknown[][] = [];
    for (const s of sortServices(services)) {
      rows.push([s.fwmark ? `fwmark ${s.fwmark}/ipv6` : `${s.address}:${s.port}/${s.protocol}`, s.scheduler, serviceFlagsText(s), '', '', '', '', '',
        ...extra.map(() => ''), ...st.map((k) => s.stats?.[k]), ...rt.map((k) => s.stats?.[k])]);
      for (const r of s.servers) {
        const tun = r.tunnel ? `${r.tunnel.type} port ${r.tunnel.port} ${r.tunnel.checksum}` : '';
        const more = { UPPER: r.upperThreshold, LOWER: r.lowerThreshold, PERSISTENT: r.persistentConns, TUNNEL: tun } as Record<string, unknown>;
        rows.push(['', '', '', `-> ${r.address}:${r.port}`, r.forward, r.weight, r.activeConns, r.inactiveConns,
          ...extra.map((h) => more[h]), ...st.map((k) => r.stats?.[k]), ...rt.map((k) => r.stats?.[k])]);
      }
    }
    const names = [...head, ...extra, ...st.map((k) => k.toUpperCase()), ...rt.map((k) => k.toUpperCase())];
    assert.equal(renderServices(services, cols), table(names, rows as never), JSON.stringify(cols));
  }
});

test('written in pieces as it is made, a listing is the same text', () => {
  const pieces = (fn: (out: (t: string) => void) => string): string => {
    let all = '';
    assert.equal(fn((t) => { all += t; }), '');
    return all;
  };
  for (const cols of [{}, { thresholds: true, stats: true }]) {
    assert.equal(pieces((out) => renderServices(services, cols, false, out)), `${renderServices(services, cols)}\n`);
  }
  assert.equal(pieces((out) => renderServices([], {}, false, out)), 'No virtual services.\n');
  assert.equal(pieces((out) => formatSave(services, out)), formatSave(services));
  for (const info of [{ version: '1.2.1', connTabSize: 4096 }, undefined]) {
    assert.equal(pieces((out) => formatList(services, info, { stats: true }, out)), formatList(services, info, { stats: true }));
    assert.equal(pieces((out) => formatList([], info, {}, out)), formatList([], info, {}));
  }
  // ChunkedOutput hands on everything, in order, in pieces of about 64 KiB
  const got: string[] = [];
  const c = new ChunkedOutput((t) => got.push(t));
  for (let i = 0; i < 20000; i++) c.add(`line ${i}\n`);
  c.flush();
  c.flush();
  assert.ok(got.length > 1 && got.every((t) => t.length < 70_000));
  assert.equal(got.join(''), Array.from({ length: 20000 }, (_, i) => `line ${i}\n`).join(''));
});

test('the basic table written directly is byte for byte the general table, on random tables', () => {
  let seed = 12345;
  const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  const count = (): number => pick([0, 1, 9, 10, 99, 100, 65535, 999_999_999, 1_000_000_000, 4294967295, rand(100000)]);
  const v4 = (): string => `${rand(256)}.${rand(256)}.${rand(256)}.${rand(256)}`;
  const v6 = (): string => pick(['2001:db8::1', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '::1', `2001:db8::${rand(65536).toString(16)}`]);
  for (let t = 0; t < 200; t++) {
    const list: Service[] = [];
    for (let i = 0, n = rand(12); i < n; i++) {
      const family = pick(['ipv4', 'ipv4', 'ipv6'] as const);
      const base = { family, scheduler: pick(['rr', 'wrr', 'lblcr', 'mh']), schedFlags: rand(4) ? [] : [pick(['sh-port', 'mh-fallback'] as const)], onePacket: rand(5) === 0, servers: [] as Service['servers'] };
      const s = (rand(6) === 0 ? { ...base, fwmark: 1 + rand(100000) } : { ...base, protocol: pick(['tcp', 'udp', 'sctp'] as const), address: family === 'ipv4' ? v4() : v6(), port: pick([0, 1, 80, 65535, rand(65536)]) }) as Service;
      if (rand(4) === 0) s.persistence = { timeout: rand(100000), netmask: family === 'ipv4' ? v4() : rand(129) };
      if (rand(8) === 0) s.pe = 'sip';
      for (let j = 0, m = rand(7); j < m; j++) {
        const rf = rand(5) === 0 ? 'ipv6' : family;
        s.servers.push({ family: rf, address: rf === 'ipv4' ? v4() : v6(), port: pick([0, 80, 65535, rand(65536)]), forward: pick(['masq', 'droute', 'local', 'tunnel'] as const), weight: count(), upperThreshold: 0, lowerThreshold: 0, activeConns: count(), inactiveConns: count() });
      }
      list.push(s);
    }
    const write = (direct: boolean): string => {
      let all = '';
      renderServicesWith(list, {}, false, (x) => { all += x; }, direct);
      return all;
    };
    assert.equal(write(true), write(false), JSON.stringify(list));
  }
});
