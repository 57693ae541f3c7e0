/**
 * How link notifications become watch events: the snapshot, then each RTM_NEWLINK / RTM_DELLINK
 * compared with it (built here from the same attribute encoders the kernel's replies use).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Link, RTM_DELLINK, RTM_NEWLINK, encodeAttr } from '@ha/lib/netlink';
import { encodeBondData } from '../src/codec.js';
import { Snapshot, eventsFor } from '../src/watch.js';

const T = new Date('2026-01-02T03:04:05.678Z');
const snap = (): Snapshot => ({
  name: 'bond0', index: 10, up: true, carrier: true, active: 'eth0',
  ports: new Map([[2, { name: 'eth0', mii: 'up', carrier: true, state: 'active' }], [3, { name: 'eth1', mii: 'up', carrier: true, state: 'backup' }]]),
});
const portData = (state: number, mii: number): Buffer => Buffer.concat([encodeAttr(1, Buffer.from([state])), encodeAttr(2, Buffer.from([mii]))]);
const link = (l: Partial<Link> & { index: number; name: string }): Link => ({ type: 1, flags: 0, up: true, lowerUp: true, operstate: 'up', ...l });

test('a port losing carrier, its MII status going down, the active port moving', () => {
  const s = snap();
  const a = eventsFor(s, RTM_NEWLINK, link({ index: 2, name: 'eth0', master: 10, lowerUp: false, slaveData: portData(0, 1) }), T);
  assert.deepEqual(a.map((e) => e.text), ['port eth0 carrier off', 'port eth0 link up -> fail']);
  assert.equal(a[0]!.time, '2026-01-02T03:04:05.678Z');
  const b = eventsFor(s, RTM_NEWLINK, link({ index: 10, name: 'bond0', infoData: Buffer.concat(encodeBondData({ mode: 'active-backup', active: 3 })) }), T);
  assert.deepEqual(b.map((e) => [e.event, e.from, e.to]), [['active', 'eth0', 'eth1']]);
  assert.equal(s.active, 'eth1');
  const c = eventsFor(s, RTM_NEWLINK, link({ index: 2, name: 'eth0', master: 10, lowerUp: false, slaveData: portData(1, 2) }), T);
  assert.deepEqual(c.map((e) => e.text), ['port eth0 link fail -> down', 'port eth0 active -> backup']);
  // the same notification again says nothing new
  assert.deepEqual(eventsFor(s, RTM_NEWLINK, link({ index: 2, name: 'eth0', master: 10, lowerUp: false, slaveData: portData(1, 2) }), T), []);
});

test('ports added and removed, the bond down and deleted; other links ignored', () => {
  const s = snap();
  assert.deepEqual(eventsFor(s, RTM_NEWLINK, link({ index: 4, name: 'eth2', master: 10, slaveData: portData(1, 0) }), T).map((e) => e.text), ['port eth2 added (mii up)']);
  assert.deepEqual(eventsFor(s, RTM_NEWLINK, link({ index: 3, name: 'eth1' }), T).map((e) => e.text), ['port eth1 removed']);
  assert.deepEqual(eventsFor(s, RTM_DELLINK, link({ index: 4, name: 'eth2', master: 10 }), T).map((e) => e.text), ['port eth2 removed (interface deleted)']);
  assert.deepEqual(eventsFor(s, RTM_NEWLINK, link({ index: 99, name: 'other0' }), T), []);
  assert.deepEqual(eventsFor(s, RTM_NEWLINK, link({ index: 10, name: 'bond0', up: false, lowerUp: false }), T).map((e) => e.event), ['bond-down']);
  assert.deepEqual(eventsFor(s, RTM_DELLINK, link({ index: 10, name: 'bond0' }), T).map((e) => e.event), ['bond-deleted']);
});
