/**
 * NetworkManager export: golden nmcli commands and keyfiles, and a round trip of every mode with
 * every option it takes, through both forms, back to the same options.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExportBond, fromNmOptions, keyfiles, nmcliCommands, parseKeyfileBond, parseNmcliOptions, shellQuote } from '../src/export.js';
import { resolveOptions } from '../src/options.js';

const ab: ExportBond = {
  name: 'bond0', mode: 'active-backup', primary: 'eth0',
  options: resolveOptions('active-backup', { miimon: 100, updelay: 200, peer_notify_delay: 300, num_peer_notif: 2, use_carrier: false }),
  ports: [{ name: 'eth0' }, { name: 'eth1' }, { name: 'dummy0', kind: 'dummy' }],
};

test('nmcli commands (golden)', () => {
  assert.deepEqual(nmcliCommands(ab), [
    'nmcli connection add type bond con-name bond0 ifname bond0 bond.options mode=active-backup,miimon=100,updelay=200,peer_notif_delay=300,use_carrier=0,arp_interval=0,num_grat_arp=2,primary=eth0 connection.autoconnect-slaves 1 ipv4.method disabled ipv6.method ignore',
    'nmcli connection add type ethernet con-name bond0-port-eth0 ifname eth0 master bond0 slave-type bond',
    'nmcli connection add type ethernet con-name bond0-port-eth1 ifname eth1 master bond0 slave-type bond',
    'nmcli connection add type dummy con-name bond0-port-dummy0 ifname dummy0 master bond0 slave-type bond',
    'nmcli connection up bond0',
  ]);
});

test('keyfiles (golden)', () => {
  const files = keyfiles(ab);
  assert.deepEqual(files.map((f) => f.path), [
    '/etc/NetworkManager/system-connections/bond0.nmconnection',
    '/etc/NetworkManager/system-connections/bond0-port-eth0.nmconnection',
    '/etc/NetworkManager/system-connections/bond0-port-eth1.nmconnection',
    '/etc/NetworkManager/system-connections/bond0-port-dummy0.nmconnection',
  ]);
  assert.equal(files[0]!.text, `[connection]
id=bond0
type=bond
interface-name=bond0
autoconnect-slaves=1

[bond]
mode=active-backup
miimon=100
updelay=200
peer_notif_delay=300
use_carrier=0
arp_interval=0
num_grat_arp=2
primary=eth0

[ipv4]
method=disabled

[ipv6]
method=ignore
`);
  assert.equal(files[3]!.text, '[connection]\nid=bond0-port-dummy0\ntype=dummy\ninterface-name=dummy0\nmaster=bond0\nslave-type=bond\n\n[dummy]\n');
});

test('static addresses become manual IP settings in both forms', () => {
  const b: ExportBond = { ...ab, ports: [], addresses: { ipv4: ['192.0.2.1/24', '198.51.100.1/25'], ipv6: ['2001:db8::1/64'] } };
  assert.match(nmcliCommands(b)[0]!, / ipv4\.method manual ipv4\.addresses 192\.0\.2\.1\/24,198\.51\.100\.1\/25 ipv6\.method manual ipv6\.addresses 2001:db8::1\/64$/);
  assert.match(keyfiles(b)[0]!.text, /\n\[ipv4\]\naddress1=192\.0\.2\.1\/24\naddress2=198\.51\.100\.1\/25\nmethod=manual\n\n\[ipv6\]\naddress1=2001:db8::1\/64\nmethod=manual\n$/);
});

/** Every mode with every option it takes (values away from the defaults). */
const everyOption: ExportBond[] = [
  { name: 'b0', mode: 'balance-rr', ports: [], options: resolveOptions('balance-rr', { miimon: 0, arp_interval: 250, arp_ip_target: ['192.0.2.1', '192.0.2.2'], ns_ip6_target: ['2001:db8::7'], arp_validate: 'active', arp_all_targets: 'all', missed_max: 7, packets_per_slave: 9, resend_igmp: 4, num_peer_notif: 0, all_slaves_active: true, use_carrier: false }) },
  { name: 'b1', mode: 'active-backup', ports: [{ name: 'e1' }], primary: 'e1', options: resolveOptions('active-backup', { miimon: 40, updelay: 80, downdelay: 120, peer_notify_delay: 160, primary_reselect: 'better', fail_over_mac: 'active', resend_igmp: 0, num_peer_notif: 5 }) },
  { name: 'b2', mode: 'balance-xor', ports: [], options: resolveOptions('balance-xor', { xmit_hash_policy: 'encap2+3', miimon: 10 }) },
  { name: 'b3', mode: 'broadcast', ports: [], options: resolveOptions('broadcast', { arp_interval: 1000, arp_ip_target: ['203.0.113.5'], arp_validate: 'filter' }) },
  { name: 'b4', mode: '802.3ad', ports: [], options: resolveOptions('802.3ad', { lacp_rate: 'fast', lacp_active: false, ad_select: 'bandwidth', ad_actor_sys_prio: 10, ad_user_port_key: 33, ad_actor_system: '02:00:00:00:00:09', min_links: 2, xmit_hash_policy: 'layer3+4' }) },
  { name: 'b5', mode: 'balance-tlb', ports: [], options: resolveOptions('balance-tlb', { tlb_dynamic_lb: false, lp_interval: 30, xmit_hash_policy: 'layer2+3' }) },
  { name: 'b6', mode: 'balance-alb', ports: [{ name: 'e2' }], primary: 'e2', options: resolveOptions('balance-alb', { lp_interval: 2, primary_reselect: 'failure' }) },
];

function unquote(words: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m = re.exec(words); m; m = re.exec(words)) out.push(m[1] !== undefined ? m[1].replaceAll("'\\''", "'") : m[2]!);
  return out;
}

for (const b of everyOption) {
  test(`round trip through nmcli and keyfile: ${b.mode}`, () => {
    const want = { mode: b.mode, options: b.options, ...(b.primary ? { primary: b.primary } : {}) };
    const words = unquote(nmcliCommands(b)[0]!);
    const opts = words[words.indexOf('bond.options') + 1]!;
    assert.deepEqual(fromNmOptions(parseNmcliOptions(opts)), want);
    assert.deepEqual(fromNmOptions(parseKeyfileBond(keyfiles(b)[0]!.text)), want);
  });
}

test('shell quoting', () => {
  assert.equal(shellQuote('mode=active-backup,miimon=100'), 'mode=active-backup,miimon=100');
  assert.equal(shellQuote('arp_ip_target=192.0.2.1 192.0.2.2'), "'arp_ip_target=192.0.2.1 192.0.2.2'");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
});
