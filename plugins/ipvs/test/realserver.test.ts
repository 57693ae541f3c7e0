/**
 * ha ipvs realserver on the host kernel, inside network namespaces this file creates and removes:
 * setup, check and teardown for direct routing read back with ip(8) and sysctl(8); a real ARP
 * exchange showing that the real server stops answering for its VIP; idempotency; the record of
 * replaced values; bad input refused with exit 2 and nothing changed. (The --tunnel mode needs the
 * ipip module, which this kernel lacks: realserver.uml.test.ts covers it inside User-Mode Linux.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Netns, Run, ha, needsRoot, oneLine } from '@ha/lib/testing';

const VIP = '192.0.2.10';
const VIP6 = '2001:db8::10';
const ARP = ['net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.lo.arp_ignore', 'net.ipv4.conf.lo.arp_announce'];

const made: Netns[] = [];
let ns: Netns;
let runDir: string;

/** The realserver records in the run folder (the kernel locks live there too, in lock/). */
const records = (): string[] => readdirSync(runDir).filter((f) => f.startsWith('realserver-'));

before(() => {
  if (needsRoot) return;
  runDir = mkdtempSync(join(tmpdir(), 'ha-rs-run-'));
  ns = Netns.create('rs');
  made.push(ns);
  // a new namespace inherits the machine's IPv4 settings: start from the kernel defaults
  for (const k of ARP) sysctlSet(ns, k, '0');
});

after(() => {
  for (const n of made) n.destroy();
  if (runDir) rmSync(runDir, { recursive: true, force: true });
});

function rs(n: Netns, ...args: string[]): Run {
  return ha(['ipvs', 'realserver', ...args], { wrap: n.wrap, env: { HA_RUN_DIR: runDir } });
}

