/**
 * Sync groups as keepalived's vrrp_sync.c runs them: a member goes MASTER only when every member
 * wants to (or the group is MASTER), then the others follow at once; a master going BACKUP takes
 * the others along; one FAULT puts every member in FAULT until no member has a fault of its own.
 * Each result is read as lines: "VI_1: <action>" per member action, then "group: <transition>".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SyncGroup } from '../src/group.js';
import type { GroupResult } from '../src/group.js';
import { VrrpMachine } from '../src/machine.js';
import type { InstanceConfig } from '../src/types.js';
import { BASE_CONFIG, adv, fault, formatAction, prio, recover } from './transcripts/runner.js';

const lines = (r: GroupResult): string[] => [
  ...r.actions.flatMap((e) => e.actions.map((a) => `${e.instance}: ${formatAction(a)}`)),
  ...r.transitions.map((t) => `group: ${t.from} -> ${t.to}: ${t.reason}`),
];

const UP = (name: string, p: number, reason: string) => [`${name}: advert ${p}`, `${name}: add-vips`, `${name}: announce`, `${name}: BACKUP -> MASTER: ${reason}`];

function group(a: Partial<InstanceConfig> = {}, b: Partial<InstanceConfig> = {}): { g: SyncGroup; a: VrrpMachine; b: VrrpMachine } {
  const ma = new VrrpMachine({ ...BASE_CONFIG, name: 'VI_1', ...a });
  const mb = new VrrpMachine({ ...BASE_CONFIG, name: 'VI_2', vrid: 52, priority: 50, primaryAddress: '198.51.100.10', vips: ['198.51.100.100/24'], ...b });
  return { g: new SyncGroup('G', [ma, mb]), a: ma, b: mb };
}

/** Both members MASTER: VI_1's timer is held until VI_2's expires too, then both go. */
function bothMaster() {
  const s = group();
  s.g.handleAll({ type: 'startup' }, 0);
  s.g.tick(3609.375);
  s.g.tick(3804.687);
  return s;
}

test('sync group: startup puts every member in BACKUP', () => {
  const { g } = group();
  assert.deepEqual(lines(g.handleAll({ type: 'startup' }, 0)), [
    'VI_1: INIT -> BACKUP: startup', 'VI_2: INIT -> BACKUP: startup', 'group: INIT -> BACKUP: VI_1 entered BACKUP',
  ]);
  assert.equal(g.state, 'BACKUP');
  assert.equal(g.nextDeadline(), 3609.375);
});

test('sync group: a member whose timer expires first waits for the others, then all go MASTER together', () => {
  const { g, a, b } = group();
  g.handleAll({ type: 'startup' }, 0);
  assert.deepEqual(lines(g.tick(3609.375)), [], 'VI_1 is held: VI_2 does not want MASTER yet');
  assert.equal(a.state, 'BACKUP');
  assert.equal(a.snapshot(3609.375).wantsMaster, true);
  assert.equal(a.nextDeadline(), 7218.75, 'held for another master down interval');
  assert.deepEqual(lines(g.tick(3804.687)), [
    ...UP('VI_2', 50, 'master down timer expired'),
    ...UP('VI_1', 100, 'sync group G: VI_2 became MASTER'),
    'group: BACKUP -> MASTER: VI_2 became MASTER',
  ]);
  assert.deepEqual([a.state, b.state, g.state], ['MASTER', 'MASTER', 'MASTER']);
  assert.equal(a.snapshot(3804.687).wantsMaster, false);
  assert.equal(g.nextDeadline(), 4804.687);
  assert.deepEqual(g.snapshot().lastTransition, { from: 'BACKUP', to: 'MASTER', reason: 'VI_2 became MASTER', at: 3804.687 });
});

test('sync group: a late tick with several members due fires them earliest first', () => {
  const { g, a, b } = group();
  g.handleAll({ type: 'startup' }, 0);
  assert.deepEqual(lines(g.tick(5000)), [
    ...UP('VI_2', 50, 'master down timer expired'),
    ...UP('VI_1', 100, 'sync group G: VI_2 became MASTER'),
    'group: BACKUP -> MASTER: VI_2 became MASTER',
  ]);
  assert.deepEqual([a.nextDeadline(), b.nextDeadline()], [6000, 6000]);
  assert.deepEqual(lines(g.tick(6000)), ['VI_1: advert 100', 'VI_2: advert 50']);
});

test('sync group: an advert that keeps a member BACKUP clears its wish, and the group stays BACKUP', () => {
  const { g, a, b } = group();
  g.handleAll({ type: 'startup' }, 0);
  g.tick(3609.375);
  assert.deepEqual(lines(g.handle('VI_1', adv('192.0.2.20', 150), 3700)), []);
  assert.equal(a.wantsMaster, false);
  assert.deepEqual(lines(g.tick(3804.687)), []);
  assert.deepEqual([a.state, b.state, g.state], ['BACKUP', 'BACKUP', 'BACKUP']);
  assert.equal(b.wantsMaster, true);
});

