/**
 * How link notifications become watch events: the snapshot, then each RTM_NEWLINK / RTM_DELLINK
 * compared with it (built here from the same attribute encoders the kernel's replies use).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Link, NETLINK_ROUTE, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK, encodeAttr, encodeIfInfo, linkAttrs, useDefaultHandle } from '@ha/lib/netlink';
import { FakeKernel } from '@ha/lib/testing';
import { encodeBondData } from '../src/codec.js';
import { Snapshot, WatchEvent, eventsFor, resyncEvents, watchBond } from '../src/watch.js';

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

test('after lost notifications, the links read again become the events that were missed', () => {
  const s = snap();
  const links = [
    link({ index: 1, name: 'lo' }),
    link({ index: 2, name: 'eth0', master: 10, lowerUp: false, slaveData: portData(1, 2) }),
    // eth1 (index 3) is gone; eth2 joined
    link({ index: 4, name: 'eth2', master: 10, slaveData: portData(0, 0) }),
    link({ index: 10, name: 'bond0', infoData: Buffer.concat(encodeBondData({ mode: 'active-backup', active: 4 })) }),
  ];
  const events = resyncEvents(s, links, T);
  assert.deepEqual(events.map((e) => e.event), ['resynced', 'port-removed', 'port-carrier', 'port-mii', 'port-state', 'port-added', 'active']);
  assert.equal(events.at(-1)?.text, 'active port eth0 -> eth2');
  // read again with nothing changed: only the resync line
  assert.deepEqual(resyncEvents(s, links, T).map((e) => e.event), ['resynced']);
  // the bond itself is gone
  assert.deepEqual(resyncEvents(s, links.slice(0, 3), T).map((e) => e.event), ['resynced', 'bond-deleted']);
});

test('watchBond on the fake kernel: first line, notifications, an overrun resynced from a dump, the bond deleted', async () => {
  const IFF_UP = 1;
  const IFF_LOWER_UP = 0x10000;
  interface L { index: number; name: string; carrier?: boolean; master?: number; state?: number; mii?: number; active?: number }
  let links: L[] = [
    { index: 10, name: 'bond0', active: 2 },
    { index: 2, name: 'eth0', master: 10, state: 0, mii: 0 },
    { index: 3, name: 'eth1', master: 10, state: 1, mii: 0 },
  ];
  const message = (l: L): { type: number; data: Buffer } => ({
    type: RTM_NEWLINK,
    data: Buffer.concat([
      encodeIfInfo({ index: l.index, flags: IFF_UP | (l.carrier === false ? 0 : IFF_LOWER_UP) }),
      linkAttrs.encode({
        name: l.name, ...(l.master ? { master: l.master } : {}),
        linkInfo: l.master
          ? { slaveKind: 'bond', slaveData: portData(l.state ?? 1, l.mii ?? 0) }
          : { kind: 'bond', data: Buffer.concat(encodeBondData({ mode: 'active-backup', ...(l.active ? { active: l.active } : {}) })) },
      }),
    ]),
  });
  const kernel = new FakeKernel((req) => (req.type === RTM_GETLINK ? { replies: links.map(message) } : undefined));
  useDefaultHandle(kernel.handle());
  const events: WatchEvent[] = [];
  let waiting: (() => void) | undefined;
  const until = (n: number): Promise<void> => new Promise((resolve) => {
    const check = (): void => { if (events.length >= n) resolve(); else waiting = check; };
    check();
  });
  const watcher = watchBond('bond0', (e) => { events.push(e); waiting?.(); });
  try {
    await until(1);
    assert.equal(events[0]!.event, 'watching');
    assert.match(events[0]!.text, /active-backup bond, up, active port eth0, ports eth0\(up\) eth1\(up\)/);
    kernel.notify(NETLINK_ROUTE, 1, message({ index: 2, name: 'eth0', master: 10, carrier: false, state: 0, mii: 0 }));
    await until(2);
    assert.equal(events[1]!.event, 'port-carrier');
    // a burst the socket could not hold: eth1 left, eth0 became backup and eth2 active
    links = [
      { index: 10, name: 'bond0', active: 4 },
      { index: 2, name: 'eth0', master: 10, carrier: false, state: 1, mii: 2 },
      { index: 4, name: 'eth2', master: 10, state: 0, mii: 0 },
    ];
    kernel.overrun(NETLINK_ROUTE);
    await until(8);
    assert.deepEqual(events.slice(2).map((e) => e.event), ['resynced', 'port-removed', 'port-mii', 'port-state', 'port-added', 'active']);
    assert.equal(events.at(-1)!.text, 'active port eth0 -> eth2');
    kernel.notify(NETLINK_ROUTE, 1, { type: RTM_DELLINK, data: message({ index: 10, name: 'bond0' }).data });
    await watcher.finished;
    assert.equal(events.at(-1)!.event, 'bond-deleted');
  } finally {
    watcher.stop();
    useDefaultHandle(undefined);
  }
});
