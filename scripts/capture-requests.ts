/**
 * Capture the netlink requests the reference tools send, as golden data for the request tests
 * (plugins/<name>/test/golden/requests.json): the bytes of every message `ip` or `ipvsadm` hands
 * to sendmsg(2), read from strace's hex dump (strace -e write=all).
 *
 *   node dist/scripts/capture-requests.js route   in a network namespace of its own, on this kernel
 *   node dist/scripts/capture-requests.js ipvs    inside User-Mode Linux (IPVS)
 *   node dist/scripts/capture-requests.js bond    inside User-Mode Linux (bonding)
 *
 * Each case names the command line and the object ha builds the same request from; the tests
 * compare ha's request with the captured one (see requests.test.ts in each plugin). Run as root;
 * needs strace, iproute2, ipvsadm. The output is written into the checkout.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CapturedMessage {
  type: number;
  flags: number;
  /** After the 16-byte header, hex. */
  payload: string;
}

/** The netlink messages a command sends, from strace's dump of what it writes. */
export function sentMessages(cmd: string[]): CapturedMessage[] {
  const r = spawnSync('strace', ['-f', '-e', 'trace=sendmsg,sendto', '-e', 'write=all', '-s', '0', ...cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr.split('\n').filter((l) => !l.startsWith(' |') && !l.includes('sendmsg') && !l.includes('bytes in buffer')).join('\n')}`);
  const datagrams: Buffer[] = [];
  let current: number[] | undefined;
  for (const line of r.stderr.split('\n')) {
    if (/^(\[pid +\d+\] )?send(msg|to)\(/.test(line)) {
      if (current) datagrams.push(Buffer.from(current));
      current = [];
      continue;
    }
    // " | 00000  3c 00 00 00 18 00 05 06  5f 7e 0f 6b 00 00 00 00  <ascii> |": the hex is columns 10 to 58
    const m = /^(?:\[pid +\d+\] )? \| [0-9a-f]{5}  /.exec(line);
    if (m && current) {
      const hex = line.slice(m[0].length, m[0].length + 48).trim();
      if (hex) current.push(...hex.split(/ +/).map((h) => Number.parseInt(h, 16)));
    }
  }
  if (current) datagrams.push(Buffer.from(current));
  const out: CapturedMessage[] = [];
  for (const d of datagrams) {
    for (let off = 0; off + 16 <= d.length;) {
      const len = d.readUInt32LE(off);
      if (len < 16 || off + len > d.length) break;
      out.push({ type: d.readUInt16LE(off + 4), flags: d.readUInt16LE(off + 6), payload: d.subarray(off + 16, off + len).toString('hex') });
      off += (len + 3) & ~3;
    }
  }
  return out;
}

const sh = (cmd: string): void => {
  execFileSync('sh', ['-c', cmd], { stdio: 'inherit' });
};

interface Case {
  name: string;
  /** The reference tool's command line. */
  cmd: string[];
  /** Which of its messages is the request (type, and for generic netlink the command). */
  type: number;
  cmd8?: number;
  /** What ha builds the same request from (the test knows how). */
  ha: unknown;
}

function capture(cases: Case[], file: string, setup: Record<string, unknown>): void {
  const out = [];
  for (const c of cases) {
    const msgs = sentMessages(c.cmd).filter((m) => m.type === c.type && (c.cmd8 === undefined || m.payload.startsWith(c.cmd8.toString(16).padStart(2, '0'))));
    if (msgs.length !== 1) throw new Error(`${c.name}: ${msgs.length} matching messages sent by ${c.cmd.join(' ')}`);
    out.push({ name: c.name, cmd: c.cmd.join(' '), ha: c.ha, flags: msgs[0]!.flags, payload: msgs[0]!.payload });
  }
  writeFileSync(file, `${JSON.stringify({ captured: 'scripts/capture-requests.ts', kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), setup, requests: out }, null, 2)}\n`);
  process.stdout.write(`wrote ${out.length} requests to ${file}\n`);
}

const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_NEWNEXTHOP = 104;
const RTM_NEWLINK = 16;

function routes(): void {
  // a namespace of its own with one veth, its addresses, and two nexthop objects
  sh('ip netns add hacapture && ip -n hacapture link add e0 type veth peer name e1 && ip -n hacapture link set e0 up && ip -n hacapture link set e1 up'
    + ' && ip -n hacapture addr add 198.51.100.2/24 dev e0 && ip -n hacapture -6 addr add 2001:db8:a::2/64 dev e0 nodad'
    + ' && ip -n hacapture nexthop add id 7 via 198.51.100.1 dev e0 && ip -n hacapture nexthop add id 8 via 198.51.100.3 dev e0');
  try {
    const e0 = Number(execFileSync('ip', ['-n', 'hacapture', '-j', 'link', 'show', 'e0'], { encoding: 'utf8' }).match(/"ifindex":(\d+)/)![1]);
    const ns = (args: string): string[] => ['ip', 'netns', 'exec', 'hacapture', 'ip', ...args.split(' ')];
    const base = { table: 254, type: 'unicast', protocol: 'static', scope: 'global' };
    capture([
      { name: 'via, dev, metric', cmd: ns('route add 192.0.2.0/24 via 198.51.100.1 dev e0 metric 100 proto static'), type: RTM_NEWROUTE, ha: { op: 'add', route: { ...base, family: 'ipv4', dst: '192.0.2.0/24', via: '198.51.100.1', dev: 'e0', metric: 100 } } },
      { name: 'default in table 1000', cmd: ns('route add default via 198.51.100.1 metric 0 proto static table 1000'), type: RTM_NEWROUTE, ha: { op: 'add', route: { ...base, family: 'ipv4', dst: 'default', via: '198.51.100.1', metric: 0, table: 1000 } } },
      { name: 'device route, scope link', cmd: ns('route add 203.0.113.0/24 dev e0 scope link proto static metric 50'), type: RTM_NEWROUTE, ha: { op: 'add', route: { ...base, family: 'ipv4', dst: '203.0.113.0/24', dev: 'e0', scope: 'link', metric: 50 } } },
      { name: 'blackhole', cmd: ns('route add blackhole 10.0.0.0/8 proto static metric 7'), type: RTM_NEWROUTE, ha: { op: 'add', route: { ...base, family: 'ipv4', dst: '10.0.0.0/8', type: 'blackhole', metric: 7 } } },
      { name: 'preferred source', cmd: ns('route add 192.0.2.64/26 via 198.51.100.1 src 198.51.100.2 proto static metric 3'), type: RTM_NEWROUTE, ha: { op: 'add', route: { ...base, family: 'ipv4', dst: '192.0.2.64/26', via: '198.51.100.1', src: '198.51.100.2', metric: 3 } } },
      { name: 'multipath with weights', cmd: ns('route add 192.0.2.128/25 proto static metric 10 nexthop via 198.51.100.1 dev e0 weight 1 nexthop via 198.51.100.3 dev e0 weight 3'), type: RTM_NEWROUTE, ha: { op: 'add', route: { ...base, family: 'ipv4', dst: '192.0.2.128/25', metric: 10, nexthops: [{ via: '198.51.100.1', dev: 'e0', weight: 1 }, { via: '198.51.100.3', dev: 'e0', weight: 3 }] } } },
      { name: 'through a nexthop object', cmd: ns('route add 198.18.0.0/15 nhid 7 metric 5 proto static'), type: RTM_NEWROUTE, ha: { op: 'add', route: { ...base, family: 'ipv4', dst: '198.18.0.0/15', nhid: 7, metric: 5 } } },
      { name: 'IPv6 via', cmd: ns('-6 route add 2001:db8:100::/48 via 2001:db8:a::1 dev e0 metric 1024 proto static'), type: RTM_NEWROUTE, ha: { op: 'add', route: { ...base, family: 'ipv6', dst: '2001:db8:100::/48', via: '2001:db8:a::1', dev: 'e0', metric: 1024 } } },
      { name: 'replace', cmd: ns('route replace 192.0.2.0/24 via 198.51.100.3 dev e0 metric 100 proto static'), type: RTM_NEWROUTE, ha: { op: 'replace', route: { ...base, family: 'ipv4', dst: '192.0.2.0/24', via: '198.51.100.3', dev: 'e0', metric: 100 } } },
      { name: 'delete', cmd: ns('route del 192.0.2.0/24 metric 100'), type: RTM_DELROUTE, ha: { op: 'delete', route: { ...base, family: 'ipv4', dst: '192.0.2.0/24', via: '198.51.100.3', dev: 'e0', metric: 100 } } },
      { name: 'nexthop object', cmd: ns('nexthop add id 17 via 198.51.100.1 dev e0 proto static'), type: RTM_NEWNEXTHOP, ha: { op: 'add', nexthop: { id: 17, family: 'ipv4', via: '198.51.100.1', dev: 'e0', protocol: 'static' } } },
      { name: 'nexthop group', cmd: ns('nexthop add id 19 group 7/8,3 proto static'), type: RTM_NEWNEXTHOP, ha: { op: 'add', nexthop: { id: 19, group: [{ id: 7, weight: 1 }, { id: 8, weight: 3 }], type: 'mpath', protocol: 'static' } } },
      { name: 'resilient group', cmd: ns('nexthop add id 20 group 7,2/8 type resilient buckets 8 idle_timer 30 unbalanced_timer 0 proto static'), type: RTM_NEWNEXTHOP, ha: { op: 'add', nexthop: { id: 20, group: [{ id: 7, weight: 2 }, { id: 8, weight: 1 }], type: 'resilient', buckets: 8, idleTimer: 30, unbalancedTimer: 0, protocol: 'static' } } },
    ], join(root, 'plugins', 'route', 'test', 'golden', 'requests.json'), { links: { lo: 1, e0 } });
  } finally {
    sh('ip netns del hacapture');
  }
}

const CMD = { NEW_SERVICE: 1, SET_SERVICE: 2, DEL_SERVICE: 3, NEW_DEST: 5, SET_DEST: 6, DEL_DEST: 7, NEW_DAEMON: 9, DEL_DAEMON: 10, SET_CONFIG: 12, FLUSH: 17 };

/** Inside UML: what ipvsadm sends (the IPVS family's id is whatever this kernel gave it). */
function ipvsInside(out: string): void {
  sh('ip link add d0 type dummy && ip link set d0 up multicast on');
  const genl = (name: string, cmd: string[], cmd8: number, ha: unknown): Case => ({ name, cmd: ['ipvsadm', ...cmd], type: -1, cmd8, ha });
  const svc = { family: 'ipv4', protocol: 'tcp', address: '192.0.2.10', port: 80, scheduler: 'wrr', schedFlags: [], onePacket: false, servers: [] };
  const cases: Case[] = [
    genl('service', ['-A', '-t', '192.0.2.10:80', '-s', 'wrr'], CMD.NEW_SERVICE, { build: 'addService', service: svc }),
    genl('persistent service with a netmask', ['-A', '-t', '192.0.2.10:443', '-s', 'wlc', '-p', '600', '-M', '255.255.255.0'], CMD.NEW_SERVICE,
      { build: 'addService', service: { ...svc, port: 443, scheduler: 'wlc', persistence: { timeout: 600, netmask: '255.255.255.0' } } }),
    genl('one-packet UDP service', ['-A', '-u', '192.0.2.10:53', '-s', 'rr', '-o'], CMD.NEW_SERVICE, { build: 'addService', service: { ...svc, protocol: 'udp', port: 53, scheduler: 'rr', onePacket: true } }),
    genl('firewall mark with scheduler flags', ['-A', '-f', '7', '-s', 'sh', '-b', 'sh-port,sh-fallback'], CMD.NEW_SERVICE,
      { build: 'addService', service: { family: 'ipv4', fwmark: 7, scheduler: 'sh', schedFlags: ['sh-fallback', 'sh-port'], onePacket: false, servers: [] } }),
    genl('IPv6 service', ['-A', '-t', '[2001:db8::10]:80', '-s', 'lc'], CMD.NEW_SERVICE, { build: 'addService', service: { ...svc, family: 'ipv6', address: '2001:db8::10', scheduler: 'lc' } }),
    genl('persistence engine', ['-A', '-u', '192.0.2.10:5060', '-s', 'rr', '-p', '60', '--pe', 'sip'], CMD.NEW_SERVICE,
      { build: 'addService', service: { ...svc, protocol: 'udp', port: 5060, scheduler: 'rr', persistence: { timeout: 60, netmask: '255.255.255.255' }, pe: 'sip' } }),
    genl('edit service', ['-E', '-t', '192.0.2.10:80', '-s', 'rr', '-p', '120'], CMD.SET_SERVICE,
      { build: 'editService', service: { ...svc, scheduler: 'rr', persistence: { timeout: 120, netmask: '255.255.255.255' } } }),
    genl('NAT real server with thresholds', ['-a', '-t', '192.0.2.10:80', '-r', '198.51.100.11:8080', '-m', '-w', '3', '-x', '100', '-y', '10'], CMD.NEW_DEST,
      { build: 'addServer', service: svc, server: { family: 'ipv4', address: '198.51.100.11', port: 8080, forward: 'masq', weight: 3, upperThreshold: 100, lowerThreshold: 10 } }),
    genl('tunnelled real server', ['-a', '-t', '192.0.2.10:80', '-r', '198.51.100.13', '-i'], CMD.NEW_DEST,
      { build: 'addServer', service: svc, server: { family: 'ipv4', address: '198.51.100.13', port: 80, forward: 'tunnel', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', checksum: 'nocsum' } } }),
    genl('gue tunnel with checksum', ['-a', '-t', '192.0.2.10:80', '-r', '198.51.100.14', '-i', '--tun-type', 'gue', '--tun-port', '6080', '--tun-csum'], CMD.NEW_DEST,
      { build: 'addServer', service: svc, server: { family: 'ipv4', address: '198.51.100.14', port: 80, forward: 'tunnel', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'gue', port: 6080, checksum: 'csum' } } }),
    genl('edit real server', ['-e', '-t', '192.0.2.10:80', '-r', '198.51.100.11:8080', '-m', '-w', '0'], CMD.SET_DEST,
      { build: 'editServer', service: svc, server: { family: 'ipv4', address: '198.51.100.11', port: 8080, forward: 'masq', weight: 0, upperThreshold: 0, lowerThreshold: 0 } }),
    genl('delete real server', ['-d', '-t', '192.0.2.10:80', '-r', '198.51.100.13'], CMD.DEL_DEST,
      { build: 'deleteServer', service: svc, server: { family: 'ipv4', address: '198.51.100.13', port: 80 } }),
    genl('delete service', ['-D', '-u', '192.0.2.10:53'], CMD.DEL_SERVICE, { build: 'deleteService', service: { ...svc, protocol: 'udp', port: 53 } }),
    genl('timeouts', ['--set', '900', '120', '300'], CMD.SET_CONFIG, { build: 'setTimeouts', timeouts: { tcp: 900, tcpfin: 120, udp: 300 } }),
    genl('sync daemon', ['--start-daemon', 'master', '--mcast-interface', 'd0', '--syncid', '5'], CMD.NEW_DAEMON,
      { build: 'startDaemon', daemon: { state: 'master', interface: 'd0', syncid: 5 } }),
    genl('flush', ['-C'], CMD.FLUSH, { build: 'flush' }),
  ];
  // the family's id: the type of ipvsadm's IPVS messages (all but the controller's, 16)
  const results = [];
  for (const c of cases) {
    const msgs = sentMessages(c.cmd).filter((m) => m.type !== 16 && m.payload.startsWith(c.cmd8!.toString(16).padStart(2, '0')));
    if (msgs.length !== 1) throw new Error(`${c.name}: ${msgs.length} matching messages sent by ${c.cmd.join(' ')}`);
    results.push({ name: c.name, cmd: c.cmd.join(' '), ha: c.ha, type: msgs[0]!.type, flags: msgs[0]!.flags, payload: msgs[0]!.payload });
  }
  writeFileSync(out, JSON.stringify(results));
}

/** Inside UML: what ip(8) sends for bonds. */
function bondInside(out: string): void {
  sh('ip link add hd1 type dummy && ip link add hd2 type dummy');
  const link = (name: string, cmd: string, ha: unknown): Case => ({ name, cmd: ['ip', ...cmd.split(' ')], type: -1, ha });
  const cases: Case[] = [
    link('active-backup with the default monitoring', 'link add hb0 type bond mode active-backup miimon 100 arp_interval 0', { build: 'create', name: 'hb0', mode: 'active-backup', options: { miimon: 100, arp_interval: 0 } }),
    link('802.3ad with LACP options', 'link add hb1 type bond mode 802.3ad miimon 100 lacp_rate fast xmit_hash_policy layer3+4 ad_select count min_links 2', { build: 'create', name: 'hb1', mode: '802.3ad', options: { miimon: 100, lacp_rate: 'fast', xmit_hash_policy: 'layer3+4', ad_select: 'count', min_links: 2 } }),
    link('balance-rr with packets per port', 'link add hb2 type bond mode balance-rr miimon 100 arp_interval 0 packets_per_slave 2', { build: 'create', name: 'hb2', mode: 'balance-rr', options: { miimon: 100, arp_interval: 0, packets_per_slave: 2 } }),
    link('ARP monitoring with targets', 'link add hb3 type bond mode active-backup miimon 0 arp_interval 200 arp_ip_target 192.0.2.1,192.0.2.2 arp_validate all', { build: 'create', name: 'hb3', mode: 'active-backup', options: { miimon: 0, arp_interval: 200, arp_ip_target: ['192.0.2.1', '192.0.2.2'], arp_validate: 'all' } }),
    link('IPv6 neighbour targets', 'link add hb4 type bond mode active-backup miimon 0 arp_interval 100 ns_ip6_target 2001:db8::1', { build: 'create', name: 'hb4', mode: 'active-backup', options: { miimon: 0, arp_interval: 100, ns_ip6_target: ['2001:db8::1'] } }),
    link('change an option', 'link set hb0 type bond miimon 200', { build: 'change', bond: 'hb0', req: { options: { miimon: 200 } } }),
    link('enslave', 'link set hd1 master hb0', { build: 'master', bond: 'hb0', port: 'hd1', master: 'hb0' }),
    link('release', 'link set hd1 nomaster', { build: 'master', bond: 'hb0', port: 'hd1', master: 0 }),
    link('down', 'link set hb0 down', { build: 'setUp', link: 'hb0', up: false }),
    link('delete', 'link del hb2', { build: 'delete', bond: 'hb2' }),
  ];
  const results = [];
  const indexes: Record<string, number> = {};
  for (const c of cases) {
    // ip link add asks first whether the kind's module is there (a request without IFLA_IFNAME):
    // the request is the last link message
    const all = sentMessages(c.cmd).filter((m) => m.type === RTM_NEWLINK || m.type === 17);
    if (all.length === 0) throw new Error(`${c.name}: no link message sent by ${c.cmd.join(' ')}`);
    const msgs = all.slice(-1);
    for (const n of ['hb0', 'hb1', 'hb2', 'hb3', 'hb4', 'hd1', 'hd2']) {
      const m = /"ifindex":(\d+)/.exec(spawnSync('ip', ['-j', 'link', 'show', n], { encoding: 'utf8' }).stdout);
      if (m) indexes[n] = Number(m[1]);
    }
    results.push({ name: c.name, cmd: c.cmd.join(' '), ha: c.ha, type: msgs[0]!.type, flags: msgs[0]!.flags, payload: msgs[0]!.payload });
  }
  writeFileSync(out, JSON.stringify({ results, indexes }));
}

/** Run `which` inside User-Mode Linux and write its results to the plugin's golden file. */
async function inUml(which: 'ipvs' | 'bond'): Promise<void> {
  const { bootUml } = await import('@ha/lib/testing');
  const boot = await bootUml(`node ${join(root, 'dist', 'scripts', 'capture-requests.js')} ${which}-inside "$OUT/requests.json" && uname -r > "$OUT/kernel"\n`);
  if (boot.rc !== 0) throw new Error(`capture inside UML failed (${boot.rc}):\n${boot.output}`);
  const data = JSON.parse(boot.files['requests.json']!) as unknown;
  const file = join(root, 'plugins', which, 'test', 'golden', 'requests.json');
  const body = which === 'ipvs' ? { requests: data } : { requests: (data as { results: unknown }).results, setup: { links: (data as { indexes: unknown }).indexes } };
  writeFileSync(file, `${JSON.stringify({ captured: 'scripts/capture-requests.ts', kernel: boot.files.kernel!.trim(), ...body }, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}

async function main(): Promise<void> {
  const which = process.argv[2];
  if (which === 'route') routes();
  else if (which === 'ipvs' || which === 'bond') await inUml(which);
  else if (which === 'ipvs-inside') ipvsInside(process.argv[3]!);
  else if (which === 'bond-inside') bondInside(process.argv[3]!);
  else throw new Error('usage: capture-requests.js route|ipvs|bond');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
