/**
 * Read-back against ip(8), both directions, IPv4 and IPv6: everything ha installs reads back the
 * same with `ip -j route show` / `ip -j nexthop show`; routes and nexthops installed with ip are
 * shown the same by `ha route list --json`; and ha save / ha restore reproduce them, converging
 * route by route (unchanged routes are not touched, as `ip monitor` shows).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Netns, ha, needsRoot, tempDir } from '@ha/lib/testing';

let ns: Netns;
let dir: { path: string; remove(): void };

before(() => {
  if (needsRoot) return;
  dir = tempDir('route-rb');
  ns = Netns.create('rb');
  ns.exec(['sysctl', '-qw', 'net.ipv6.conf.default.addr_gen_mode=1']);
  ns.ip('link', 'add', 'ha0', 'type', 'veth', 'peer', 'name', 'ga0');
  ns.ip('link', 'add', 'hb0', 'type', 'veth', 'peer', 'name', 'gb0');
  for (const d of ['ha0', 'ga0', 'hb0', 'gb0']) ns.ip('link', 'set', d, 'up');
  ns.ip('addr', 'add', '198.51.100.2/24', 'dev', 'ha0');
  ns.ip('addr', 'add', '192.0.2.2/24', 'dev', 'hb0');
  ns.ip('addr', 'add', '2001:db8:a::2/64', 'dev', 'ha0', 'nodad');
  ns.ip('addr', 'add', '2001:db8:b::2/64', 'dev', 'hb0', 'nodad');
});

after(() => {
  ns?.destroy();
  dir?.remove();
});

function run(args: string[]): string {
  const r = ha(args, { wrap: ns.wrap });
  assert.equal(r.code, 0, `ha ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface IpRoute {
  type?: string; dst: string; gateway?: string; dev?: string; table?: string; protocol?: string; scope?: string; metric?: number;
  prefsrc?: string; nhid?: number; flags: string[]; nexthops?: Array<{ gateway?: string; dev?: string; weight?: number; flags: string[] }>;
}
interface HaRoute {
  family: string; dst: string; table: number; metric: number; type: string; protocol: string; scope: string; src?: string;
  via?: string; dev?: string; onlink?: boolean; nhid?: number; nexthops?: Array<{ via?: string; dev?: string; weight: number; onlink?: boolean }>;
}

const TABLES: Record<string, number> = { main: 254, local: 255, default: 253 };

/** One line per route, the same text from either side. */
function fromIp(r: IpRoute, family: string): string {
  const max = family === 'ipv4' ? 32 : 128;
  const dst = r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}/${max}`;
  const legs = r.nhid !== undefined ? '' : (r.nexthops ?? []).map((n) => ` [${n.gateway ?? '-'} ${n.dev ?? '-'} ${n.weight ?? 1}${n.flags.includes('onlink') ? ' onlink' : ''}]`).join('');
  const table = r.table === undefined ? 254 : TABLES[r.table] ?? Number(r.table);
  return `${family} ${r.type ?? 'unicast'} ${dst} table ${table} metric ${r.metric ?? 0} proto ${r.protocol ?? 'boot'} scope ${r.scope ?? 'global'}`
    // IPv6 reject routes (blackhole, unreachable…) show "dev lo", which is no path
    + `${r.prefsrc ? ` src ${r.prefsrc}` : ''}${r.nhid === undefined && r.gateway ? ` via ${r.gateway}` : ''}${r.nhid === undefined && r.dev && !(r.type && r.dev === 'lo') ? ` dev ${r.dev}` : ''}`
    + `${r.nhid === undefined && r.flags.includes('onlink') ? ' onlink' : ''}${r.nhid !== undefined ? ` nhid ${r.nhid}` : ''}${legs}`;
}

function fromHa(r: HaRoute): string {
  const legs = (r.nexthops ?? []).map((n) => ` [${n.via ?? '-'} ${n.dev ?? '-'} ${n.weight}${n.onlink ? ' onlink' : ''}]`).join('');
  return `${r.family} ${r.type} ${r.dst} table ${r.table} metric ${r.metric} proto ${r.protocol} scope ${r.scope}`
    + `${r.src ? ` src ${r.src}` : ''}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.onlink ? ' onlink' : ''}${r.nhid !== undefined ? ` nhid ${r.nhid}` : ''}${legs}`;
}

/** Every route but the local table's, as ip(8) reads them. */
function ipView(): string[] {
  const out: string[] = [];
  for (const [family, flag] of [['ipv4', '-4'], ['ipv6', '-6']] as const) {
    for (const r of ns.ipJson<IpRoute[]>(flag, 'route', 'show', 'table', 'all')) if (r.table !== 'local') out.push(fromIp(r, family));
  }
  return out.sort();
}

function haView(): string[] {
  return (JSON.parse(run(['route', 'list', '--all-tables', '--json'])) as { routes: HaRoute[] }).routes.map(fromHa).sort();
}

interface IpNexthop { id: number; gateway?: string; dev?: string; blackhole?: boolean; group?: Array<{ id: number; weight?: number }>; type?: string; resilient_args?: { buckets: number; idle_timer: number; unbalanced_timer: number }; protocol?: string }
interface HaNexthop { id: number; via?: string; dev?: string; blackhole?: boolean; group?: Array<{ id: number; weight: number }>; type?: string; buckets?: number; idleTimer?: number; unbalancedTimer?: number; protocol?: string }

// ip -j prints "blackhole": null
const nhIp = (n: IpNexthop): string => `${n.id} ${n.gateway ?? '-'} ${n.dev ?? '-'} ${'blackhole' in n ? 'blackhole' : ''} ${n.group?.map((m) => `${m.id}/${m.weight ?? 1}`).join(',') ?? ''} ${n.group ? n.type ?? 'mpath' : ''} ${n.resilient_args ? `${n.resilient_args.buckets} ${n.resilient_args.idle_timer} ${n.resilient_args.unbalanced_timer}` : ''} ${n.protocol ?? 'unspec'}`;
const nhHa = (n: HaNexthop): string => `${n.id} ${n.via ?? '-'} ${n.dev ?? '-'} ${n.blackhole ? 'blackhole' : ''} ${n.group?.map((m) => `${m.id}/${m.weight}`).join(',') ?? ''} ${n.type ?? ''} ${n.type === 'resilient' ? `${n.buckets} ${n.idleTimer} ${n.unbalancedTimer}` : ''} ${n.protocol}`;

function nexthopViews(): { ip: string[]; ha: string[] } {
  return {
    ip: ns.ipJson<IpNexthop[]>('nexthop', 'show').map(nhIp).sort(),
    ha: (JSON.parse(run(['route', 'list', '--json'])) as { nexthops: HaNexthop[] }).nexthops.map(nhHa).sort(),
  };
}

function flush(): void {
  ns.ip('nexthop', 'flush');
  for (const f of ['-4', '-6']) for (const p of ['boot', 'static']) ns.ip(f, 'route', 'flush', 'table', 'all', 'proto', p);
}

test('what ha installs reads back the same with ip -j route show and ip -j nexthop show', { skip: needsRoot }, () => {
  run(['route', 'add', '203.0.113.0/26', '--via', '198.51.100.1', '--metric', '10']);
  run(['route', 'add', '203.0.113.64/26', '--dev', 'hb0', '--src', '192.0.2.2']);
  run(['route', 'add', '203.0.113.128/26', '--via', '192.0.2.99', '--dev', 'ha0', '--onlink', '--table', '100']);
  run(['route', 'add', '203.0.113.192/26', '--type', 'blackhole']);
  run(['route', 'add', '2001:db8:1::/48', '--type', 'unreachable']);
  run(['route', 'failover', 'default', '--primary', '198.51.100.1@ha0', '--backup', '192.0.2.1@hb0']);
  run(['route', 'failover', 'default', '-6', '--primary', '[2001:db8:a::1]@ha0', '--backup', '2001:db8:b::1', '--metric', '10', '--step', '5']);
  run(['route', 'multipath', '192.0.2.128/25', '--nexthop', '198.51.100.1:1', '--nexthop', '192.0.2.1@hb0:3']);
  run(['route', 'multipath', '2001:db8:2::/48', '--nexthop', '[2001:db8:a::1]@ha0:2', '--nexthop', '[2001:db8:b::1]@hb0:5', '--table', '200']);
  run(['route', 'multipath', '2001:db8:3::/48', '--nexthop', '2001:db8:a::1', '--nexthop', '2001:db8:b::1', '--resilient', '--buckets', '32', '--idle-timer', '60']);
  run(['route', 'multipath', '198.51.100.128/25', '--nexthop', '198.51.100.1', '--nexthop', '192.0.2.1:2', '--group', '--metric', '7']);

  const ip = ipView();
  const expected = [
    'ipv4 unicast 203.0.113.0/26 table 254 metric 10 proto static scope global via 198.51.100.1 dev ha0',
    'ipv4 unicast 203.0.113.64/26 table 254 metric 0 proto static scope link src 192.0.2.2 dev hb0',
    'ipv4 unicast 203.0.113.128/26 table 100 metric 0 proto static scope global via 192.0.2.99 dev ha0 onlink',
    'ipv4 blackhole 203.0.113.192/26 table 254 metric 0 proto static scope global',
    'ipv6 unreachable 2001:db8:1::/48 table 254 metric 1024 proto static scope global',
    'ipv4 unicast default table 254 metric 100 proto static scope global via 198.51.100.1 dev ha0',
    'ipv4 unicast default table 254 metric 200 proto static scope global via 192.0.2.1 dev hb0',
    'ipv6 unicast default table 254 metric 10 proto static scope global via 2001:db8:a::1 dev ha0',
    'ipv6 unicast default table 254 metric 15 proto static scope global via 2001:db8:b::1 dev hb0',
    'ipv4 unicast 192.0.2.128/25 table 254 metric 0 proto static scope global [198.51.100.1 ha0 1] [192.0.2.1 hb0 3]',
    'ipv6 unicast 2001:db8:2::/48 table 200 metric 1024 proto static scope global [2001:db8:a::1 ha0 2] [2001:db8:b::1 hb0 5]',
  ];
  for (const line of expected) assert.ok(ip.includes(line), `ip does not show: ${line}\nip shows:\n${ip.join('\n')}`);
  // the groups: members found from the connected networks, weights, resilient settings
  const nh = ns.ipJson<IpNexthop[]>('nexthop', 'show');
  const res = nh.find((n) => n.type === 'resilient')!;
  assert.deepEqual(res.resilient_args && [res.resilient_args.buckets, res.resilient_args.idle_timer], [32, 60]);
  const members = res.group!.map((m) => nh.find((n) => n.id === m.id)!).map((n) => `${n.gateway}@${n.dev}`);
  assert.deepEqual(members, ['2001:db8:a::1@ha0', '2001:db8:b::1@hb0']);
  const plain = nh.find((n) => n.group && n.type === undefined)!;
  assert.deepEqual(plain.group!.map((m) => `${nh.find((n) => n.id === m.id)!.gateway}:${m.weight ?? 1}`), ['198.51.100.1:1', '192.0.2.1:2']);
  assert.ok(ip.includes(`ipv6 unicast 2001:db8:3::/48 table 254 metric 1024 proto static scope global nhid ${res.id}`));
  assert.ok(ip.includes(`ipv4 unicast 198.51.100.128/25 table 254 metric 7 proto static scope global nhid ${plain.id}`));
  // and ha's own view is ip's view, route for route
  assert.deepEqual(haView(), ip);
  const v = nexthopViews();
  assert.deepEqual(v.ha, v.ip);
});

test('what ip installs, ha route list shows the same (routes and nexthop objects)', { skip: needsRoot }, () => {
  flush();
  ns.ip('route', 'add', 'default', 'via', '198.51.100.1', 'metric', '50');
  ns.ip('route', 'add', '203.0.113.0/24', 'proto', 'static', 'nexthop', 'via', '198.51.100.1', 'weight', '4', 'nexthop', 'via', '192.0.2.1', 'weight', '1');
  ns.ip('route', 'add', 'prohibit', '198.51.100.128/25', 'table', '300');
  ns.ip('route', 'add', '192.0.2.128/25', 'via', '192.0.2.50', 'dev', 'ha0', 'onlink', 'metric', '3');
  ns.ip('route', 'add', '203.0.113.5', 'dev', 'hb0', 'scope', 'link', 'src', '192.0.2.2');
  ns.ip('-6', 'route', 'add', '2001:db8:7::/48', 'nexthop', 'via', '2001:db8:a::1', 'dev', 'ha0', 'weight', '2', 'nexthop', 'via', '2001:db8:b::1', 'dev', 'hb0', 'weight', '7');
  ns.ip('-6', 'route', 'add', 'default', 'via', '2001:db8:b::1', 'metric', '2048', 'table', '100');
  ns.ip('-6', 'route', 'add', 'blackhole', '2001:db8:8::/48');
  ns.ip('nexthop', 'add', 'id', '21', 'via', '198.51.100.1', 'dev', 'ha0');
  ns.ip('nexthop', 'add', 'id', '22', 'via', '192.0.2.1', 'dev', 'hb0');
  ns.ip('nexthop', 'add', 'id', '23', 'group', '21,3/22,1');
  ns.ip('nexthop', 'add', 'id', '24', 'group', '21/22', 'type', 'resilient', 'buckets', '16', 'idle_timer', '30', 'unbalanced_timer', '10');
  ns.ip('nexthop', 'add', 'id', '31', 'via', '2001:db8:a::1', 'dev', 'ha0');
  ns.ip('nexthop', 'add', 'id', '32', 'blackhole');
  ns.ip('route', 'add', '198.51.100.64/26', 'nhid', '23');
  ns.ip('route', 'add', '198.51.100.192/26', 'nhid', '24');
  ns.ip('-6', 'route', 'add', '2001:db8:9::/48', 'nhid', '31');
  const ip = ipView();
  assert.ok(ip.length >= 13, ip.join('\n'));
  assert.deepEqual(haView(), ip);
  const v = nexthopViews();
  assert.equal(v.ip.length, 6);
  assert.deepEqual(v.ha, v.ip);
});

test('ha save, then ha restore into a flushed table, gives back what ip had', { skip: needsRoot }, () => {
  const file = join(dir.path, 'state.json');
  const before = { routes: ipView(), nexthops: nexthopViews().ip };
  run(['save', '--state', file]);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { routes: { routes: string[]; nexthops: unknown[] } };
  assert.ok(saved.routes.routes.includes('203.0.113.0/24 metric 0 nexthop via 198.51.100.1 dev ha0 weight 4 nexthop via 192.0.2.1 dev hb0 weight 1'), saved.routes.routes.join('\n'));
  assert.ok(saved.routes.routes.includes('prohibit 198.51.100.128/25 table 300 metric 0 proto boot'), saved.routes.routes.join('\n'));
  flush();
  assert.notDeepEqual(ipView(), before.routes);
  const out = JSON.parse(run(['restore', '--state', file, '--json'])) as { applied: number };
  assert.equal(out.applied, 17, "11 routes and 6 nexthop objects");
  assert.deepEqual(ipView(), before.routes);
  assert.deepEqual(nexthopViews().ip, before.nexthops);
  assert.match(run(['diff', '--state', file]), /matches/);
});

test('restore converges route by route: only what differs is touched', { skip: needsRoot }, async () => {
  const file = join(dir.path, 'state.json');
  ns.ip('route', 'del', '192.0.2.128/25');
  ns.ip('route', 'add', '198.51.100.0/26', 'via', '192.0.2.1');
  ns.ip('-6', 'route', 'replace', 'blackhole', '2001:db8:8::/48', 'metric', '1024', 'proto', 'static');
  ns.ip('-6', 'route', 'del', '2001:db8:8::/48');
  ns.ip('-6', 'route', 'add', '2001:db8:8::/48', 'via', '2001:db8:a::1');
  const diff = JSON.parse(run(['diff', '--state', file, '--json'])) as { sections: Array<{ section: string; changes: Array<{ op: string; object: string }> }> };
  const changes = diff.sections.flatMap((s) => s.changes.map((c) => `${c.op} ${c.object}`)).sort();
  assert.deepEqual(changes, ['add route 192.0.2.128/25 metric 3', 'change route 2001:db8:8::/48 metric 1024', 'delete route 198.51.100.0/26 metric 0']);
  // watch the kernel's route notifications while restoring
  const monitor = spawn('ip', ['-n', ns.name, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let seen = '';
  monitor.stdout.on('data', (b: Buffer) => { seen += b.toString(); });
  await new Promise((r) => setTimeout(r, 300));
  try {
    run(['restore', '--state', file]);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    monitor.kill('SIGTERM');
  }
  const touched = [...new Set(seen.split('\n').filter(Boolean).map((l) => l.replace(/^Deleted /, '').replace(/^(blackhole|prohibit|unreachable) /, '').split(' ')[0]))].sort();
  assert.deepEqual(touched, ['192.0.2.128/25', '198.51.100.0/26', '2001:db8:8::/48']);
  assert.match(run(['diff', '--state', file]), /matches/);
});
