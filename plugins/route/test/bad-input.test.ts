/**
 * Invalid invocations, table driven: each exits 2 with one line on stderr that names what was
 * wrong, prints nothing on stdout, and leaves the kernel (routes of every table, nexthop objects,
 * the multipath sysctls) exactly as it was. Run in a namespace with interfaces, routes and a
 * nexthop group in place, so that a command that wrongly went ahead would show.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Netns, ha, needsRoot, oneLine, tempDir } from '@ha/lib/testing';

let ns: Netns;
let dir: { path: string; remove(): void };
const SYSCTLS = ['net.ipv4.fib_multipath_hash_policy', 'net.ipv6.fib_multipath_hash_policy', 'net.ipv4.fib_multipath_use_neigh',
  'net.ipv4.conf.all.ignore_routes_with_linkdown', 'net.ipv6.conf.all.ignore_routes_with_linkdown'];

before(() => {
  if (needsRoot) return;
  dir = tempDir('route-bad');
  ns = Netns.create('bad');
  // no link-local addresses: they would appear a moment after the links come up, mid-test
  ns.exec(['sysctl', '-qw', 'net.ipv6.conf.default.addr_gen_mode=1']);
  ns.ip('link', 'add', 'ha0', 'type', 'veth', 'peer', 'name', 'hb0');
  ns.ip('link', 'set', 'ha0', 'up');
  ns.ip('link', 'set', 'hb0', 'up');
  ns.ip('addr', 'add', '198.51.100.2/24', 'dev', 'ha0');
  ns.ip('addr', 'add', '192.0.2.2/24', 'dev', 'hb0');
  ns.ip('addr', 'add', '2001:db8:a::2/64', 'dev', 'ha0', 'nodad');
  ns.ip('route', 'add', 'default', 'via', '198.51.100.1', 'metric', '100');
  ns.ip('route', 'add', 'default', 'via', '192.0.2.1', 'metric', '200');
  ns.ip('-6', 'route', 'add', '2001:db8:5::/64', 'via', '2001:db8:a::1');
  ns.ip('nexthop', 'add', 'id', '1', 'via', '198.51.100.1', 'dev', 'ha0');
  ns.ip('nexthop', 'add', 'id', '2', 'via', '192.0.2.1', 'dev', 'hb0');
  ns.ip('nexthop', 'add', 'id', '3', 'group', '1/2');
  ns.ip('route', 'add', '203.0.113.0/24', 'nhid', '3');
  writeFileSync(join(dir.path, 'missing-member.json'), JSON.stringify({ version: 1, routes: { routes: ['203.0.113.0/24 metric 0 nhid 10'], nexthops: [{ id: 10, group: [{ id: 1 }, { id: 11 }] }, { id: 1, via: '198.51.100.1', dev: 'ha0' }] } }));
  writeFileSync(join(dir.path, 'bad-line.json'), JSON.stringify({ version: 1, routes: { routes: ['192.0.2.0/24 metric 5 gateway 198.51.100.1'] } }));
  writeFileSync(join(dir.path, 'host-bits.json'), JSON.stringify({ version: 1, routes: { routes: [{ dst: '192.0.2.1/24', via: '198.51.100.1' }] } }));
});

after(() => {
  ns?.destroy();
  dir?.remove();
});

function snapshot(): string {
  const sysctls = SYSCTLS.map((k) => `${k}=${ns.exec(['sysctl', '-n', k]).stdout.trim()}`);
  return JSON.stringify({
    v4: ns.ipJson('route', 'show', 'table', 'all'),
    v6: ns.ipJson('-6', 'route', 'show', 'table', 'all'),
    nexthops: ns.ipJson('nexthop', 'show'),
    sysctls,
  });
}

/** [argv, what the one-line message must say] */
const CASES: Array<[string[], RegExp]> = [
  [['route', 'add'], /missing required argument: destination \(PREFIX/],
  [['route', 'add', '192.0.2.0/33', '--via', '198.51.100.1'], /bad prefix length in "192\.0\.2\.0\/33": expected 0 to 32/],
  [['route', 'add', '192.0.2.1/24', '--via', '198.51.100.1'], /host bits set: did you mean 192\.0\.2\.0\/24/],
  [['route', 'add', 'nowhere', '--via', '198.51.100.1'], /not a destination: "nowhere"/],
  [['route', 'add', '192.0.2.0/24'], /give --via GW and\/or --dev IF/],
  [['route', 'add', '2001:db8:9::/64', '--via', '198.51.100.1'], /gateway 198\.51\.100\.1 is IPv4 but the destination is IPv6/],
  [['route', 'add', '192.0.2.0/24', '--via', '224.0.0.1'], /cannot be a gateway \(unspecified, multicast or broadcast/],
  [['route', 'add', '192.0.2.0/24', '--via', '198.51.100.300'], /not a gateway address: "198\.51\.100\.300"/],
  [['route', 'add', '192.0.2.0/24', '--via', '198.51.100.1', '--metric', 'high'], /^ha: -m\/--metric: "high" is not a whole number from 0 to 4294967295$/],
  [['route', 'add', '192.0.2.0/24', '--via', '198.51.100.1', '--metric', '4294967296'], /--metric: "4294967296" is not a whole number from 0 to 4294967295/],
  [['route', 'add', '192.0.2.0/24', '--via', '198.51.100.1', '--table', 'nosuch'], /no such table: "nosuch" \(known names: .*main/],
  [['route', 'add', '192.0.2.0/24', '--via', '198.51.100.1', '--table', '0'], /no such table: 0/],
  [['route', 'add', '192.0.2.0/24', '--type', 'anycast'], /Expected --type=anycast to be one of: unicast, blackhole/],
  [['route', 'add', '192.0.2.0/24', '--type', 'blackhole', '--via', '198.51.100.1'], /a blackhole route has no gateway or interface/],
  [['route', 'add', '192.0.2.0/24', '--via', '198.51.100.1', '--onlink'], /--onlink needs both --via and --dev/],
  [['route', 'add', '192.0.2.0/24', '--dev', 'bad/name'], /interface "bad\/name" is not an interface name/],
  [['route', 'add', '192.0.2.0/24', '--via', '198.51.100.1', '--src', '2001:db8:a::2'], /--src 2001:db8:a::2 is not an IPv4 address/],
  [['route', 'add', '2001:db8:9::/64', '-4', '--dev', 'ha0'], /destination 2001:db8:9::\/64 is IPv6 but --ipv4 was given/],
  [['route', 'add', '192.0.2.0/24', '--via', '198.51.100.1', '-4', '-6'], /--ipv4 and --ipv6 exclude each other/],
  [['route', 'delete', 'default'], /2 routes go to default \(metrics 100, 200\): give --metric N, or --all-metrics/],
  [['route', 'delete', 'default', '--metric', 'x'], /--metric: "x" is not a whole number/],
  [['route', 'failover', '--primary', '198.51.100.1'], /give at least one --backup GW\[@IF\]/],
  [['route', 'multipath', '203.0.113.0/24'], /give the paths with --nexthop/],
  [['route', 'failover', '--primary', '198.51.100.1', '--backup', '198.51.100.1'], /gateway 198\.51\.100\.1 is given twice/],
  [['route', 'failover', '--primary', '198.51.100.1', '--backup', '2001:db8:a::1'], /gateway 2001:db8:a::1 is not IPv4 like the destination/],
  [['route', 'failover', '--primary', '@ha0', '--backup', '192.0.2.1'], /--primary needs a gateway address/],
  [['route', 'failover', '--primary', '198.51.100.1', '--backup', '192.0.2.1', '--step', '0'], /^ha: --step: "0" is not a whole number from 1 to 1000000$/],
  [['route', 'multipath', '203.0.113.0/24', '--nexthop', '198.51.100.1'], /give at least two --nexthop paths/],
  [['route', 'multipath', '203.0.113.0/24', '--nexthop', '198.51.100.1:0', '--nexthop', '192.0.2.1'], /weight "0" is not a number from 1 to 256/],
  [['route', 'multipath', '203.0.113.0/24', '--nexthop', '198.51.100.1:257', '--nexthop', '192.0.2.1'], /weight "257" is not a number from 1 to 256/],
  [['route', 'multipath', '2001:db8:9::/64', '--nexthop', '[2001:db8:a::1:2', '--nexthop', '[2001:db8:a::3]'], /missing "\]"/],
  [['route', 'multipath', '203.0.113.0/24', '--nexthop', '198.51.100.1', '--nexthop', '198.51.100.1'], /--nexthop 198\.51\.100\.1 is given twice/],
  [['route', 'multipath', '203.0.113.0/24', '--nexthop', '198.51.100.1@', '--nexthop', '192.0.2.1'], /--nexthop "198\.51\.100\.1@": cannot read it/],
  [['route', 'multipath', '203.0.113.0/24', '--nexthop', '198.51.100.1', '--nexthop', '192.0.2.1', '--buckets', '64'], /--buckets is for resilient groups: add --resilient/],
  [['route', 'multipath', '203.0.113.0/24', '--nexthop', '198.51.100.1', '--nexthop', '192.0.2.1', '--resilient', '--buckets', '1'], /^ha: --buckets: "1" is not a whole number from 2 to 65535$/],
  [['route', 'multipath', '203.0.113.0/24', '--nexthop', '@ha0', '--nexthop', '192.0.2.1', '--group'], /nexthop objects in a group need a gateway address/],
  [['route', 'hash-policy', 'l5'], /Expected l5 to be one of: l3, l4, l3-inner/],
  [['route', 'delete', 'default', '--metric', '100', '--all-metrics'], /--metric and --all-metrics exclude each other/],
  [['route', 'hash-policy', 'l4', '-4', '-6'], /--ipv4 and --ipv6 exclude each other/],
  [['route', 'get', 'somewhere'], /not an IP address: "somewhere"/],
  [['route', 'get', '203.0.113.7', '--from', '192.0.2.300'], /^ha: --from: "192.0.2.300" is not an IP address \(IPv4 or IPv6\)$/],
  [['route', 'get', '203.0.113.7', '--mark', '0x10'], /^ha: --mark: "0x10" is not a whole number from 0 to 4294967295$/],
  [['route', 'multipath', '203.0.113.0/24', '--nexthop', '198.51.100.1', '--nexthop', '192.0.2.1', '--resilient', '--idle-timer', '-5'], /^ha: --idle-timer: "-5" is not a whole number from 0 to 86400$/],
  [['route', 'get', '203.0.113.7', '--sport', '70000'], /^ha: --sport: "70000" is not a port from 1 to 65535$/],
  [['route', 'list', '--table', 'nosuch'], /no such table: "nosuch"/],
  [['route', 'list', '--table', '100', '--all-tables'], /--table and --all-tables exclude each other/],
];

const RESTORES: Array<[string, RegExp]> = [
  ['missing-member.json', /\$\.routes\.nexthops\[0\]\.group\[1\]: nexthop group 10 references nexthop 11, which is not in nexthops/],
  ['bad-line.json', /\$\.routes\.routes\[0\]: route line .*unknown word "gateway"/],
  ['host-bits.json', /\$\.routes\.routes\[0\]: destination 192\.0\.2\.1\/24 has host bits set/],
];

test(`${CASES.length + RESTORES.length} invalid invocations: exit 2, one line naming the problem, kernel unchanged`, { skip: needsRoot }, () => {
  assert.ok(CASES.length + RESTORES.length >= 25);
  const start = snapshot();
  const all: Array<[string[], RegExp]> = [...CASES, ...RESTORES.map(([f, re]): [string[], RegExp] => [['restore', '--state', join(dir.path, f)], re])];
  for (const [argv, expected] of all) {
    const r = ha(argv, { wrap: ns.wrap });
    const what = `ha ${argv.join(' ')}`;
    assert.equal(r.code, 2, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
    assert.equal(r.stdout, '', `${what}: printed on stdout: ${r.stdout}`);
    const line = oneLine(r.stderr);
    assert.match(line, /^ha: /, what);
    assert.match(line, expected, `${what}: ${line}`);
    assert.doesNotMatch(line, /\bat .*\.js:\d+/, `${what}: a stack trace`);
    assert.equal(snapshot(), start, `${what} changed the kernel`);
  }
});

test('errors with --json are a JSON object with code and exit code 2', { skip: needsRoot }, () => {
  const r = ha(['route', 'add', '192.0.2.0/33', '--via', '198.51.100.1', '--json'], { wrap: ns.wrap });
  assert.equal(r.code, 2);
  const out = JSON.parse(r.stdout) as { error: { code: string; exitCode: number; message: string } };
  assert.equal(out.error.exitCode, 2);
  assert.equal(out.error.code, 'EUSAGE');
  assert.match(out.error.message, /bad prefix length/);
});

test('refusals by the kernel state name the cause and exit 1, changing nothing', { skip: needsRoot }, () => {
  const start = snapshot();
  const cases: Array<[string[], RegExp]> = [
    // each reason a gateway is refused, said as it is
    [['route', 'add', '192.0.2.0/24', '--via', '203.0.113.1'], /gateway 203\.0\.113\.1 is not on a connected network: it is reached through (198\.51\.100\.1 on ha0|192\.0\.2\.1 on hb0)/],
    [['route', 'add', '10.9.0.0/16', '--via', '192.0.2.1', '--dev', 'ha0'], /gateway 192\.0\.2\.1 is on a network of hb0, not of ha0 \(write 192\.0\.2\.1@hb0, or leave the interface out\)/],
    [['route', 'add', '10.9.0.0/16', '--via', '198.51.100.2'], /gateway 198\.51\.100\.2 is an address of this host: a gateway must be another host/],
    [['route', 'add', '2001:db8:7::/64', '--via', '2001:db8:9::1'], /gateway \[2001:db8:9::1\] is not reachable on any interface: no connected network covers it/],
    [['route', 'add', 'default', '--via', '198.51.100.1', '--metric', '100'], /route default metric 100 already exists \(via 198\.51\.100\.1 dev ha0, protocol boot\)/],
    [['route', 'add', '192.0.2.0/24', '--dev', 'nosuch0'], /interface nosuch0 does not exist/],
    [['route', 'delete', '192.0.2.128/25'], /route 192\.0\.2\.128\/25 does not exist/],
  ];
  for (const [argv, expected] of cases) {
    const r = ha(argv, { wrap: ns.wrap });
    assert.equal(r.code, 1, `ha ${argv.join(' ')}: exit ${r.code}: ${r.stderr}`);
    assert.match(oneLine(r.stderr), expected);
  }
  assert.equal(snapshot(), start);
});
