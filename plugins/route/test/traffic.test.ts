/**
 * Traffic through real gateways (network namespaces on this machine's kernel): failover by metric,
 * a weighted multipath split counted at the gateways, and a resilient nexthop group keeping the
 * flows of the gateways that stay. Packets are counted on the gateways' host-facing interfaces.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { needsRoot } from '@ha/lib/testing';
import { DEST4, DEST6, GW, Topology } from './topology.js';

let t: Topology;
before(() => {
  if (!needsRoot) t = new Topology();
});
after(() => t?.destroy());

interface ListedRoute { dst: string; family: string; metric: number; via?: string; inUse?: boolean; state?: string[] }

function json<T>(args: string[]): T {
  const r = t.ha([...args, '--json']);
  assert.equal(r.code, 0, `ha ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function inUse(family: 'ipv4' | 'ipv6'): string | undefined {
  const { routes } = json<{ routes: ListedRoute[] }>(['route', 'list', family === 'ipv4' ? '-4' : '-6']);
  return routes.find((r) => r.dst === 'default' && r.inUse)?.via;
}

for (const family of ['ipv4', 'ipv6'] as const) {
  const v6 = family === 'ipv6';
  const [primary, backup, dest, dev] = v6 ? [GW.a6, GW.b6, DEST6, 'ha0'] : [GW.a4, GW.b4, DEST4, 'ha0'];
  const fam = v6 ? ['-6'] : [];

  describe(`failover by metric (${family})`, { skip: needsRoot }, () => {
    test('installs primary and backup with ascending metrics; without --ignore-linkdown it warns', () => {
      const out = json<{ installed: Array<{ role: string; metric: number }>; warnings: string[]; routes: ListedRoute[] }>(
        ['route', 'failover', 'default', ...fam, '--primary', `${v6 ? `[${primary}]` : primary}@${dev}`, '--backup', v6 ? backup : `${backup}@hb0`]);
      assert.deepEqual(out.installed.map((i) => `${i.role} ${i.metric}`), ['primary 100', 'backup 200']);
      assert.ok(out.warnings.some((w) => w.includes(`net.${family}.conf.all.ignore_routes_with_linkdown is 0`)), out.warnings.join('\n'));
      const ip = t.host.ipJson<Array<{ dst: string; gateway: string; metric?: number; dev: string }>>(...fam, 'route', 'show', 'default');
      assert.deepEqual(ip.map((r) => `${r.gateway} ${r.dev} ${r.metric ?? 0}`), [`${primary} ha0 100`, `${backup} hb0 200`]);
      // again, with the sysctl: no warning, the same routes (changed in place)
      const again = json<{ warnings: string[] }>(['route', 'failover', ...fam, '--primary', v6 ? `[${primary}]@ha0` : `${primary}@ha0`, '--backup', `${v6 ? `[${backup}]` : backup}@hb0`, '--ignore-linkdown']);
      assert.deepEqual(again.warnings, []);
      assert.equal(t.host.exec(['sysctl', '-n', `net.${family}.conf.all.ignore_routes_with_linkdown`]).stdout.trim(), '1');
      assert.equal(t.host.ipJson<unknown[]>(...fam, 'route', 'show', 'default').length, 2);
    });

    test('traffic goes through the primary, and ha route list marks it in use', () => {
      const c = t.send(dest, 20000, 200);
      assert.equal(c.sent, 200);
      assert.ok(c.a >= 200, `primary gateway saw ${c.a} of 200 packets`);
      assert.ok(c.b <= 5, `backup gateway saw ${c.b} packets`);
      assert.ok(c.delivered >= 198, `the internet namespace received ${c.delivered} of 200`);
      assert.equal(inUse(family), primary);
    });

    test('when the primary link loses carrier, traffic goes through the backup, and list shows it', () => {
      t.gwA.ip('link', 'set', 'ga0', 'down');
      try {
        // the host sees the carrier go a moment later (link events are processed asynchronously)
        const linkdown = (): boolean => t.host.ipJson<Array<{ metric?: number; flags: string[] }>>(...fam, 'route', 'show', 'default')
          .some((r) => r.metric === 100 && r.flags.includes('linkdown'));
        for (let i = 0; i < 30 && !linkdown(); i++) spawnSync('sleep', ['0.1']);
        const { routes } = json<{ routes: ListedRoute[] }>(['route', 'list', v6 ? '-6' : '-4']);
        const p = routes.find((r) => r.dst === 'default' && r.metric === 100)!;
        // IPv6 also marks it dead when routes without carrier are ignored
        assert.ok(p.state?.includes('linkdown'), `state of the primary: ${JSON.stringify(p.state)}`);
        assert.equal(p.inUse, false);
        assert.equal(inUse(family), backup);
        const c = t.send(dest, 21000, 200);
        assert.ok(c.b >= 200, `backup gateway saw ${c.b} of 200 packets`);
        assert.equal(c.a, 0);
        assert.ok(c.delivered >= 198, `the internet namespace received ${c.delivered} of 200`);
      } finally {
        t.gwA.ip('link', 'set', 'ga0', 'up');
      }
    });

    test('when the primary comes back, traffic returns to it', () => {
      // carrier comes back within moments
      for (let i = 0; i < 20 && inUse(family) !== primary; i++) spawnSync('sleep', ['0.1']);
      assert.equal(inUse(family), primary);
      const c = t.send(dest, 22000, 200);
      assert.ok(c.a >= 200, `primary gateway saw ${c.a} of 200 packets`);
      assert.ok(c.b <= 5, `backup gateway saw ${c.b}`);
      const d = t.ha(['route', 'delete', 'default', ...fam, '--all-metrics']);
      assert.equal(d.code, 0, d.stderr);
    });
  });

  describe(`weighted multipath (${family})`, { skip: needsRoot }, () => {
    test('with hash policy l4 and weights 1:2, 3000 flows split 1:2 at the gateways', () => {
      const hp = json<{ policies: Array<{ family: string; policy: string }> }>(['route', 'hash-policy', 'l4']);
      assert.deepEqual(hp.policies.map((p) => `${p.family} ${p.policy}`), ['ipv4 l4', 'ipv6 l4']);
      assert.equal(t.host.exec(['sysctl', '-n', `net.${family}.fib_multipath_hash_policy`]).stdout.trim(), '1');
      const a = v6 ? `[${GW.a6}]@ha0:1` : `${GW.a4}@ha0:1`;
      const b = v6 ? `[${GW.b6}]:2` : `${GW.b4}:2`;
      const r = json<{ route: { nexthops: Array<{ via: string; dev: string; weight: number }> } }>(['route', 'multipath', `${dest}/${v6 ? 128 : 32}`, '--nexthop', a, '--nexthop', b]);
      assert.deepEqual(r.route.nexthops.map((n) => `${n.via} ${n.dev} ${n.weight}`), [`${v6 ? GW.a6 : GW.a4} ha0 1`, `${v6 ? GW.b6 : GW.b4} hb0 2`]);
      const flows = 3000;
      const c = t.send(dest, 10000, flows);
      assert.ok(c.a + c.b >= flows * 0.99 && c.a + c.b <= flows + 10, `gateways saw ${c.a} + ${c.b} packets of ${flows}`);
      const share = c.a / (c.a + c.b);
      // Each flow lands on a path by a hash of its 5-tuple: the count on the weight-1 path is
      // binomial(3000, 1/3), standard deviation sqrt(3000 * 1/3 * 2/3) / 3000 = 0.0086 of the
      // share. +-0.05 is 5.8 standard deviations (a false failure less than once in 10^8 runs),
      // while equal weights (0.5), swapped weights (0.67) or hashing without ports (l3: every
      // flow on one path, 0 or 1) all fail.
      assert.ok(Math.abs(share - 1 / 3) <= 0.05, `weight-1 gateway got ${c.a} and weight-2 gateway ${c.b}: share ${share.toFixed(3)}, expected 0.333 +- 0.05`);
      assert.ok(c.delivered >= flows * 0.99, `the internet namespace received ${c.delivered}`);
      const d = t.ha(['route', 'delete', `${dest}/${v6 ? 128 : 32}`]);
      assert.equal(d.code, 0, d.stderr);
    });
  });
}

describe('resilient nexthop group', { skip: needsRoot }, () => {
  const dst = `${DEST4}/32`;
  const flows = Array.from({ length: 90 }, (_, i) => 30000 + i);
  /** The gateway the kernel picks now for each flow (UDP from port 40000 to each port). */
  const gatewaysOf = (): string[] => flows.map((p) => {
    const [r] = t.host.ipJson<Array<{ gateway: string }>>('route', 'get', DEST4, 'ipproto', 'udp', 'sport', '40000', 'dport', String(p));
    return r!.gateway;
  });
  const legs = (gws: string[], mode: string): string[] => ['route', 'multipath', dst, ...gws.flatMap((g) => ['--nexthop', g]), mode, ...(mode === '--resilient' ? ['--buckets', '64', '--idle-timer', '300'] : [])];
  const moved = (before: string[], after: string[], gone: string): number => before.filter((g, i) => g !== gone && after[i] !== g).length;

  test('ha route get and the packets agree with the group\'s choice per flow', () => {
    json(['route', 'hash-policy', 'l4']);
    json(legs([GW.a4, GW.b4, GW.c4], '--resilient'));
    const nh = t.host.ipJson<Array<{ id: number; type?: string; resilient_args?: { buckets: number; idle_timer: number } }>>('nexthop', 'show');
    const grp = nh.find((n) => n.type === 'resilient')!;
    assert.deepEqual(grp.resilient_args && [grp.resilient_args.buckets, grp.resilient_args.idle_timer], [64, 300]);
    const chosen = gatewaysOf();
    const one = json<{ via: string; route: { nhid: number } }>(['route', 'get', DEST4, '--ipproto', 'udp', '--sport', '40000', '--dport', String(flows[0])]);
    assert.equal(one.via, chosen[0]);
    assert.equal(one.route.nhid, grp.id);
    // the packets of the 90 flows arrive where the kernel said they would
    const c = t.send(DEST4, flows[0]!, flows.length, 1, 40000);
    const expect = { a: chosen.filter((g) => g === GW.a4).length, b: chosen.filter((g) => g === GW.b4).length, c: chosen.filter((g) => g === GW.c4).length };
    for (const k of ['a', 'b', 'c'] as const) assert.ok(Math.abs(c[k] - expect[k]) <= 3, `gateway ${k}: ${c[k]} packets, ${expect[k]} flows predicted`);
    assert.ok(expect.a > 0 && expect.b > 0 && expect.c > 0, `every gateway has flows: ${JSON.stringify(expect)}`);
  });

  test('when a gateway leaves, flows on the gateways that stay keep them; when it returns too', () => {
    const before = gatewaysOf();
    json(legs([GW.b4, GW.c4], '--resilient'));
    const during = gatewaysOf();
    assert.equal(moved(before, during, GW.a4), 0, 'flows of the staying gateways moved');
    assert.ok(during.every((g) => g !== GW.a4));
    json(legs([GW.a4, GW.b4, GW.c4], '--resilient'));
    const back = gatewaysOf();
    assert.equal(moved(during, back, ''), 0, 'flows moved when the gateway came back (their buckets were busy)');
    const d = t.ha(['route', 'delete', dst, '--json']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal((JSON.parse(d.stdout) as { removedNexthops: number[] }).removedNexthops.length, 4);
    assert.deepEqual(t.host.ipJson('nexthop', 'show'), []);
  });

  test('a plain (hash-threshold) group moves some flows of the gateways that stay: the check above can fail', () => {
    json(legs([GW.a4, GW.b4, GW.c4], '--group'));
    const before = gatewaysOf();
    json(legs([GW.b4, GW.c4], '--group'));
    const after = gatewaysOf();
    assert.ok(moved(before, after, GW.a4) > 0, 'no flow moved with a hash-threshold group: the resilient test would not tell');
    assert.equal(t.ha(['route', 'delete', dst]).code, 0);
  });
});