test('sync group: a master hearing a higher priority takes the other masters to BACKUP', () => {
  const { g, a, b } = bothMaster();
  assert.deepEqual(lines(g.handle('VI_1', adv('192.0.2.20', 150), 4000)), [
    'VI_1: remove-vips', 'VI_1: MASTER -> BACKUP: higher priority 150 from 192.0.2.20',
    'VI_2: remove-vips', 'VI_2: MASTER -> BACKUP: sync group G: VI_1 became BACKUP',
    'group: MASTER -> BACKUP: VI_1 became BACKUP',
  ]);
  assert.deepEqual([a.state, b.state], ['BACKUP', 'BACKUP']);
  assert.equal(b.nextDeadline(), 7804.687);
});

test('sync group: one FAULT puts all in FAULT; the group leaves FAULT when the last own fault clears', () => {
  const { g, a, b } = bothMaster();
  assert.deepEqual(lines(g.handle('VI_2', fault('tracked interface eth2 down'), 4000)), [
    'VI_2: advert 0', 'VI_2: remove-vips', 'VI_2: MASTER -> FAULT: tracked interface eth2 down',
    'VI_1: advert 0', 'VI_1: remove-vips', 'VI_1: MASTER -> FAULT: sync group G: VI_2: tracked interface eth2 down',
    'group: MASTER -> FAULT: VI_2: tracked interface eth2 down',
  ]);
  assert.equal(a.snapshot(4000).faultReason, 'sync group G: VI_2: tracked interface eth2 down');
  assert.deepEqual(lines(g.handle('VI_1', fault('tracked script chk failed'), 4100)), []);
  assert.deepEqual(lines(g.handle('VI_2', recover('tracked interface eth2 up'), 4200)), [], 'VI_1 still has its own fault');
  assert.equal(b.state, 'FAULT');
  assert.deepEqual(lines(g.handle('VI_1', adv('192.0.2.20', 150), 4300)), [], 'FAULT members ignore adverts');
  assert.deepEqual(lines(g.handle('VI_1', recover('tracked script chk succeeded'), 5000)), [
    'VI_1: FAULT -> BACKUP: tracked script chk succeeded',
    'VI_2: FAULT -> BACKUP: sync group G: leaving FAULT',
    'group: FAULT -> BACKUP: VI_1: tracked script chk succeeded',
  ]);
  assert.deepEqual([a.nextDeadline(), b.nextDeadline()], [8609.375, 8804.687]);
});

test('sync group: a FAULT from BACKUP, and a fault known before startup', () => {
  const s = group();
  s.g.handleAll({ type: 'startup' }, 0);
  assert.deepEqual(lines(s.g.handle('VI_1', fault('link down'), 100)), [
    'VI_1: BACKUP -> FAULT: link down', 'VI_2: BACKUP -> FAULT: sync group G: VI_1: link down', 'group: BACKUP -> FAULT: VI_1: link down',
  ]);
  const t = group();
  assert.deepEqual(lines(t.g.handle('VI_2', fault('tracked check web has no result yet'), 0)), ['group: INIT -> FAULT: VI_2: tracked check web has no result yet']);
  assert.deepEqual(lines(t.g.handleAll({ type: 'startup' }, 1)), [
    'VI_1: INIT -> FAULT: sync group G: VI_2: tracked check web has no result yet',
    'VI_2: INIT -> FAULT: tracked check web has no result yet',
  ]);
  assert.deepEqual(lines(t.g.handle('VI_2', recover('trackers recovered'), 2)), [
    'VI_2: FAULT -> BACKUP: trackers recovered', 'VI_1: FAULT -> BACKUP: sync group G: leaving FAULT', 'group: FAULT -> BACKUP: VI_2: trackers recovered',
  ]);
});

test('sync group: address owners start held until every member wants MASTER, then all go', () => {
  const { g, a, b } = group({ priority: 255 }, { priority: 255 });
  assert.deepEqual(lines(g.handleAll({ type: 'startup' }, 0)), [
    'VI_1: INIT -> BACKUP: address owner held in BACKUP by its sync group',
    'VI_2: advert 255', 'VI_2: add-vips', 'VI_2: announce', 'VI_2: INIT -> MASTER: address owner (priority 255)',
    ...UP('VI_1', 255, 'sync group G: VI_2 became MASTER'),
    'group: INIT -> BACKUP: VI_1 entered BACKUP',
    'group: BACKUP -> MASTER: VI_2 became MASTER',
  ]);
  assert.deepEqual([a.state, b.state], ['MASTER', 'MASTER']);
});

test('sync group: priority events pass through; shutdown stops every member, then the group', () => {
  const { g } = bothMaster();
  assert.deepEqual(lines(g.handle('VI_1', prio(90), 4000)), ['VI_1: advert 90']);
  assert.deepEqual(lines(g.handleAll({ type: 'shutdown' }, 4100)), [
    'VI_1: advert 0', 'VI_1: remove-vips', 'VI_1: MASTER -> STOP: shutdown',
    'VI_2: advert 0', 'VI_2: remove-vips', 'VI_2: MASTER -> STOP: shutdown',
    'group: MASTER -> STOP: shutdown',
  ]);
  assert.equal(g.nextDeadline(), undefined);
});

test('sync group: bad input', () => {
  const { g } = group();
  assert.throws(() => g.handle('VI_9', { type: 'tick' }, 0), /sync group G has no instance VI_9/);
  const m = new VrrpMachine(BASE_CONFIG);
  assert.throws(() => new SyncGroup('H', [m, m]), /instance VI_1 is listed twice/);
  assert.throws(() => new SyncGroup('E', []), /has no members/);
});
