/**
 * ha ipvs realserver inside User-Mode Linux, whose kernel has the ipip module (the host's lacks it):
 * --tunnel set up, checked and torn down in a namespace of its own, read back with ip(8) and
 * sysctl(8), and real traffic through an IPVS director in tunnel (-i) and direct-routing (-g) mode.
 *
 * Three namespaces, routed, no bridge (this kernel has none):
 *
 *   client C  eth0 203.0.113.2/25   <->  c0 203.0.113.1/25    director D (IPVS, VIP on its lo)
 *             eth1 203.0.113.130/25 <->  eth1 203.0.113.129/25 real server R
 *                                        r0 198.51.100.1/24 (D) <-> eth0 198.51.100.2/24 (R)
 *
 * C reaches the VIP through D; D tunnels (or, with -g, forwards at layer 2) to R; R answers C
 * directly over eth1, from the VIP, as LVS real servers do.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { Netns, Run, ha, needsRoot } from '@ha/lib/testing';

const VIP = '192.0.2.10';
const VIP2 = '192.0.2.11';
const made: Netns[] = [];
let C: Netns;
let D: Netns;
let R: Netns;
let server: ChildProcess | undefined;
let runDir: string;

/** The realserver records in the run folder (the kernel locks live there too, in lock/). */
const records = (): string[] => readdirSync(runDir).filter((f) => f.startsWith('realserver-'));

const ARP_TUN = ['net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.tunl0.arp_ignore', 'net.ipv4.conf.tunl0.arp_announce'];
const RP = ['net.ipv4.conf.all.rp_filter', 'net.ipv4.conf.tunl0.rp_filter'];

