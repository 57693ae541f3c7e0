/**
 * Runs inside User-Mode Linux (a 6.1 kernel with bonding), next to iproute2: every mode and option
 * set by `ha bond create` read back with `ip -d -j link show`; bonds made by `ip link add … type
 * bond` shown by `ha bond show --json` as ip shows them; set, ports, failover, delete; the bonds
 * section of the state file converging without tearing bonds down; bad input refused with exit 2
 * and the kernel untouched.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ha, oneLine } from '@ha/lib/testing';
import { MODES, OPTIONS } from '../src/options.js';

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
type IpLink = { ifname: string; ifindex: number; master?: string; flags: string[]; linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string; info_slave_data?: Record<string, unknown> } };
const ipLink = (name: string): IpLink => (JSON.parse(ip('-d', '-j', 'link', 'show', 'dev', name)) as IpLink[])[0]!;
const ipData = (name: string): Record<string, unknown> => ipLink(name).linkinfo!.info_data!;
/** Everything the kernel says about links, for "nothing changed" checks (but operstate, which settles on its own after a change). */
const snapshot = (): string => ip('-d', '-j', 'link', 'show').replace(/"operstate":"[A-Z]+",/g, '');
const sleep = (s: number): void => { spawnSync('sleep', [String(s)]); };
const MII: Record<string, string> = { UP: 'up', GOING_DOWN: 'fail', DOWN: 'down', GOING_BACK: 'back' };
const DUMMIES = ['hd1', 'hd2', 'hd3', 'hd4', 'hd5', 'hd6'];
let dir: string;

