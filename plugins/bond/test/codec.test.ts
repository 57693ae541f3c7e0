/**
 * The IFLA_BOND_* codec against bytes the kernel produced (captured once from Linux 6.1 in
 * User-Mode Linux: `ip link add cap0 type bond mode active-backup arp_interval 200 arp_ip_target
 * 192.0.2.1,192.0.2.2 arp_validate all primary_reselect better num_grat_arp 3`, ports d1 and d2),
 * golden request bytes, and a round trip of every option.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBondData, decodePortData, encodeBondData, lacpStateText } from '../src/codec.js';
import { BondOptions, MODES, OPTIONS, applicableOptions } from '../src/options.js';

const KERNEL_BOND = Buffer.from(
  '050001000100000008000300000000000800040000000000080005000000000008001c0000000000050006000100000008000700c80000001400080008000000c000020108000100c0000202080009000300000008000a000000000005000c000100000005000d000000000005000e000000000008000f00010000000500100003000000050011000000000008001200000000000800130001000000080014000100000005001d00010000000500150000000000050016000000000005001b000100000005001e00020000000500200001000000',
  'hex');
// port d1 of cap0, read a moment earlier (its ARP monitor got no replies: state and MII status keep moving)
const KERNEL_PORT = Buffer.from('0500010000000000050002000300000008000300010000000a000400ee91ff38e4f2000006000500000000000800090000000000', 'hex');

test('a bond the kernel described decodes to what ip -d link show printed for it', () => {
  const d = decodeBondData(KERNEL_BOND);
  assert.equal(d.mode, 'active-backup');
  assert.equal(d.activeIndex, undefined);
  assert.deepEqual(applicableOptions(d.mode, d.options), {
    miimon: 0, use_carrier: true, arp_interval: 200, arp_ip_target: ['192.0.2.1', '192.0.2.2'], ns_ip6_target: [], arp_validate: 'all',
    arp_all_targets: 'any', missed_max: 2, primary_reselect: 'better', fail_over_mac: 'none', resend_igmp: 1, num_peer_notif: 3,
    all_slaves_active: false,
  });
  // options of other modes are reported too, and kept apart by applicableOptions
  assert.equal(d.options.lacp_rate, 'slow');
  assert.equal(d.options.lacp_active, true);
  assert.equal(d.options.xmit_hash_policy, 'layer2');
  assert.equal(d.options.tlb_dynamic_lb, true);
});

test('a port the kernel described decodes (state, MII status, failures, permanent MAC, queue, prio)', () => {
  assert.deepEqual(decodePortData(KERNEL_PORT), {
    state: 'active', miiStatus: 'back', linkFailures: 1, permanentMac: 'ee:91:ff:38:e4:f2', queueId: 0, prio: 0,
  });
});

test('requests: golden bytes (mode first, u8/u32 widths, a target list as a nest of be32)', () => {
  assert.equal(Buffer.concat(encodeBondData({ mode: 'active-backup', options: { miimon: 100 } })).toString('hex'),
    '0500010001000000' + '0800030064000000');
  assert.equal(Buffer.concat(encodeBondData({ options: { arp_ip_target: ['192.0.2.1', '192.0.2.2'] } })).toString('hex'),
    '14000880' + '08000000c0000201' + '08000100c0000202');
  assert.equal(Buffer.concat(encodeBondData({ options: { ad_actor_system: '02:00:00:00:00:01', ad_actor_sys_prio: 7 } })).toString('hex'),
    '0600180007000000' + '0a001a000200000000010000');
  assert.equal(Buffer.concat(encodeBondData({ active: 5, primary: 0 })).toString('hex'), '0800020005000000' + '08000b0000000000');
});

const SAMPLE: Record<string, BondOptions[string]> = {
  miimon: 250, updelay: 500, downdelay: 750, peer_notify_delay: 1000, use_carrier: false, arp_interval: 300,
  arp_ip_target: ['192.0.2.1', '198.51.100.254', '203.0.113.9'], ns_ip6_target: ['2001:db8::1', '2001:db8:1:2:3:4:5:6'], arp_validate: 'filter_backup',
  arp_all_targets: 'all', missed_max: 9, primary_reselect: 'failure', fail_over_mac: 'follow', xmit_hash_policy: 'vlan+srcmac', resend_igmp: 200,
  num_peer_notif: 255, all_slaves_active: true, min_links: 3, lp_interval: 2147483647, packets_per_slave: 65535, lacp_rate: 'fast', lacp_active: false,
  ad_select: 'count', ad_actor_sys_prio: 1, ad_user_port_key: 1023, ad_actor_system: '02:ab:cd:ef:01:23', tlb_dynamic_lb: false,
};

test('every option survives encode -> decode with its own value', () => {
  assert.deepEqual(Object.keys(SAMPLE).sort(), OPTIONS.map((o) => o.key).sort(), 'the sample covers every option');
  for (const mode of MODES) {
    const d = decodeBondData(Buffer.concat(encodeBondData({ mode, options: SAMPLE })));
    assert.equal(d.mode, mode);
    assert.deepEqual(d.options, SAMPLE);
  }
});

test('LACP port state bits read as words', () => {
  assert.equal(lacpStateText(0x3d), 'activity,aggregation,synchronization,collecting,distributing');
  assert.equal(lacpStateText(0), 'none');
});