function sh(n: Netns, ...cmd: string[]): string {
  const r = n.exec(cmd);
  assert.equal(r.status, 0, `${cmd.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const sysctl = (n: Netns, key: string): string => sh(n, 'sysctl', '-n', key).trim();
const sysctlSet = (n: Netns, key: string, value: string): void => void sh(n, 'sysctl', '-qw', `${key}=${value}`);

before(async () => {
  if (needsRoot) return;
  runDir = mkdtempSync(join(tmpdir(), 'ha-rs-run-'));
  C = Netns.create('cl');
  made.push(C);
  D = Netns.create('dir');
  made.push(D);
  R = Netns.create('rs');
  made.push(R);
  C.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'c0', 'netns', D.name);
  C.ip('link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', R.name);
  D.ip('link', 'add', 'r0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', R.name);
  const addr = (n: Netns, a: string, dev: string): void => {
    n.ip('addr', 'add', a, 'dev', dev);
    n.ip('link', 'set', dev, 'up');
  };
  addr(C, '203.0.113.2/25', 'eth0');
  addr(C, '203.0.113.130/25', 'eth1');
  addr(D, '203.0.113.1/25', 'c0');
  addr(D, '198.51.100.1/24', 'r0');
  addr(R, '198.51.100.2/24', 'eth0');
  addr(R, '203.0.113.129/25', 'eth1');
  C.ip('route', 'add', 'default', 'via', '203.0.113.1');
  R.ip('route', 'add', '203.0.113.0/25', 'via', '203.0.113.130');
  // the replies come back to C on eth1 while its route to the VIP leaves through eth0
  for (const k of ['all', 'eth0', 'eth1']) sysctlSet(C, `net.ipv4.conf.${k}.rp_filter`, '0');
  D.ip('addr', 'add', `${VIP}/32`, 'dev', 'lo');
  sh(D, 'ipvsadm', '-A', '-t', `${VIP}:80`, '-s', 'rr');
  sh(D, 'ipvsadm', '-a', '-t', `${VIP}:80`, '-r', '198.51.100.2:80', '-i');
  // a real server that says who it is
  server = spawn('ip', ['netns', 'exec', R.name, process.execPath, '-e',
    "require('node:net').createServer((s) => s.end('rs\\n')).listen(80, () => console.log('ready'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: server!.stdout! }).once('line', () => resolve());
    server!.once('exit', (code) => reject(new Error(`the test server exited ${code}`)));
  });
});

after(() => {
  if (server?.pid) server.kill('SIGKILL');
  for (const n of made) n.destroy();
  if (runDir) rmSync(runDir, { recursive: true, force: true });
});

function rs(...args: string[]): Run {
  return ha(['ipvs', 'realserver', ...args], { wrap: R.wrap, env: { HA_RUN_DIR: runDir } });
}

function json<T>(r: Run): T {
  assert.ok(r.stdout.trim(), `no output (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Connect from the client to VIP:80: the server's line, an error code, or "timeout". */
function fetchVip(): string {
  const r = C.exec([process.execPath, '-e', `
    const s = require('node:net').connect({ host: '${VIP}', port: 80 });
    let got = '';
    s.setTimeout(3000, () => { console.log('timeout'); process.exit(0); });
    s.on('data', (b) => { got += b; });
    s.on('end', () => { console.log(got.trim()); process.exit(0); });
    s.on('error', (e) => { console.log(e.code); process.exit(0); });`]);
  return r.stdout.trim();
}

interface IpAddr { ifname: string; flags: string[]; addr_info: Array<{ local: string; prefixlen: number }> }
const tunl0 = (): { up: boolean; addrs: string[] } => {
  const [l] = R.ipJson<IpAddr[]>('addr', 'show', 'dev', 'tunl0');
  return { up: l!.flags.includes('UP'), addrs: l!.addr_info.map((a) => `${a.local}/${a.prefixlen}`) };
};

interface Change { what: string; from: string; to: string }
interface Kept { what: string; value: string; reason: string }
interface Requirement { what: string; status: string; actual: string; fix?: string }

test('setup --tunnel: sysctls, tunl0 up, then the VIP on tunl0; IPVS -i traffic reaches the real server', { skip: needsRoot }, () => {
  // a distribution's strict reverse-path filter, and ARP at the kernel defaults
  for (const k of RP) sysctlSet(R, k, '1');
  for (const k of ARP_TUN) sysctlSet(R, k, '0');
  assert.deepEqual(tunl0(), { up: false, addrs: [] }, 'the ipip module gives each namespace a tunl0, down');
  // before setup R refuses the IPIP packets (ICMP protocol unreachable, relayed by IPVS)
  assert.match(fetchVip(), /^(ECONNREFUSED|timeout)$/, 'the real server does not serve the VIP before setup');

  const r = rs('setup', '--tunnel', '--vip', VIP, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = json<{ vips: string[]; mode: string; device: string; changes: Change[] }>(r);
  assert.deepEqual([out.vips, out.mode, out.device], [[VIP], 'tunnel', 'tunl0']);
  assert.deepEqual(out.changes, [
    { what: 'net.ipv4.conf.all.arp_ignore', from: '0', to: '1' },
    { what: 'net.ipv4.conf.all.arp_announce', from: '0', to: '2' },
    { what: 'net.ipv4.conf.tunl0.arp_ignore', from: '0', to: '1' },
    { what: 'net.ipv4.conf.tunl0.arp_announce', from: '0', to: '2' },
    { what: 'net.ipv4.conf.all.rp_filter', from: '1', to: '0' },
    { what: 'net.ipv4.conf.tunl0.rp_filter', from: '1', to: '0' },
    { what: 'interface tunl0', from: 'down', to: 'up' },
    { what: `address ${VIP}/32 on tunl0`, from: 'absent', to: 'present' },
  ]);
  assert.deepEqual(tunl0(), { up: true, addrs: [`${VIP}/32`] });
  assert.deepEqual([...ARP_TUN, ...RP].map((k) => sysctl(R, k)), ['1', '2', '1', '2', '0', '0']);
  assert.equal(fetchVip(), 'rs', 'the client got the real server\'s answer through the IPIP tunnel');
});

test('setup --tunnel again changes nothing; check --tunnel passes', { skip: needsRoot }, () => {
  const again = rs('setup', '--tunnel', '--vip', VIP);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), `Nothing to change: ${VIP} already set up for IPIP tunnelling (VIPs on tunl0).`);
  const c = rs('check', '--tunnel', '--vip', VIP, '--json');
  assert.equal(c.code, 0, c.stderr);
  const out = json<{ ok: boolean; requirements: Requirement[] }>(c);
  assert.equal(out.ok, true);
  assert.deepEqual(out.requirements.map((q) => `${q.what}: ${q.status} ${q.actual}`), [
    'net.ipv4.conf.all.arp_ignore: ok 1',
    'net.ipv4.conf.all.arp_announce: ok 2',
    'net.ipv4.conf.tunl0.arp_ignore: ok 1',
    'net.ipv4.conf.tunl0.arp_announce: ok 2',
    'net.ipv4.conf.all.rp_filter: ok 0',
    'net.ipv4.conf.tunl0.rp_filter: ok 0',
    'interface tunl0: ok up',
    `address ${VIP}/32 on tunl0: ok present`,
    `${VIP} on no other interface: ok none`,
  ]);
});

test('rp_filter on tunl0 drops the decapsulated packets: check says so, setup fixes just that', { skip: needsRoot }, () => {
  sysctlSet(R, 'net.ipv4.conf.tunl0.rp_filter', '1');
  assert.equal(fetchVip(), 'timeout', 'strict reverse-path filtering drops what arrives on tunl0 from the client');
  const c = rs('check', '--tunnel', '--vip', VIP, '--json');
  assert.equal(c.code, 1);
  const out = json<{ ok: boolean; requirements: Requirement[]; fix: string }>(c);
  assert.deepEqual(out.requirements.filter((q) => q.status === 'missing'),
    [{ what: 'net.ipv4.conf.tunl0.rp_filter', expected: '0', actual: '1', status: 'missing', fix: 'sysctl -w net.ipv4.conf.tunl0.rp_filter=0' }]);
  assert.equal(out.fix, `ha ipvs realserver setup --vip ${VIP} --tunnel`);
  const fix = json<{ changes: Change[] }>(rs('setup', '--tunnel', '--vip', VIP, '--json'));
  assert.deepEqual(fix.changes, [{ what: 'net.ipv4.conf.tunl0.rp_filter', from: '1', to: '0' }]);
  assert.equal(fetchVip(), 'rs');
});

test('teardown --tunnel keeps what a remaining VIP needs; the last one restores everything setup replaced', { skip: needsRoot }, () => {
  const second = json<{ changes: Change[] }>(rs('setup', '--tunnel', '--vip', `${VIP},${VIP2}`, '--json'));
  assert.deepEqual(second.changes, [{ what: `address ${VIP2}/32 on tunl0`, from: 'absent', to: 'present' }]);

  const first = json<{ changes: Change[]; kept: Kept[] }>(rs('teardown', '--tunnel', '--vip', VIP, '--json'));
  assert.deepEqual(first.changes, [{ what: `address ${VIP}/32 on tunl0`, from: 'present', to: 'absent' }]);
  const needed = `still needed by ${VIP2}/32 on tunl0`;
  assert.deepEqual(first.kept.map((k) => `${k.what}=${k.value} ${k.reason}`), [
    `net.ipv4.conf.all.arp_ignore=1 ${needed}`,
    `net.ipv4.conf.all.arp_announce=2 ${needed}`,
    `net.ipv4.conf.tunl0.arp_ignore=1 ${needed}`,
    `net.ipv4.conf.tunl0.arp_announce=2 ${needed}`,
    `net.ipv4.conf.all.rp_filter=0 ${needed}`,
    `net.ipv4.conf.tunl0.rp_filter=0 ${needed}`,
    `interface tunl0=up ${needed}`,
  ]);
  assert.deepEqual(tunl0(), { up: true, addrs: [`${VIP2}/32`] });

  const last = rs('teardown', '--tunnel', '--vip', VIP2, '--json');
  assert.equal(last.code, 0, last.stderr);
  const out = json<{ changes: Change[]; kept: Kept[] }>(last);
  assert.deepEqual(out.changes, [
    { what: `address ${VIP2}/32 on tunl0`, from: 'present', to: 'absent' },
    { what: 'net.ipv4.conf.all.arp_ignore', from: '1', to: '0' },
    { what: 'net.ipv4.conf.all.arp_announce', from: '2', to: '0' },
    { what: 'net.ipv4.conf.tunl0.arp_ignore', from: '1', to: '0' },
    { what: 'net.ipv4.conf.tunl0.arp_announce', from: '2', to: '0' },
    { what: 'net.ipv4.conf.all.rp_filter', from: '0', to: '1' },
    { what: 'net.ipv4.conf.tunl0.rp_filter', from: '0', to: '1' },
    { what: 'interface tunl0', from: 'up', to: 'down' },
  ]);
  assert.deepEqual(out.kept, []);
  assert.deepEqual(tunl0(), { up: false, addrs: [] });
  assert.deepEqual([...ARP_TUN, ...RP].map((k) => sysctl(R, k)), ['0', '0', '0', '0', '1', '1']);
  assert.deepEqual(records(), [], 'the record is gone once everything is restored');
  assert.match(fetchVip(), /^(ECONNREFUSED|timeout)$/);

  const again = rs('teardown', '--tunnel', '--vip', VIP, '--vip', VIP2);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^Nothing to change: /);
  assert.equal(rs('check', '--tunnel', '--vip', VIP).code, 1);
});

test('direct routing through IPVS -g: the VIP on lo; tunnel VIPs keep the shared ARP sysctls', { skip: needsRoot }, () => {
  // this topology is asymmetric on purpose (replies skip the director), unlike a real LVS network
  sysctlSet(R, 'net.ipv4.conf.all.rp_filter', '0');
  sh(D, 'ipvsadm', '-e', '-t', `${VIP}:80`, '-r', '198.51.100.2:80', '-g');
  assert.match(fetchVip(), /^(ECONNREFUSED|timeout)$/);
  const up = rs('setup', '--vip', VIP);
  assert.equal(up.code, 0, up.stderr);
  const [lo] = R.ipJson<IpAddr[]>('addr', 'show', 'dev', 'lo');
  assert.ok(lo!.addr_info.some((a) => a.local === VIP && a.prefixlen === 32));
  assert.equal(fetchVip(), 'rs', 'the client got the real server\'s answer by direct routing');

  // a tunnel VIP as well: tearing down the direct-routing one must leave "all" ARP settings alone
  assert.equal(rs('setup', '--tunnel', '--vip', VIP2).code, 0);
  const down = json<{ changes: Change[]; kept: Kept[] }>(rs('teardown', '--vip', VIP, '--json'));
  assert.deepEqual(down.changes, [{ what: `address ${VIP}/32 on lo`, from: 'present', to: 'absent' }]);
  assert.ok(down.kept.some((k) => k.what === 'net.ipv4.conf.all.arp_ignore' && k.reason === `still needed by ${VIP2}/32 on tunl0`));
  assert.equal(rs('teardown', '--tunnel', '--vip', VIP2).code, 0);
  assert.equal(rs('teardown', '--vip', VIP).code, 0);
  assert.deepEqual(['net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.lo.arp_ignore', 'net.ipv4.conf.all.rp_filter'].map((k) => sysctl(R, k)), ['0', '0', '0']);
  assert.deepEqual(records(), []);
  assert.match(fetchVip(), /^(ECONNREFUSED|timeout)$/);
});
