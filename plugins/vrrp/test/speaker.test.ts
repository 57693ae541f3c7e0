/**
 * The instance runtime (speaker.ts) without sockets: several nodes on a simulated LAN (a fake
 * wire that hands every advert, encoded and parsed for real, to the other nodes), a fake kernel
 * holding each node's VIPs, and a manual clock. Elections, takeovers, priority 0 on stop, split
 * brain and its healing, trackers and demotion, reloads that keep a master, and the order of
 * notifications are checked here in simulated time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Instance } from '../src/model.js';
import { Lan, run } from './sim.js';

const base = (over: Partial<Instance> = {}): Instance => ({ interface: 'eth0', vrid: 51, vips: ['192.0.2.100/24'], notify: { master: 'm', backup: 'b', stop: 's', any: 'n' }, ...over });

test('two nodes elect the higher priority; the backup takes over 3 x interval + skew after the master dies', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  const b = lan.node('b', '192.0.2.12');
  const ra = await a.start('VI', base({ priority: 150 }));
  const rb = await b.start('VI', base({ priority: 50 }));
  // both start BACKUP; a's master down timer (3 + 106/256 s) ends first
  await run(lan, 3500);
  assert.equal(ra.state, 'MASTER');
  assert.equal(rb.state, 'BACKUP');
  assert.deepEqual([...a.vips], ['192.0.2.100/24']);
  assert.deepEqual([...b.vips], []);
  assert.ok(a.announced.length >= 5, 'gratuitous ARPs on becoming master');
  // kill a: no more adverts from it
  a.linkUp = false;
  const lastAdvert = a.sent.at(-1)!.at;
  await run(lan, 5000);
  assert.equal(rb.state, 'MASTER');
  const took = lan.clock.now();
  const bMaster = b.sent.find((s) => s.at > lastAdvert)!.at;
  const expected = 3000 + ((256 - 50) * 1000) / 256;
  assert.ok(Math.abs(bMaster - lastAdvert - expected) <= 10, `takeover ${bMaster - lastAdvert} ms after the last advert, expected ${expected}`);
  assert.ok(took >= bMaster);
});

test('graceful stop: priority 0, the backup takes over after its skew; VIPs are removed before the stop notification', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  const b = lan.node('b', '192.0.2.12');
  const ra = await a.start('VI', base({ priority: 150 }));
  const rb = await b.start('VI', base({ priority: 50 }));
  await run(lan, 4000);
  assert.equal(ra.state, 'MASTER');
  const stopAt = lan.clock.now();
  await ra.stop();
  assert.equal(a.sent.at(-1)!.priority, 0, 'the last advert has priority 0');
  assert.deepEqual([...a.vips], []);
  const stopLog = lan.log.slice(lan.log.indexOf('a STOP'));
  assert.ok(stopLog.indexOf('a -192.0.2.100/24') < stopLog.findIndex((l) => l.startsWith('a notify s')), `VIP removed before the STOP notification: ${stopLog.join(' | ')}`);
  await run(lan, 1500, 2);
  assert.equal(rb.state, 'MASTER');
  const bFirst = b.sent.find((s) => s.at >= stopAt)!.at;
  const skew = ((256 - 50) * 1000) / 256;
  assert.ok(Math.abs(bFirst - stopAt - skew) <= 4, `took over ${bFirst - stopAt} ms after priority 0, expected the skew ${skew}`);
  assert.deepEqual(b.notified.filter((n) => n.startsWith('n ')), ['n INSTANCE VI BACKUP 50', 'n INSTANCE VI MASTER 50']);
});

test('split brain: both become master while adverts are blocked; on healing one master within one interval and the loser drops its VIPs', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  const b = lan.node('b', '192.0.2.12');
  const ra = await a.start('VI', base({ priority: 150 }));
  const rb = await b.start('VI', base({ priority: 100 }));
  await run(lan, 4000);
  lan.blocked = true;
  await run(lan, 5000);
  assert.equal(ra.state, 'MASTER');
  assert.equal(rb.state, 'MASTER');
  assert.equal(b.vips.size, 1);
  lan.blocked = false;
  await run(lan, 1000);
  assert.equal(ra.state, 'MASTER');
  assert.equal(rb.state, 'BACKUP');
  assert.equal(b.vips.size, 0);
  assert.equal(a.vips.size, 1);
});

test('nopreempt: a returning higher-priority node stays backup; without it, it takes over', async () => {
  for (const nopreempt of [true, false]) {
    const lan = new Lan();
    const b = lan.node('b', '192.0.2.12');
    const rb = await b.start('VI', base({ priority: 100 }));
    await run(lan, 4000);
    assert.equal(rb.state, 'MASTER');
    const a = lan.node('a', '192.0.2.11');
    const ra = await a.start('VI', base({ priority: 150, ...(nopreempt ? { nopreempt: true } : {}) }));
    await run(lan, 6000);
    assert.equal(ra.state, nopreempt ? 'BACKUP' : 'MASTER', `nopreempt=${nopreempt}`);
    assert.equal(rb.state, nopreempt ? 'MASTER' : 'BACKUP');
  }
});

test('a tracked interface going down lowers the priority by its weight and the peer takes over; demote and promote change it at run time', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  const b = lan.node('b', '192.0.2.12');
  const ra = await a.start('VI', base({ priority: 150, trackInterfaces: [{ interface: 'eth1', weight: -100 }] }));
  const rb = await b.start('VI', base({ priority: 100 }));
  a.registry.register('interface', 'eth1', { ok: true });
  await run(lan, 4000);
  assert.equal(ra.state, 'MASTER');
  a.registry.update('interface', 'eth1', { ok: false });
  await run(lan, 100);
  assert.equal(ra.status().effectivePriority, 50);
  // the backup ignores the lower-priority adverts and takes over when its master down timer ends
  await run(lan, 3900);
  assert.equal(rb.state, 'MASTER');
  assert.equal(ra.state, 'BACKUP');
  a.registry.update('interface', 'eth1', { ok: true });
  await run(lan, 4000);
  assert.equal(ra.state, 'MASTER', 'preempts back');
  ra.setDemotion({ by: 100 });
  await run(lan, 4000);
  assert.equal(ra.state, 'BACKUP');
  assert.deepEqual(ra.status().demotion, { by: 100 });
  ra.setDemotion({});
  await run(lan, 4000);
  assert.equal(ra.state, 'MASTER');
});

test('the own interface going down is a FAULT: VIPs released, priority 0 sent', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  const ra = await a.start('VI', base({ priority: 150 }));
  a.registry.register('interface', 'eth0', { ok: true });
  await run(lan, 4000);
  assert.equal(ra.state, 'MASTER');
  a.registry.update('interface', 'eth0', { ok: false });
  await run(lan, 100);
  assert.equal(ra.state, 'FAULT');
  assert.equal(a.vips.size, 0);
  assert.equal(a.sent.at(-1)!.priority, 0);
  a.registry.update('interface', 'eth0', { ok: true });
  await run(lan, 4000);
  assert.equal(ra.state, 'MASTER');
});

test('reconfigure while master: other settings and added VIPs keep it master without an election', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  const b = lan.node('b', '192.0.2.12');
  const ra = await a.start('VI', base({ priority: 150 }));
  await b.start('VI', base({ priority: 100 }));
  await run(lan, 4000);
  const transitions = ra.status().transitions;
  const removals = () => lan.log.filter((l) => l === 'a -192.0.2.100/24').length;
  for (let k = 0; k < 20; k++) {
    ra.reconfigure(base({ priority: 150 + (k % 2), vips: ['192.0.2.100/24', ...(k % 2 ? ['192.0.2.101/24'] : [])] }), {});
    await run(lan, 100);
  }
  assert.equal(ra.state, 'MASTER');
  assert.equal(ra.status().transitions, transitions, 'no transition');
  assert.equal(removals(), 0, 'the held VIP was never removed');
  // the largest gap between a's adverts stayed one interval
  const times = a.sent.map((s) => s.at).filter((t) => t > 3500);
  const gaps = times.slice(1).map((t, k) => t - times[k]!);
  assert.ok(Math.max(...gaps) <= 1000, `advert gap ${Math.max(...gaps)} ms`);
});

test('VIPs a crashed run left behind are removed when the instance starts as backup', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  a.vips.add('192.0.2.100/24');
  const ra = await a.start('VI', base({ priority: 100 }));
  assert.equal(ra.state, 'BACKUP');
  assert.equal(a.vips.size, 0);
});
