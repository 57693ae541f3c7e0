/**
 * Option validation against the mode: what is accepted (and what it becomes, defaults included)
 * and what is refused with which one-line message; the option table's own consistency.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '@ha/lib';
import { canonicalIp } from '@ha/lib/netlink';
import { OPTIONS, OPTION_BY_KEY, flagName, parseMode, parseOptionValue, resolveOptions, restrictions } from '../src/options.js';

test('modes by name or number', () => {
  assert.equal(parseMode('0'), 'balance-rr');
  assert.equal(parseMode('4'), '802.3ad');
  assert.equal(parseMode('balance-alb'), 'balance-alb');
  assert.equal(parseMode('7'), undefined);
  assert.equal(parseMode('lacp'), undefined);
});

const accepted: Array<[string, Parameters<typeof resolveOptions>[0], Record<string, unknown>, Record<string, unknown>]> = [
  ['MII monitoring at 100 ms by default', 'active-backup', {}, { miimon: 100, arp_interval: 0 }],
  ['the default in 802.3ad (no ARP in that mode)', '802.3ad', {}, { miimon: 100 }],
  ['ARP monitoring instead: miimon off', 'active-backup', { arp_interval: 200, arp_ip_target: ['192.0.2.1'] }, { miimon: 0, arp_interval: 200, arp_ip_target: ['192.0.2.1'] }],
  ['no monitoring when asked for', 'balance-rr', { miimon: 0 }, { miimon: 0, arp_interval: 0 }],
  ['delays in multiples of miimon', 'active-backup', { miimon: 50, updelay: 100, downdelay: 0 }, { miimon: 50, updelay: 100, downdelay: 0, arp_interval: 0 }],
  ['LACP options in 802.3ad', '802.3ad', { lacp_rate: 'fast', ad_select: 'count', min_links: 2 }, { miimon: 100, lacp_rate: 'fast', ad_select: 'count', min_links: 2 }],
  ['tlb_dynamic_lb in balance-tlb', 'balance-tlb', { tlb_dynamic_lb: false }, { miimon: 100, tlb_dynamic_lb: false }],
  ['packets_per_slave in balance-rr', 'balance-rr', { packets_per_slave: 0 }, { miimon: 100, arp_interval: 0, packets_per_slave: 0 }],
];

for (const [label, mode, given, expected] of accepted) {
  test(`accepted: ${label}`, () => {
    assert.deepEqual(resolveOptions(mode, given as never), expected);
  });
}

test('set: a newly given monitor replaces the other; the base fills in the rest', () => {
  const base = { miimon: 100, updelay: 200, arp_interval: 0, primary_reselect: 'always' };
  assert.deepEqual(resolveOptions('active-backup', { arp_interval: 500, arp_ip_target: ['192.0.2.1'] }, base),
    { miimon: 0, arp_interval: 500, arp_ip_target: ['192.0.2.1'], primary_reselect: 'always' });
  // a mode change drops what the new mode does not take
  assert.deepEqual(resolveOptions('balance-xor', {}, { miimon: 100, primary_reselect: 'always' }), { miimon: 100, arp_interval: 0 });
});

const refused: Array<[Parameters<typeof resolveOptions>[0], Record<string, unknown>, RegExp]> = [
  ['active-backup', { lacp_rate: 'fast' }, /^--lacp-rate is not valid in mode active-backup; it applies to 802\.3ad$/],
  ['802.3ad', { arp_interval: 100 }, /^--arp-interval is not valid in mode 802\.3ad; it applies to balance-rr, active-backup, balance-xor, broadcast$/],
  ['balance-xor', { packets_per_slave: 2 }, /packets-per-slave is not valid in mode balance-xor/],
  ['balance-alb', { tlb_dynamic_lb: true }, /tlb-dynamic-lb is not valid in mode balance-alb; it applies to balance-tlb/],
  ['active-backup', { miimon: 100, arp_interval: 100, arp_ip_target: ['192.0.2.1'] }, /cannot both be on/],
  ['active-backup', { miimon: 100, updelay: 150 }, /--updelay 150 is not a multiple of miimon 100.*give 100 or 200/],
  ['active-backup', { miimon: 0, downdelay: 100 }, /--downdelay needs MII monitoring/],
  ['active-backup', { arp_validate: 'all' }, /--arp-validate needs ARP monitoring: give --arp-interval too/],
  ['active-backup', { arp_interval: 100 }, /--arp-interval needs something to probe/],
  ['balance-rr', { xmit_hash_policy: 'layer2' }, /xmit-hash-policy is not valid in mode balance-rr/],
];

for (const [mode, given, message] of refused) {
  test(`refused in ${mode}: ${Object.keys(given).join(', ')}`, () => {
    assert.throws(() => resolveOptions(mode, given as never), (e: unknown) => e instanceof UsageError && message.test(e.message) && !e.message.includes('\n'));
  });
}

const badValues: Array<[string, string, RegExp]> = [
  ['miimon', '-1', /expected an integer 0-2147483647 \(milliseconds\)/],
  ['miimon', '1.5', /expected an integer/],
  ['resend_igmp', '256', /expected an integer 0-255/],
  ['ad_user_port_key', '1024', /0-1023/],
  ['lp_interval', '0', /1-2147483647 \(seconds\)/],
  ['use_carrier', 'yes please', /expected on or off/],
  ['xmit_hash_policy', 'layer4', /expected one of layer2, layer3\+4/],
  ['ad_actor_system', '01:00:5e:00:00:01', /multicast/],
  ['ad_actor_system', '00:00:00:00:00:00', /all-zero/],
  ['ad_actor_system', '02:00:00:00:00', /expected a MAC address/],
  ['arp_ip_target', '192.0.2.1,192.0.2.1', /given twice/],
  ['arp_ip_target', '255.255.255.255', /unicast/],
  ['arp_ip_target', '2001:db8::1', /not an IPv4 address/],
  ['ns_ip6_target', 'ff02::1', /unicast/],
  ['ns_ip6_target', '192.0.2.1', /not an IPv6 address/],
];

for (const [key, text, message] of badValues) {
  test(`bad value: --${key.replaceAll('_', '-')} ${text}`, () => {
    assert.throws(() => parseOptionValue(OPTION_BY_KEY.get(key)!, text), (e: unknown) => e instanceof UsageError && message.test(e.message));
  });
}

test('values: targets are canonical, booleans take on/off/1/0', () => {
  assert.deepEqual(parseOptionValue(OPTION_BY_KEY.get('arp_ip_target')!, ['192.0.2.1', '198.51.100.2']), ['192.0.2.1', '198.51.100.2']);
  assert.deepEqual(parseOptionValue(OPTION_BY_KEY.get('ns_ip6_target')!, '2001:DB8:0:0:0:0:0:1'), ['2001:db8::1']);
  assert.equal(canonicalIp('2001:db8:0:1:0:0:0:1')?.text, '2001:db8:0:1::1');
  // inet_ntop's IPv4-mapped form, as ip -d link shows ns_ip6_target
  assert.equal(canonicalIp('::ffff:192.0.2.1')?.text, '::ffff:192.0.2.1');
  for (const [t, v] of [['on', true], ['1', true], ['off', false], ['0', false]] as const) assert.equal(parseOptionValue(OPTION_BY_KEY.get('lacp_active')!, t), v);
});

test('the table: one flag per option, aliases unique, every option named for ip and NetworkManager', () => {
  const names = new Set<string>();
  for (const o of OPTIONS) {
    for (const n of [flagName(o), ...o.aliases.filter((a) => a !== flagName(o))]) {
      assert.ok(!names.has(n), `flag name ${n} used twice`);
      names.add(n);
    }
    assert.ok(o.ip && o.nm && o.summary.endsWith('.'), o.key);
    assert.ok(o.modes.length > 0, o.key);
  }
  // the 28 kernel options: these 27, and primary (a port, kept apart from the options)
  assert.equal(OPTIONS.length, 27);
  assert.deepEqual(restrictions(['lacp_rate', 'fail_over_mac', 'miimon']), { down: ['lacp_rate'], noports: ['fail_over_mac'] });
});

test('one range per option: the schema\'s bounds are the option table\'s, and the command line refuses what the schema refuses', async () => {
  const { bondsSectionSchema } = await import('../src/section.js');
  const { validate } = await import('@ha/lib/state');
  const entrySchema = bondsSectionSchema.additionalProperties as { properties: { options: { properties: Record<string, { minimum?: number; maximum?: number }> } } };
  for (const o of OPTIONS.filter((x) => x.kind === 'int')) {
    const s = entrySchema.properties.options.properties[o.key]!;
    assert.equal(s.minimum, o.min ?? 0, `${o.key} minimum`);
    assert.equal(s.maximum, o.max, `${o.key} maximum`);
    const mode = ({ 0: 'balance-rr', 1: 'active-backup', 2: 'balance-xor', 3: 'broadcast', 4: '802.3ad', 5: 'balance-tlb', 6: 'balance-alb' } as const)[o.modes[0] as 0];
    for (const v of [(o.min ?? 0) - 1, o.max! + 1]) {
      assert.ok(validate(bondsSectionSchema, { bond0: { mode, options: { [o.key]: v } } }).length > 0, `schema refuses ${o.key} ${v}`);
      assert.throws(() => parseOptionValue(o, String(v)), UsageError, `command line refuses ${o.key} ${v}`);
    }
    assert.equal(parseOptionValue(o, String(o.max)), o.max);
  }
});

test('interface names are counted in bytes, as the kernel counts them (IFNAMSIZ), by the schema and the commands alike', async () => {
  const { bondsSectionSchema } = await import('../src/section.js');
  const { validate } = await import('@ha/lib/state');
  const { checkIfname } = await import('../src/options.js');
  const long = 'ääääääää'; // 8 characters, 16 bytes
  assert.ok(validate(bondsSectionSchema, { [long]: { mode: 'active-backup' } }).length > 0, 'schema refuses a 16-byte bond name');
  assert.ok(validate(bondsSectionSchema, { bond0: { mode: 'active-backup', ports: [long] } }).length > 0, 'schema refuses a 16-byte port name');
  assert.throws(() => checkIfname(long, 'bond name'), /is 16 bytes long \(at most 15\)/);
  assert.equal(validate(bondsSectionSchema, { 'äääääää': { mode: 'active-backup' } }).length, 0, '14 bytes are fine');
  for (const bad of ['', '.', '..', 'a/b', 'a:b', 'a b', 'a\tb']) {
    assert.throws(() => checkIfname(bad, 'bond name'), UsageError, JSON.stringify(bad));
    assert.ok(validate(bondsSectionSchema, { [bad]: { mode: 'active-backup' } }).length > 0, `schema refuses ${JSON.stringify(bad)}`);
  }
});