function json<T>(r: Run): T {
  assert.ok(r.stdout.trim(), `no output (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function sysctl(n: Netns, key: string): string {
  const r = n.exec(['sysctl', '-n', key]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function sysctlSet(n: Netns, key: string, value: string): void {
  const r = n.exec(['sysctl', '-qw', `${key}=${value}`]);
  assert.equal(r.status, 0, r.stderr);
}

interface IpAddr { ifname: string; addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }> }

/** "192.0.2.10/32 global" for each address on lo, as ip(8) reads it. */
function loAddrs(n: Netns): string[] {
  const [lo] = n.ipJson<IpAddr[]>('addr', 'show', 'dev', 'lo');
  return lo!.addr_info.map((a) => `${a.local}/${a.prefixlen} ${a.scope}`).sort();
}

/** Everything these commands may touch: addresses on lo, the ARP sysctls, the record folder. */
function snapshot(n: Netns): string {
  return JSON.stringify({ lo: loAddrs(n), sysctls: ARP.map((k) => `${k}=${sysctl(n, k)}`), records: records() });
}

interface Change { what: string; from: string; to: string }
interface Kept { what: string; value: string; reason: string }
interface Requirement { what: string; expected: string; actual: string; status: string; fix?: string }

test('setup sets the ARP sysctls, then puts the VIPs on lo as /32 and /128', { skip: needsRoot }, () => {
  const r = rs(ns, 'setup', '--vip', VIP, '--vip', VIP6, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = json<{ vips: string[]; mode: string; device: string; changes: Change[] }>(r);
  assert.deepEqual(out.vips, [VIP, VIP6]);
  assert.equal(out.mode, 'droute');
  assert.equal(out.device, 'lo');
  // in the order they were made: no moment with the VIP present and ARP still answered
  assert.deepEqual(out.changes, [
    { what: 'net.ipv4.conf.all.arp_ignore', from: '0', to: '1' },
    { what: 'net.ipv4.conf.all.arp_announce', from: '0', to: '2' },
    { what: 'net.ipv4.conf.lo.arp_ignore', from: '0', to: '1' },
    { what: 'net.ipv4.conf.lo.arp_announce', from: '0', to: '2' },
    { what: `address ${VIP}/32 on lo`, from: 'absent', to: 'present' },
    { what: `address ${VIP6}/128 on lo`, from: 'absent', to: 'present' },
  ]);
  assert.deepEqual(loAddrs(ns), ['127.0.0.1/8 host', `${VIP6}/128 global`, `${VIP}/32 global`, '::1/128 host'].sort());
  assert.deepEqual(ARP.map((k) => sysctl(ns, k)), ['1', '2', '1', '2']);
  assert.equal(records().length, 1, 'the replaced values are recorded for teardown');
});

test('setup a second time changes nothing and says so', { skip: needsRoot }, () => {
  const before = snapshot(ns);
  const r = rs(ns, 'setup', '--vip', `${VIP},${VIP6}`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `Nothing to change: ${VIP}, ${VIP6} already set up for direct routing (VIPs on lo).`);
  const j = json<{ changes: Change[] }>(rs(ns, 'setup', '--vip', VIP, '--json'));
  assert.deepEqual(j.changes, []);
  assert.equal(snapshot(ns), before);
});

test('check passes with every requirement ok and exit 0', { skip: needsRoot }, () => {
  const r = rs(ns, 'check', '--vip', VIP, '--vip', VIP6, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = json<{ ok: boolean; requirements: Requirement[]; fix?: string }>(r);
  assert.equal(out.ok, true);
  assert.equal(out.fix, undefined);
  assert.deepEqual(out.requirements.map((q) => `${q.what}: ${q.status} ${q.actual}`), [
    'net.ipv4.conf.all.arp_ignore: ok 1',
    'net.ipv4.conf.all.arp_announce: ok 2',
    'net.ipv4.conf.lo.arp_ignore: ok 1',
    'net.ipv4.conf.lo.arp_announce: ok 2',
    `address ${VIP}/32 on lo: ok present`,
    `address ${VIP6}/128 on lo: ok present`,
    `${VIP} on no other interface: ok none`,
    `${VIP6} on no other interface: ok none`,
  ]);
  const human = rs(ns, 'check', '--vip', VIP);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /All 6 requirements met for direct routing \(VIPs on lo\)\.\n$/);
});

test('teardown of one VIP keeps the sysctls another VIP needs, and says so', { skip: needsRoot }, () => {
  const r = rs(ns, 'teardown', '--vip', VIP6, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = json<{ changes: Change[]; kept: Kept[] }>(r);
  assert.deepEqual(out.changes, [{ what: `address ${VIP6}/128 on lo`, from: 'present', to: 'absent' }]);
  assert.deepEqual(out.kept, ARP.map((k, i) => ({ what: k, value: ['1', '2'][i % 2], reason: `still needed by ${VIP}/32 on lo` })));
  assert.deepEqual(loAddrs(ns), ['127.0.0.1/8 host', `${VIP}/32 global`, '::1/128 host'].sort());
  assert.deepEqual(ARP.map((k) => sysctl(ns, k)), ['1', '2', '1', '2']);
});

test('teardown of the last VIP removes it and puts back the values setup replaced; again changes nothing', { skip: needsRoot }, () => {
  const r = rs(ns, 'teardown', '--vip', VIP, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = json<{ changes: Change[]; kept: Kept[] }>(r);
  assert.deepEqual(out.changes, [
    { what: `address ${VIP}/32 on lo`, from: 'present', to: 'absent' },
    { what: 'net.ipv4.conf.all.arp_ignore', from: '1', to: '0' },
    { what: 'net.ipv4.conf.all.arp_announce', from: '2', to: '0' },
    { what: 'net.ipv4.conf.lo.arp_ignore', from: '1', to: '0' },
    { what: 'net.ipv4.conf.lo.arp_announce', from: '2', to: '0' },
  ]);
  assert.deepEqual(out.kept, []);
  assert.deepEqual(loAddrs(ns), ['127.0.0.1/8 host', '::1/128 host']);
  assert.deepEqual(ARP.map((k) => sysctl(ns, k)), ['0', '0', '0', '0']);
  assert.deepEqual(records(), [], 'the record is gone once everything is restored');

  const again = rs(ns, 'teardown', '--vip', VIP);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), `Nothing to change: ${VIP} not on lo, and nothing setup changed is left to restore.`);
});

test('check after teardown reports what is missing with the fix, exit 1', { skip: needsRoot }, () => {
  const r = rs(ns, 'check', '--vip', VIP, '--json');
  assert.equal(r.code, 1);
  const out = json<{ ok: boolean; requirements: Requirement[]; fix: string }>(r);
  assert.equal(out.ok, false);
  assert.equal(out.fix, `ha ipvs realserver setup --vip ${VIP}`);
  assert.deepEqual(out.requirements.filter((q) => q.status === 'missing').map((q) => q.fix), [
    'sysctl -w net.ipv4.conf.all.arp_ignore=1',
    'sysctl -w net.ipv4.conf.all.arp_announce=2',
    'sysctl -w net.ipv4.conf.lo.arp_ignore=1',
    'sysctl -w net.ipv4.conf.lo.arp_announce=2',
    `ip addr add ${VIP}/32 dev lo`,
  ]);
  const human = rs(ns, 'check', '--vip', VIP);
  assert.equal(human.code, 1);
  assert.match(human.stdout, new RegExp(`5 of 6 requirements missing for direct routing \\(VIPs on lo\\)\\. Fix: ha ipvs realserver setup --vip ${VIP.replaceAll('.', '\\.')}\n$`));
});

test('values that already do the job are left alone by setup and by teardown', { skip: needsRoot }, () => {
  sysctlSet(ns, 'net.ipv4.conf.all.arp_ignore', '2');
  try {
    const up = json<{ changes: Change[] }>(rs(ns, 'setup', '--vip', VIP, '--json'));
    assert.deepEqual(up.changes.map((c) => c.what), [
      'net.ipv4.conf.all.arp_announce', 'net.ipv4.conf.lo.arp_ignore', 'net.ipv4.conf.lo.arp_announce', `address ${VIP}/32 on lo`,
    ]);
    assert.equal(sysctl(ns, 'net.ipv4.conf.all.arp_ignore'), '2');
    // someone changes a value after setup: teardown leaves it and says why
    sysctlSet(ns, 'net.ipv4.conf.lo.arp_announce', '1');
    const down = json<{ changes: Change[]; kept: Kept[] }>(rs(ns, 'teardown', '--vip', VIP, '--json'));
    assert.deepEqual(down.changes.map((c) => `${c.what} ${c.from}->${c.to}`), [
      `address ${VIP}/32 on lo present->absent`,
      'net.ipv4.conf.all.arp_announce 2->0',
      'net.ipv4.conf.lo.arp_ignore 1->0',
    ]);
    assert.deepEqual(down.kept, [
      { what: 'net.ipv4.conf.all.arp_ignore', value: '2', reason: 'not set by ha ipvs realserver setup (no record of an earlier value); left as it is' },
      { what: 'net.ipv4.conf.lo.arp_announce', value: '1', reason: 'changed since setup set it to 2; left as it is' },
    ]);
    assert.deepEqual(records(), []);
  } finally {
    for (const k of ARP) sysctlSet(ns, k, '0');
  }
});

test('setup refuses a VIP that is also on lo with another prefix, changing nothing; check names it', { skip: needsRoot }, () => {
  ns.ip('addr', 'add', '192.0.2.20/24', 'dev', 'lo');
  try {
    const before = snapshot(ns);
    const r = rs(ns, 'setup', '--vip', '192.0.2.20');
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr), 'ha: 192.0.2.20 is also 192.0.2.20/24 on lo, so the host would answer ARP for it or own the whole subnet: remove it first (ip addr del 192.0.2.20/24 dev lo); nothing was changed');
    assert.equal(snapshot(ns), before);
    const c = json<{ requirements: Requirement[] }>(rs(ns, 'check', '--vip', '192.0.2.20', '--json'));
    assert.deepEqual(c.requirements.at(-1), {
      what: '192.0.2.20 on no other interface', expected: 'none', actual: '192.0.2.20/24 on lo', status: 'missing', fix: 'ip addr del 192.0.2.20/24 dev lo',
    });
  } finally {
    ns.ip('addr', 'del', '192.0.2.20/24', 'dev', 'lo');
  }
});

test('--tunnel without the ipip module says how to get tunl0 and changes nothing', { skip: needsRoot }, (t) => {
  if (ns.exec(['ip', 'link', 'show', 'tunl0']).status === 0) {
    t.skip('this kernel has tunl0 (ipip loaded); realserver.uml.test.ts covers --tunnel');
    return;
  }
  const before = snapshot(ns);
  const r = rs(ns, 'setup', '--tunnel', '--vip', VIP);
  assert.equal(r.code, 1);
  assert.equal(oneLine(r.stderr), 'ha: interface tunl0 does not exist: the ipip module creates it; load it with modprobe ipip');
  assert.equal(snapshot(ns), before);
  const c = rs(ns, 'check', '--tunnel', '--vip', VIP, '--json');
  assert.equal(c.code, 1);
  const tun = json<{ requirements: Requirement[] }>(c).requirements.find((q) => q.what === 'interface tunl0');
  assert.deepEqual(tun, { what: 'interface tunl0', expected: 'up', actual: 'absent', status: 'missing', fix: 'modprobe ipip && ip link set tunl0 up' });
});

test('the real server stops answering ARP for its VIP (a client on the same link sees it)', { skip: needsRoot }, () => {
  // client <-veth-> real server; the client sends to the VIP on-link, so it must ARP for it
  const host = Netns.create('arp-rs');
  made.push(host);
  const client = Netns.create('arp-cl');
  made.push(client);
  for (const k of ARP) sysctlSet(host, k, '0');
  host.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
  host.ip('addr', 'add', '198.51.100.2/24', 'dev', 'eth0');
  host.ip('link', 'set', 'eth0', 'up');
  client.ip('addr', 'add', '198.51.100.1/24', 'dev', 'eth0');
  client.ip('link', 'set', 'eth0', 'up');
  client.ip('route', 'add', `${VIP}/32`, 'dev', 'eth0');

  const probe = (): { result: string; neigh: string } => {
    client.ip('neigh', 'flush', 'dev', 'eth0');
    const r = client.exec([process.execPath, '-e', `
      const s = require('node:net').connect({ host: '${VIP}', port: 9 });
      s.setTimeout(1500, () => { console.log('timeout'); process.exit(0); });
      s.on('connect', () => { console.log('connected'); process.exit(0); });
      s.on('error', (e) => { console.log(e.code); process.exit(0); });`]);
    const neigh = client.ipJson<Array<{ dst: string; state?: string[] }>>('neigh', 'show', VIP, 'dev', 'eth0');
    return { result: r.stdout.trim(), neigh: neigh[0]?.state?.join(',') ?? 'none' };
  };

  // the window setup avoids: the VIP present without the sysctls, and the host answers ARP for it
  host.ip('addr', 'add', `${VIP}/32`, 'dev', 'lo');
  const exposed = probe();
  assert.equal(exposed.result, 'ECONNREFUSED', 'the real server answered ARP, then reset the connection');
  assert.match(exposed.neigh, /REACHABLE|STALE|DELAY|PROBE/);

  const up = json<{ changes: Change[] }>(rs(host, 'setup', '--vip', VIP, '--json'));
  assert.deepEqual(up.changes.map((c) => c.what), ARP, 'only the sysctls: the address was there already');
  const silent = probe();
  assert.equal(silent.result, 'timeout', 'nothing answers for the VIP');
  assert.match(silent.neigh, /INCOMPLETE|FAILED/);

  const down = rs(host, 'teardown', '--vip', VIP);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(ARP.map((k) => sysctl(host, k)), ['0', '0', '0', '0']);
  assert.deepEqual(loAddrs(host), ['127.0.0.1/8 host', '::1/128 host']);
  assert.deepEqual(records(), []);
});

/** Bad input: exit 2, one line on stderr naming the problem, nothing on stdout, nothing changed. */
const BAD: Array<[string[], string]> = [
  [[], '--vip: give at least one virtual IP address, e.g. --vip 192.0.2.10'],
  [['--vip', ''], '--vip: empty address; give an IP address such as 192.0.2.10'],
  [['--vip', '192.0.2.10,'], '--vip: empty address; give an IP address such as 192.0.2.10'],
  [['--vip', '192.0.2.10/32'], '--vip 192.0.2.10/32: give the address without a prefix length; a VIP is always added as /32 (IPv6 /128)'],
  [['--vip', '2001:db8::10/64'], '--vip 2001:db8::10/64: give the address without a prefix length; a VIP is always added as /32 (IPv6 /128)'],
  [['--vip', '192.0.2.256'], '--vip "192.0.2.256": not an IPv4 or IPv6 address'],
  [['--vip', 'www.example.com'], '--vip "www.example.com": not an IPv4 or IPv6 address'],
  [['--vip', 'fe80::1%eth0'], '--vip "fe80::1%eth0": not an IPv4 or IPv6 address'],
  [['--vip', '192.0.2.10', '--vip', '198.51.100.7', '--vip', '192.0.2.10'], '--vip 192.0.2.10 is given twice'],
  [['--vip', '2001:db8::10', '--vip', '2001:DB8:0::10'], '--vip 2001:db8::10 is given twice'],
  [['--vip', '0.0.0.0'], '--vip 0.0.0.0: the unspecified address cannot be a VIP'],
  [['--vip', '127.0.0.2'], '--vip 127.0.0.2: a loopback address cannot be a VIP'],
  [['--vip', '::1'], '--vip ::1: the loopback address cannot be a VIP'],
  [['--vip', '224.0.0.18'], '--vip 224.0.0.18: a multicast address cannot be a VIP'],
  [['--vip', '255.255.255.255'], '--vip 255.255.255.255: a reserved or broadcast address cannot be a VIP'],
  [['--vip', 'fe80::10'], '--vip fe80::10: a link-local address cannot be a VIP'],
  [['--vip', '::ffff:192.0.2.10'], '--vip ::ffff:192.0.2.10: an IPv4-mapped address cannot be a VIP; give 192.0.2.10'],
  [['--tunnel', '--vip', '2001:db8::10'], '--vip 2001:db8::10: --tunnel is IPv4 in IPv4 (tunl0); an IPv6 VIP needs ip6tnl0, which ha does not set up'],
  [['--vip', '192.0.2.10', '--no-such-flag'], 'Nonexistent flag: --no-such-flag'],
];

test(`bad input is refused with exit 2 and one line, nothing changed (${BAD.length} cases)`, { skip: needsRoot }, () => {
  const before = snapshot(ns);
  // every case against setup; the three commands share the parsing, so check and teardown get a sample
  for (const [i, [args, message]] of BAD.entries()) {
    for (const cmd of i % 4 === 0 ? ['setup', 'check', 'teardown'] : ['setup']) {
      const r = rs(ns, cmd, ...args);
      const label = `${cmd} ${JSON.stringify(args)}`;
      assert.equal(r.code, 2, `${label}: exit ${r.code}, ${r.stderr}`);
      assert.equal(r.stdout, '', label);
      const line = oneLine(r.stderr);
      if (message.startsWith('Nonexistent flag')) assert.ok(line.startsWith(`ha: ${message}`), `${label}: ${line}`);
      else assert.equal(line, `ha: ${message}`, label);
    }
  }
  const j = rs(ns, 'setup', '--vip', '192.0.2.10/24', '--json');
  assert.equal(j.code, 2);
  assert.deepEqual(json<unknown>(j), {
    error: { code: 'EUSAGE', message: '--vip 192.0.2.10/24: give the address without a prefix length; a VIP is always added as /32 (IPv6 /128)', exitCode: 2 },
  });
  assert.equal(snapshot(ns), before, 'nothing changed');
});
