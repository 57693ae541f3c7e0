/**
 * The agent's vrrp service on the simulated LAN (sim.ts): sync groups moving together, reloads
 * that keep a master and its VIPs (matched by interface, family and VRID, not by name), the
 * control methods, and the metrics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Logger } from '@ha/lib';
import { EventBus, type ServiceContext } from '@ha/lib/agent';
import { Registry } from 'prom-client';
import type { NetlinkHandle } from '@ha/lib/netlink';
import type { VrrpSection } from '../src/model.js';
import { VrrpService } from '../src/service.js';
import { Lan, Node, run } from './sim.js';

function context(lan: Lan, events: Array<{ type: string; data: unknown }>): ServiceContext {
  const bus = new EventBus();
  bus.subscribe((e) => { events.push({ type: e.type, data: e.data }); });
  return {
    logger: new Logger({ write: () => undefined }), bus, clock: lan.clock, metrics: new Registry(),
    netlink: {} as NetlinkHandle, stateFile: '/nonexistent', signal: new AbortController().signal,
  };
}

async function service(lan: Lan, node: Node, section: VrrpSection, events: Array<{ type: string; data: unknown }> = []): Promise<VrrpService> {
  const s = new VrrpService(context(lan, events), { wire: node, kernel: node, watchLinks: false });
  await s.run(section);
  return s;
}

const pair = (p: number, over: Partial<VrrpSection> = {}): VrrpSection => ({
  instances: {
    OUT: { interface: 'eth0', vrid: 51, priority: p, vips: ['192.0.2.100/24'], trackInterfaces: [{ interface: 'eth1' }] },
    IN: { interface: 'eth0', vrid: 52, priority: p, vips: ['198.51.100.1/24'] },
  },
  groups: { G: { instances: ['OUT', 'IN'] } },
  ...over,
});

const states = (s: VrrpService): Record<string, string> => Object.fromEntries(s.methods.status(undefined).instances.map((i) => [i.name, i.state]));

test('a sync group moves together: one member losing to a higher priority takes the other to BACKUP too', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  const b = lan.node('b', '192.0.2.12');
  const sa = await service(lan, a, pair(150));
  const sb = await service(lan, b, {
    instances: {
      OUT: { interface: 'eth0', vrid: 51, priority: 100, vips: ['192.0.2.100/24'] },
      IN: { interface: 'eth0', vrid: 52, priority: 100, vips: ['198.51.100.1/24'] },
    },
    groups: { G: { instances: ['OUT', 'IN'] } },
  });
  await run(lan, 4500);
  assert.deepEqual(states(sa), { IN: 'MASTER', OUT: 'MASTER' });
  assert.deepEqual(states(sb), { IN: 'BACKUP', OUT: 'BACKUP' });
  // demoting one member does not split the group: a's IN still wins, so b keeps both in BACKUP
  sa.methods.demote({ name: 'OUT', by: 100 });
  await run(lan, 4500);
  assert.deepEqual(states(sb), { IN: 'BACKUP', OUT: 'BACKUP' }, 'b waits for the whole group');
  sa.methods.promote({ name: 'OUT' });
  // a fault of a's OUT alone (its tracked eth1 goes down, weight 0) takes a's whole group to FAULT, and b takes both
  const registry = (sa as unknown as { registry: import('../src/priority.js').TrackerRegistry }).registry;
  registry.register('interface', 'eth1', { ok: false });
  await run(lan, 4500);
  assert.deepEqual(states(sa), { IN: 'FAULT', OUT: 'FAULT' }, 'a: the group follows its member into FAULT');
  assert.deepEqual(states(sb), { IN: 'MASTER', OUT: 'MASTER' }, 'b takes both');
  assert.equal(a.vips.size, 0);
  assert.equal(sa.methods.status(undefined).groups[0]!.state, 'FAULT');
  await sa.stop();
  await sb.stop();
});

test('reload: 20 reloads that change other instances never touch the master or its VIP; a renamed instance keeps running', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  const events: Array<{ type: string; data: unknown }> = [];
  const first: VrrpSection = { instances: { VI_1: { interface: 'eth0', vrid: 51, priority: 150, vips: ['192.0.2.100/24'] } } };
  const s = await service(lan, a, first, events);
  await run(lan, 4000);
  assert.deepEqual(states(s), { VI_1: 'MASTER' });
  const vi1 = (e: { type: string; data: unknown }) => e.type === 'transition' && (e.data as { instance?: string }).instance === 'VI_1';
  const before = events.filter(vi1).length;
  for (let k = 0; k < 20; k++) {
    const extra = { interface: 'eth0', vrid: 60 + (k % 3), priority: 100, vips: [`203.0.113.${k + 1}/24`] };
    const changes = await s.reload({ instances: { VI_1: first.instances!.VI_1!, [`X${k}`]: extra } });
    assert.ok(changes.some((c) => c.includes('started')), changes.join('; '));
    await run(lan, 200);
  }
  assert.equal(events.filter(vi1).length, before, 'VI_1 made no transition');
  assert.ok(!lan.log.includes('a -192.0.2.100/24'), 'the held VIP was never removed');
  const times = a.sent.map((x) => x.at).filter((t) => t > 3500);
  // adverts of VI_1 only: priority 150
  const vi1Times = a.sent.filter((x) => x.at > 3500 && x.priority === 150).map((x) => x.at);
  const gaps = vi1Times.slice(1).map((t, k) => t - vi1Times[k]!);
  assert.ok(times.length > 0 && Math.max(...gaps) <= 1000, `largest advert gap ${Math.max(...gaps)} ms`);
  // renaming keeps it running (matched by interface, family and VRID)
  const changes = await s.reload({ instances: { MAIN: first.instances!.VI_1! } });
  assert.ok(changes.includes('vrrp instance VI_1 renamed to MAIN'), changes.join('; '));
  assert.deepEqual(states(s), { MAIN: 'MASTER' });
  // the own priority changes: still master, no election
  await s.reload({ instances: { MAIN: { ...first.instances!.VI_1!, priority: 200 } } });
  await run(lan, 1500);
  assert.deepEqual(states(s), { MAIN: 'MASTER' });
  assert.equal(s.methods.status({ name: 'MAIN' }).instances[0]!.effectivePriority, 200);
  await s.stop();
});

test('control methods refuse what makes no sense; metrics show every instance', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  const s = await service(lan, a, { instances: { VI_1: { interface: 'eth0', vrid: 51, vips: ['192.0.2.100/24'] } } });
  assert.throws(() => s.methods.status({ name: 'nope' }), /no running VRRP instance named nope \(running: VI_1\)/);
  assert.throws(() => s.methods.demote({ name: 'VI_1', by: -1 }), /--by must be/);
  assert.throws(() => s.methods.promote({ name: 'VI_1', to: 255 }), /--to must be/);
  await run(lan, 4000);
  const ctx = (s as unknown as { ctx: ServiceContext }).ctx;
  const text = await ctx.metrics.metrics();
  assert.match(text, /ha_vrrp_state\{instance="VI_1",interface="eth0",vrid="51"\} 2/);
  assert.match(text, /ha_vrrp_adverts_sent_total\{instance="VI_1"\} [1-9]/);
  await s.stop();
});

test('health checks published on the event bus are trackers by name: a failing check with weight 0 is a FAULT', async () => {
  const lan = new Lan();
  const a = lan.node('a', '192.0.2.11');
  const ctx = context(lan, []);
  const s = new VrrpService(ctx, { wire: a, kernel: a, watchLinks: false });
  await s.run({ instances: { VI_1: { interface: 'eth0', vrid: 51, priority: 150, vips: ['192.0.2.100/24'], trackChecks: [{ check: 'web' }, { check: 'db', weight: -50 }] } } });
  // no result yet from the weight-0 check: held in FAULT
  await run(lan, 4000);
  assert.deepEqual(states(s), { VI_1: 'FAULT' });
  ctx.bus.publish('checks', 'result', { name: 'web', ok: true });
  ctx.bus.publish('checks', 'result', { name: 'db', ok: true });
  await run(lan, 4000);
  assert.deepEqual(states(s), { VI_1: 'MASTER' });
  ctx.bus.publish('checks', 'result', { name: 'db', ok: false });
  await run(lan, 100);
  assert.equal(s.methods.status(undefined).instances[0]!.effectivePriority, 100);
  const db = s.methods.status(undefined).instances[0]!.trackers.find((t) => t.name === 'db')!;
  assert.deepEqual([db.kind, db.ok, db.contribution], ['check', false, -50]);
  ctx.bus.publish('checks', 'result', { name: 'web', ok: false });
  await run(lan, 100);
  assert.deepEqual(states(s), { VI_1: 'FAULT' });
  assert.equal(a.vips.size, 0);
  await s.stop();
});