const okJson = (args: string[]): any => {
  const r = ha(['bond', ...args, '--json']);
  assert.equal(r.code, 0, `ha bond ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};
const delBonds = (): void => {
  for (const l of JSON.parse(ip('-d', '-j', 'link', 'show')) as IpLink[]) if (l.linkinfo?.info_kind === 'bond') spawnSync('ip', ['link', 'del', l.ifname]);
};

before(() => {
  dir = mkdtempSync('/tmp/ha-bond-');
  for (const d of DUMMIES) ip('link', 'add', d, 'type', 'dummy');
});
after(() => {
  delBonds();
  for (const d of DUMMIES) spawnSync('ip', ['link', 'del', d]);
  rmSync(dir, { recursive: true, force: true });
});

/** ha create arguments, and what `ip -d -j link show` must then report (its own keys and spellings). */
const created: Array<{ args: string[]; ip: Record<string, unknown>; ports?: string[] }> = [
  { args: ['--mode', 'balance-rr', '--packets-per-slave', '3', '--resend-igmp', '5', '--all-slaves-active', 'on', '--use-carrier', 'off', '--num-peer-notif', '2'],
    ip: { mode: 'balance-rr', miimon: 100, arp_interval: 0, packets_per_slave: 3, resend_igmp: 5, all_slaves_active: 1, use_carrier: 0, num_peer_notif: 2 } },
  { args: ['--mode', 'active-backup', '--ports', 'hd1,hd2', '--primary', 'hd2', '--miimon', '50', '--updelay', '100', '--downdelay', '150', '--peer-notify-delay', '200',
    '--primary-reselect', 'better', '--fail-over-mac', 'active', '--num-grat-arp', '3'],
  ip: { mode: 'active-backup', miimon: 50, updelay: 100, downdelay: 150, peer_notify_delay: 200, primary: 'hd2', primary_reselect: 'better', fail_over_mac: 'active', num_peer_notif: 3 },
  ports: ['hd1', 'hd2'] },
  { args: ['--mode', '2', '--xmit-hash-policy', 'layer2+3', '--miimon', '0'], ip: { mode: 'balance-xor', xmit_hash_policy: 'layer2+3', miimon: 0, arp_interval: 0 } },
  { args: ['--mode', 'broadcast', '--arp-interval', '250', '--arp-ip-target', '192.0.2.1,192.0.2.2', '--arp-all-targets', 'all', '--arp-missed-max', '4'],
    ip: { mode: 'broadcast', miimon: 0, arp_interval: 250, arp_ip_target: ['192.0.2.1', '192.0.2.2'], arp_all_targets: 'all', arp_missed_max: 4 } },
  { args: ['--mode', 'active-backup', '--arp-interval', '100', '--arp_ip_target', '198.51.100.1', '--ns-ip6-target', '2001:db8::1,2001:db8:0:0::2', '--arp-validate', 'filter_backup', '--missed-max', '5'],
    ip: { mode: 'active-backup', miimon: 0, arp_interval: 100, arp_ip_target: ['198.51.100.1'], ns_ip6_target: ['2001:db8::1', '2001:db8::2'], arp_validate: 'filter_backup', arp_missed_max: 5 } },
  { args: ['--mode', '802.3ad', '--lacp-rate', 'fast', '--lacp-active', 'off', '--ad-select', 'bandwidth', '--ad-actor-sys-prio', '100', '--ad-user-port-key', '5',
    '--ad-actor-system', '02:00:00:00:00:01', '--min-links', '2', '--xmit-hash-policy', 'encap3+4', '--ports', 'hd3,hd4'],
  ip: { mode: '802.3ad', miimon: 100, ad_lacp_rate: 'fast', ad_lacp_active: 'off', ad_select: 'bandwidth', ad_actor_sys_prio: 100, ad_user_port_key: 5,
    ad_actor_system: '02:00:00:00:00:01', min_links: 2, xmit_hash_policy: 'encap3+4' },
  ports: ['hd3', 'hd4'] },
  { args: ['--mode', '4', '--ad-lacp-rate', 'slow', '--peer-notif-delay', '300', '--downdelay', '300'], ip: { mode: '802.3ad', ad_lacp_rate: 'slow', peer_notify_delay: 300, downdelay: 300, miimon: 100 } },
  { args: ['--mode', 'balance-tlb', '--tlb-dynamic-lb', 'off', '--lp-interval', '5', '--xmit-hash-policy', 'layer3+4'], ip: { mode: 'balance-tlb', tlb_dynamic_lb: 0, lp_interval: 5, xmit_hash_policy: 'layer3+4', miimon: 100 } },
  { args: ['--mode', '6', '--lp-interval', '3', '--ports', 'hd5', '--primary', 'hd5', '--use_carrier', '0'],
    ip: { mode: 'balance-alb', lp_interval: 3, primary: 'hd5', miimon: 100, use_carrier: 0 }, ports: ['hd5'] },
  { args: ['--mode', 'balance-xor', '--xmit-hash-policy', 'vlan+srcmac', '--all_slaves_active', '1'], ip: { mode: 'balance-xor', xmit_hash_policy: 'vlan+srcmac', all_slaves_active: 1 } },
];

/** ha's option keys and values in ip's JSON spelling. */
const IP_KEY: Record<string, string> = { missed_max: 'arp_missed_max', lacp_rate: 'ad_lacp_rate', lacp_active: 'ad_lacp_active' };
function haToIp(key: string, value: unknown): [string, unknown] {
  const k = IP_KEY[key] ?? key;
  if (key === 'lacp_active') return [k, value ? 'on' : 'off'];
  if (typeof value === 'boolean') return [k, value ? 1 : 0];
  return [k, value];
}
const ipValue = (data: Record<string, unknown>, key: string): unknown => (key === 'arp_validate' && data[key] === null ? 'none' : data[key]);

test('every mode and option set by ha bond create reads back the same through ip -d -j link show', () => {
  // the cases cover every mode and every option
  const ipKeys = new Set(created.flatMap((c) => Object.keys(c.ip)));
  for (const o of OPTIONS) assert.ok(ipKeys.has(o.ipJson ?? o.ip), `no case sets ${o.key}`);
  assert.ok(ipKeys.has('primary'));
  assert.deepEqual([...new Set(created.map((c) => c.ip.mode))].sort(), [...MODES].sort());
  delBonds();
  created.forEach((c, i) => {
    const name = `hb${i}`;
    const out = okJson(['create', name, ...c.args]);
    assert.equal(out.bond.name, name);
    const data = ipData(name);
    for (const [k, v] of Object.entries(c.ip)) assert.deepEqual(ipValue(data, k), v, `${name} (${c.args.join(' ')}): ip shows ${k} ${JSON.stringify(data[k])}`);
    // and what ha reports is what ip reports, option by option
    for (const [k, v] of Object.entries(out.bond.options as Record<string, unknown>)) {
      const [ik, iv] = haToIp(k, v);
      assert.deepEqual(ipValue(data, ik) ?? (Array.isArray(iv) && iv.length === 0 ? [] : undefined), iv, `${name}: ha says ${k} ${JSON.stringify(v)}, ip says ${JSON.stringify(data[ik])}`);
    }
    for (const p of c.ports ?? []) assert.equal(ipLink(p).master, name, `${p} is a port of ${name}`);
    assert.ok(ipLink(name).flags.includes('UP'), `${name} is up`);
  });
});

test('bonds made by ip link add … type bond are shown by ha bond show --json as ip shows them', () => {
  delBonds();
  const made: string[][] = [
    ['ipb0', 'mode', 'active-backup', 'miimon', '200', 'updelay', '400', 'primary_reselect', 'failure', 'num_grat_arp', '4'],
    ['ipb1', 'mode', 'balance-xor', 'xmit_hash_policy', 'layer3+4', 'miimon', '100'],
    ['ipb2', 'mode', '802.3ad', 'lacp_rate', 'fast', 'ad_select', 'count', 'ad_actor_sys_prio', '7'],
    ['ipb3', 'mode', 'active-backup', 'arp_interval', '300', 'arp_ip_target', '192.0.2.9,192.0.2.10', 'arp_validate', 'active'],
    ['ipb4', 'mode', 'balance-rr', 'packets_per_slave', '0'],
  ];
  for (const [name, ...rest] of made) ip('link', 'add', name!, 'type', 'bond', ...rest);
  for (const [b, p] of [['ipb0', 'hd1'], ['ipb0', 'hd2'], ['ipb2', 'hd3'], ['ipb2', 'hd4']] as const) ip('link', 'set', p, 'master', b);
  ip('link', 'set', 'ipb0', 'type', 'bond', 'primary', 'hd2');
  for (const [name] of made) ip('link', 'set', name!, 'up');
  sleep(1);
  for (const [name] of made) {
    const { bond } = okJson(['show', name!]);
    const data = ipData(name!);
    assert.equal(bond.mode, data.mode, `${name} mode`);
    for (const [k, v] of Object.entries(bond.options as Record<string, unknown>)) {
      const [ik, iv] = haToIp(k, v);
      assert.deepEqual(ipValue(data, ik) ?? (Array.isArray(iv) && iv.length === 0 ? [] : undefined), iv, `${name}: ha shows ${k} ${JSON.stringify(v)}, ip ${JSON.stringify(data[ik])}`);
    }
    assert.equal(bond.active, data.active_slave, `${name} active port`);
    assert.equal(bond.primary, data.primary, `${name} primary`);
    const ipPorts = (JSON.parse(ip('-d', '-j', 'link', 'show', 'master', name!)) as IpLink[]);
    assert.deepEqual(bond.ports.map((p: { name: string }) => p.name).sort(), ipPorts.map((p) => p.ifname).sort(), `${name} ports`);
    for (const p of ipPorts) {
      const mine = bond.ports.find((x: { name: string }) => x.name === p.ifname);
      const sd = p.linkinfo!.info_slave_data!;
      assert.equal(mine.state, String(sd.state).toLowerCase(), `${p.ifname} state`);
      assert.equal(mine.miiStatus, MII[String(sd.mii_status)], `${p.ifname} mii status`);
      assert.equal(mine.linkFailures, sd.link_failure_count, `${p.ifname} link failures`);
      assert.equal(mine.permanentMac, sd.perm_hwaddr, `${p.ifname} permanent MAC`);
      if (data.mode === '802.3ad') assert.equal(mine.lacp.aggregator, sd.ad_aggregator_id, `${p.ifname} aggregator`);
    }
    if (data.mode === '802.3ad') {
      const info = data.ad_info as { aggregator: number; num_ports: number; actor_key: number; partner_key: number; partner_mac: string } | undefined;
      if (!info) assert.equal(bond.lacp, undefined);
      else assert.deepEqual(bond.lacp, { aggregator: info.aggregator, numPorts: info.num_ports, actorKey: info.actor_key, partnerKey: info.partner_key, partnerMac: info.partner_mac });
    }
  }
  // ha's options equal ip's for the values ip was told
  assert.equal(okJson(['show', 'ipb0']).bond.options.updelay, 400);
  assert.equal(okJson(['show', 'ipb2']).bond.options.ad_actor_sys_prio, 7);
  assert.deepEqual(okJson(['show', 'ipb3']).bond.options.arp_ip_target, ['192.0.2.9', '192.0.2.10']);
  const list = okJson(['list']);
  assert.deepEqual(list.bonds.map((b: { name: string }) => b.name), made.map((m) => m[0]).sort());
});

test('set, ports and failover change the kernel as asked; restricted options need --force and come back intact', () => {
  delBonds();
  okJson(['create', 'hs0', '--mode', 'active-backup', '--ports', 'hd1,hd2', '--primary', 'hd1']);
  assert.equal(ipData('hs0').active_slave, 'hd1');
  okJson(['set', 'hs0', '--miimon', '200', '--downdelay', '400']);
  assert.equal(ipData('hs0').miimon, 200);
  assert.equal(ipData('hs0').downdelay, 400);
  // a new miimon keeps the delays in milliseconds (the kernel keeps them as multiples)
  okJson(['set', 'hs0', '--miimon', '100']);
  assert.equal(ipData('hs0').downdelay, 400);
  // switching to ARP monitoring turns MII off
  okJson(['set', 'hs0', '--arp-interval', '500', '--arp-ip-target', '192.0.2.77']);
  assert.equal(ipData('hs0').miimon, 0);
  assert.equal(ipData('hs0').arp_interval, 500);
  okJson(['set', 'hs0', '--miimon', '100']);
  assert.equal(ipData('hs0').arp_interval, 0);
  sleep(1);
  // failover moves the active port; with --to to a named one
  okJson(['set', 'hs0', '--primary', 'none']);
  const f = okJson(['failover', 'hs0']);
  assert.deepEqual([f.from, f.to], ['hd1', 'hd2']);
  assert.equal(ipData('hs0').active_slave, 'hd2');
  okJson(['failover', 'hs0', '--to', 'hd1']);
  assert.equal(ipData('hs0').active_slave, 'hd1');
  // ports
  okJson(['add-port', 'hs0', 'hd3']);
  assert.equal(ipLink('hd3').master, 'hs0');
  okJson(['remove-port', 'hs0', 'hd3']);
  assert.equal(ipLink('hd3').master, undefined);
  // fail_over_mac needs a bond without ports: refused with the way out, then done with --force
  const before = snapshot();
  const refused = ha(['bond', 'set', 'hs0', '--fail-over-mac', 'follow']);
  assert.equal(refused.code, 2);
  assert.match(oneLine(refused.stderr), /needs a bond without ports.*--force/);
  assert.equal(snapshot(), before);
  const ifindex = ipLink('hs0').ifindex;
  okJson(['set', 'hs0', '--fail-over-mac', 'follow', '--primary', 'hd2', '--force']);
  assert.equal(ipData('hs0').fail_over_mac, 'follow');
  assert.equal(ipLink('hs0').ifindex, ifindex, 'the bond was not re-created');
  assert.deepEqual([ipLink('hd1').master, ipLink('hd2').master], ['hs0', 'hs0'], 'ports are back');
  assert.equal(ipData('hs0').primary, 'hd2');
  assert.ok(ipLink('hs0').flags.includes('UP'), 'the bond is up again');
  // a mode change with ports, forced: same interface, ports back in order
  okJson(['set', 'hs0', '--mode', 'balance-xor', '--xmit-hash-policy', 'layer3+4', '--force']);
  assert.equal(ipData('hs0').mode, 'balance-xor');
  assert.equal(ipData('hs0').xmit_hash_policy, 'layer3+4');
  assert.equal(ipLink('hs0').ifindex, ifindex);
  assert.deepEqual([ipLink('hd1').master, ipLink('hd2').master], ['hs0', 'hs0']);
  // lacp_rate needs the bond down
  okJson(['create', 'hs1', '--mode', '802.3ad']);
  const down = ha(['bond', 'set', 'hs1', '--lacp-rate', 'fast']);
  assert.equal(down.code, 2);
  assert.match(oneLine(down.stderr), /needs the bond down; run "ip link set hs1 down" first, or give --force/);
  okJson(['set', 'hs1', '--lacp-rate', 'fast', '--force']);
  assert.equal(ipData('hs1').ad_lacp_rate, 'fast');
  assert.ok(ipLink('hs1').flags.includes('UP'));
  // balance-tlb and balance-alb have an active port too
  for (const mode of ['balance-tlb', 'balance-alb']) {
    okJson(['create', 'hs2', '--mode', mode, '--ports', 'hd5,hd6']);
    const to = ipData('hs2').active_slave === 'hd5' ? 'hd6' : 'hd5';
    assert.equal(okJson(['failover', 'hs2', '--to', to]).to, to);
    assert.equal(ipData('hs2').active_slave, to, `${mode}: ip shows the new active port`);
    okJson(['delete', 'hs2']);
  }
  const d = okJson(['delete', 'hs0']);
  assert.deepEqual(d.ports, ['hd1', 'hd2']);
  assert.equal(spawnSync('ip', ['link', 'show', 'hs0']).status !== 0, true);
  // kernel-side failures are exit 1 and named
  const gone = ha(['bond', 'show', 'hs0']);
  assert.equal(gone.code, 1);
  assert.equal(oneLine(gone.stderr), 'ha: bond hs0 does not exist');
  const exists = ha(['bond', 'create', 'hs1', '--mode', '1']);
  assert.equal(exists.code, 1);
  assert.equal(oneLine(exists.stderr), 'ha: interface hs1 already exists');
});

test('export: the nmcli options and keyfile carry exactly the bond\'s options', () => {
  delBonds();
  okJson(['create', 'hx0', '--mode', 'active-backup', '--ports', 'hd1,hd2', '--primary', 'hd1', '--arp-interval', '200', '--arp-ip-target', '192.0.2.1,192.0.2.2',
    '--missed-max', '3', '--peer-notify-delay', '0', '--num-peer-notif', '2']);
  ip('addr', 'add', '192.0.2.50/24', 'dev', 'hx0');
  ip('addr', 'add', '2001:db8::50/64', 'dev', 'hx0', 'nodad');
  const nm = okJson(['export', 'hx0', '--nmcli']);
  assert.match(nm.commands[0], / ipv4\.method manual ipv4\.addresses 192\.0\.2\.50\/24 ipv6\.method manual ipv6\.addresses 2001:db8::50\/64$/);
  const first = nm.commands[0] as string;
  assert.match(first, /^nmcli connection add type bond con-name hx0 ifname hx0 bond\.options '/);
  const opts = /bond\.options '([^']+)'/.exec(first)![1]!;
  assert.match(opts, /^mode=active-backup,/);
  assert.match(opts, /arp_ip_target=192\.0\.2\.1 192\.0\.2\.2/);
  assert.match(opts, /arp_missed_max=3/);
  assert.match(opts, /num_grat_arp=2/);
  assert.match(opts, /primary=hd1/);
  assert.equal(nm.commands.filter((c: string) => / master hx0 slave-type bond$/.test(c)).length, 2);
  const kf = okJson(['export', 'hx0', '--keyfile']);
  assert.equal(kf.keyfiles[0].path, '/etc/NetworkManager/system-connections/hx0.nmconnection');
  assert.match(kf.keyfiles[0].text, /\n\[bond\]\nmode=active-backup\nmiimon=0\n/);
  assert.match(kf.keyfiles[0].text, /\narp_ip_target=192\.0\.2\.1,192\.0\.2\.2\n/);
  assert.match(kf.keyfiles[1].text, /interface-name=hd1\nmaster=hx0\nslave-type=bond/);
});

test('state: save, diff and a converging restore that does not tear down a bond whose mode is unchanged', () => {
  delBonds();
  okJson(['create', 'hr0', '--mode', 'active-backup', '--ports', 'hd1,hd2', '--primary', 'hd1', '--miimon', '100']);
  okJson(['create', 'hr1', '--mode', '802.3ad', '--lacp-rate', 'fast', '--ports', 'hd3']);
  okJson(['create', 'hr2', '--mode', 'balance-rr', '--packets-per-slave', '2']);
  const state = join(dir, 'state.json');
  const saved = ha(['save', '--state', state]);
  assert.equal(saved.code, 0, saved.stderr);
  const doc = JSON.parse(readFileSync(state, 'utf8'));
  assert.deepEqual(Object.keys(doc.bonds).sort(), ['hr0', 'hr1', 'hr2']);
  assert.deepEqual(doc.bonds.hr0.ports, ['hd1', 'hd2']);
  assert.equal(doc.bonds.hr0.primary, 'hd1');
  assert.equal(doc.bonds.hr1.options.lacp_rate, 'fast');
  const idx0 = ipLink('hr0').ifindex;
  const idx1 = ipLink('hr1').ifindex;
  // drift: an option, a port, a bond deleted, an extra bond
  ip('link', 'set', 'hr0', 'type', 'bond', 'miimon', '300');
  ip('link', 'set', 'hd2', 'nomaster');
  ip('link', 'set', 'hr1', 'down');
  ip('link', 'set', 'hr1', 'type', 'bond', 'lacp_rate', 'slow');
  ip('link', 'set', 'hr1', 'up');
  ip('link', 'del', 'hr2');
  ip('link', 'add', 'hr3', 'type', 'bond', 'mode', 'broadcast');
  const diff = ha(['diff', '--state', state, '--json']);
  assert.equal(diff.code === 0 || diff.code === 1, true, diff.stderr);
  const text = diff.stdout;
  assert.match(text, /miimon 300 -> 100/);
  assert.match(text, /port hd2 of bond hr0/);
  assert.match(text, /lacp_rate slow -> fast/);
  assert.match(text, /bond hr2/);
  assert.match(text, /bond hr3/);
  const r = ha(['restore', '--state', state]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(ipData('hr0').miimon, 100);
  assert.equal(ipLink('hd2').master, 'hr0');
  assert.equal(ipData('hr1').ad_lacp_rate, 'fast');
  assert.equal(ipData('hr2').packets_per_slave, 2);
  assert.equal(spawnSync('ip', ['link', 'show', 'hr3']).status !== 0, true, 'hr3 is gone');
  assert.equal(ipLink('hr0').ifindex, idx0, 'hr0 was changed in place');
  assert.equal(ipLink('hr1').ifindex, idx1, 'hr1 was changed in place (down and up only)');
  const again = ha(['diff', '--state', state, '--json']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.doesNotMatch(again.stdout, /"object": "(bond|port)/);
  // a mode change in the file: the bond keeps its interface, its ports come back
  const doc2 = JSON.parse(readFileSync(state, 'utf8'));
  doc2.bonds.hr0 = { mode: 'balance-xor', options: { xmit_hash_policy: 'layer2+3' }, ports: ['hd1', 'hd2'] };
  writeFileSync(state, JSON.stringify(doc2));
  const m = ha(['restore', '--state', state]);
  assert.equal(m.code, 0, m.stderr + m.stdout);
  assert.equal(ipData('hr0').mode, 'balance-xor');
  assert.equal(ipData('hr0').miimon, 100, 'link monitoring default for a hand-written entry');
  assert.deepEqual([ipLink('hd1').master, ipLink('hd2').master], ['hr0', 'hr0']);
  assert.equal(ipLink('hr0').ifindex, idx0);
  // a port that belongs to a bridge is not taken from it: restore fails, names it, and undoes
  ip('link', 'add', 'hbr0', 'type', 'bridge');
  ip('link', 'set', 'hd5', 'master', 'hbr0');
  doc2.bonds.hr0.ports = ['hd1', 'hd2', 'hd5'];
  doc2.bonds.hr0.options.xmit_hash_policy = 'layer3+4';
  writeFileSync(state, JSON.stringify(doc2));
  const stolen = ha(['restore', '--state', state]);
  assert.equal(stolen.code, 1, stolen.stdout + stolen.stderr);
  assert.match(stolen.stdout + stolen.stderr, /port hd5 is enslaved to hbr0: remove it there first/);
  assert.equal(ipLink('hd5').master, 'hbr0');
  assert.equal(ipData('hr0').xmit_hash_policy, 'layer2+3', 'nothing else was changed');
  ip('link', 'del', 'hbr0');
});

test('state: a bond keeps its admin state (up or down) through save and restore', () => {
  delBonds();
  okJson(['create', 'hu0', '--mode', 'active-backup', '--ports', 'hd1']);
  okJson(['create', 'hu1', '--mode', 'active-backup', '--ports', 'hd2', '--down']);
  const state = join(dir, 'admin.json');
  assert.equal(ha(['save', '--state', state]).code, 0);
  const doc = JSON.parse(readFileSync(state, 'utf8'));
  assert.equal(doc.bonds.hu0.up, undefined, 'up is the default and not written');
  assert.equal(doc.bonds.hu1.up, false);
  const isUp = (n: string): boolean => (ipLink(n) as { flags: string[] }).flags.includes('UP');
  // both turned the other way, and hu1 deleted: restore puts each back as saved
  ip('link', 'set', 'hu0', 'down');
  ip('link', 'set', 'hu1', 'up');
  const diff = ha(['diff', state]);
  assert.match(diff.stdout, /~ bond hu0 \(down -> up\)/);
  assert.match(diff.stdout, /~ bond hu1 \(up -> down\)/);
  assert.equal(ha(['restore', state]).code, 0);
  assert.equal(isUp('hu0'), true);
  assert.equal(isUp('hu1'), false);
  ip('link', 'del', 'hu1');
  assert.equal(ha(['restore', state]).code, 0);
  assert.equal(isUp('hu1'), false, 'a bond created by restore comes up only when saved up');
  assert.deepEqual([ipLink('hd2').master], ['hu1']);
  delBonds();
});

/** Invocations that must exit 2 with one line and change nothing. */
const invalid: string[][] = [
  ['create', 'hz0'],
  ['create', 'hz0', '--mode', 'fastest'],
  ['create', 'hz0', '--mode', '7'],
  ['create', 'hz0', '--mode', 'active-backup', '--lacp-rate', 'fast'],
  ['create', 'hz0', '--mode', 'balance-rr', '--primary', 'hd1', '--ports', 'hd1'],
  ['create', 'hz0', '--mode', '802.3ad', '--arp-interval', '100', '--arp-ip-target', '192.0.2.1'],
  ['create', 'hz0', '--mode', 'active-backup', '--packets-per-slave', '2'],
  ['create', 'hz0', '--mode', 'balance-rr', '--tlb-dynamic-lb', 'off'],
  ['create', 'hz0', '--mode', 'balance-xor', '--ad-actor-sys-prio', '10'],
  ['create', 'hz0', '--mode', '1', '--ports', 'nosuch0'],
  ['create', 'hz0', '--mode', '1', '--ports', 'hd1,hd1'],
  ['create', 'hz0', '--mode', '1', '--ports', 'hs-bond'],
  ['create', 'hz0', '--mode', '1', '--ports', 'lo'],
  ['create', 'hz0', '--mode', '1', '--ports', 'hd1', '--primary', 'hd2'],
  ['create', 'hz0', '--mode', '1', '--miimon', '-5'],
  ['create', 'hz0', '--mode', '1', '--miimon', '2147483648'],
  ['create', 'hz0', '--mode', '1', '--miimon', 'fast'],
  ['create', 'hz0', '--mode', '1', '--miimon', '100', '--updelay', '150'],
  ['create', 'hz0', '--mode', '1', '--miimon', '0', '--downdelay', '200'],
  ['create', 'hz0', '--mode', '1', '--miimon', '100', '--arp-interval', '100', '--arp-ip-target', '192.0.2.1'],
  ['create', 'hz0', '--mode', '1', '--arp-interval', '100'],
  ['create', 'hz0', '--mode', '1', '--arp-validate', 'all'],
  ['create', 'hz0', '--mode', '1', '--arp-interval', '100', '--arp-ip-target', '192.0.2.300'],
  ['create', 'hz0', '--mode', '1', '--arp-interval', '100', '--arp-ip-target', Array.from({ length: 17 }, (_v, i) => `192.0.2.${i + 1}`).join(',')],
  ['create', 'hz0', '--mode', '1', '--arp-interval', '100', '--arp-ip-target', '224.0.0.1'],
  ['create', 'hz0', '--mode', '1', '--arp-interval', '100', '--ns-ip6-target', '192.0.2.1'],
  ['create', 'hz0', '--mode', '4', '--ad-actor-system', '01:00:5e:00:00:01'],
  ['create', 'hz0', '--mode', '4', '--ad-actor-system', 'not-a-mac'],
  ['create', 'hz0', '--mode', '4', '--ad-user-port-key', '1024'],
  ['create', 'hz0', '--mode', '4', '--ad-actor-sys-prio', '0'],
  ['create', 'hz0', '--mode', '4', '--lacp-rate', 'medium'],
  ['create', 'hz0', '--mode', '1', '--peer-notify-delay', '300100'],
  ['create', 'hz0', '--mode', '1', '--missed-max', '3'],
  ['create', 'hz0', '--mode', '5', '--lp-interval', '0'],
  ['create', 'hz0', '--mode', '1', '--use-carrier', 'maybe'],
  ['create', 'this-name-is-too-long', '--mode', '1'],
  ['create', 'hz/0', '--mode', '1'],
  ['create', 'hz0', '--mode', '1', '--frobnicate', '3'],
  ['set', 'hs-bond'],
  ['set', 'hs-bond', '--lacp-rate', 'fast'],
  ['set', 'hs-bond', '--primary', 'hd9'],
  ['set', 'hs-bond', '--mode', 'balance-rr'],
  ['set', 'hs-bond', '--fail-over-mac', 'active'],
  ['set', 'hs-bond', '--updelay', '250'],
  ['failover', 'hs-bond', '--to', 'hd3'],
  ['failover', 'hs-xor'],
  ['add-port', 'hs-bond', 'nosuch0'],
  ['add-port', 'hs-bond', 'hd1'],
  ['add-port', 'hs-xor', 'hd2'],
  ['add-port', 'hs-bond'],
  ['remove-port', 'hs-bond', 'hd3'],
  ['show', 'hd3'],
  ['export', 'hs-bond', '--nmcli', '--keyfile'],
  ['watch', 'hs-bond', '--count', '0'],
  ['list', 'extra'],
];

test(`bad input: ${invalid.length} invalid invocations, each exit 2 with one line, kernel unchanged`, () => {
  delBonds();
  okJson(['create', 'hs-bond', '--mode', 'active-backup', '--ports', 'hd1,hd2']);
  okJson(['create', 'hs-xor', '--mode', 'balance-xor', '--ports', 'hd4']);
  assert.ok(invalid.length >= 25);
  // let the new bonds settle (carrier, operstate) before taking the reference
  for (let i = 0; i < 50 && ['hs-bond', 'hs-xor'].some((b) => ipLink(b).flags.includes('NO-CARRIER')); i++) sleep(0.2);
  let before = snapshot();
  for (let i = 0; i < 10; i++) {
    sleep(0.5);
    const again = snapshot();
    if (again === before) break;
    before = again;
  }
  for (const args of invalid) {
    const r = ha(['bond', ...args]);
    assert.equal(r.code, 2, `ha bond ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    const line = oneLine(r.stderr);
    assert.match(line, /^ha: /, `ha bond ${args.join(' ')}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const now = snapshot();
    if (now !== before) {
      const a = JSON.parse(before) as IpLink[];
      const b = JSON.parse(now) as IpLink[];
      const changed = b.filter((l) => JSON.stringify(l) !== JSON.stringify(a.find((x) => x.ifindex === l.ifindex)));
      assert.fail(`kernel changed by ha bond ${args.join(' ')}: ${JSON.stringify(changed)} was ${JSON.stringify(changed.map((l) => a.find((x) => x.ifindex === l.ifindex)))}`);
    }
  }
  // and with --json the error is one JSON object with exit code 2
  const j = ha(['bond', 'create', 'hz0', '--mode', '1', '--lacp-rate', 'fast', '--json']);
  assert.equal(j.code, 2);
  assert.equal(JSON.parse(j.stdout).error.exitCode, 2);
});
