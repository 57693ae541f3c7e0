/**
 * Tracker arithmetic as keepalived computes it (a table of cases: weights both signs, reverse,
 * weight 0 FAULT trackers, track_file value x weight and its -254 FAULT, the clamp to 1..254,
 * the address owner), the machine events it turns into, the tracker registry (sources push,
 * instances are called back; a check tracked before its source exists), and rise/fall counting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RiseFall, TrackerRegistry, effectivePriority, priorityEvents } from '../src/priority.js';
import type { TrackerKind, TrackerState } from '../src/priority.js';

const t = (kind: TrackerKind, name: string, weight: number, state: { ok?: boolean; value?: number }, reverse = false): TrackerState =>
  ({ kind, name, weight, reverse, ...state });
const up = (weight: number, reverse = false) => t('interface', 'eth1', weight, { ok: true }, reverse);
const down = (weight: number, reverse = false) => t('interface', 'eth1', weight, { ok: false }, reverse);
const file = (weight: number, value: number | undefined, reverse = false) => t('file', 'f1', weight, value === undefined ? {} : { value }, reverse);

// [case, base, trackers, priority, fault reason or undefined]
const TABLE: Array<[string, number, TrackerState[], number, string | undefined]> = [
  ['no trackers', 100, [], 100, undefined],
  ['+10 interface up adds', 100, [up(10)], 110, undefined],
  ['+10 interface down adds nothing', 100, [down(10)], 100, undefined],
  ['-10 interface up takes nothing', 100, [up(-10)], 100, undefined],
  ['-10 interface down subtracts', 100, [down(-10)], 90, undefined],
  ['+10 reverse interface up subtracts', 100, [up(10, true)], 90, undefined],
  ['+10 reverse interface down: nothing', 100, [down(10, true)], 100, undefined],
  ['-10 reverse interface up: nothing', 100, [up(-10, true)], 100, undefined],
  ['-10 reverse interface down adds', 100, [down(-10, true)], 110, undefined],
  ['weight 0 interface up: fine', 100, [up(0)], 100, undefined],
  ['weight 0 interface down: FAULT', 100, [down(0)], 100, 'tracked interface eth1 down'],
  ['weight 0 reverse interface up: FAULT', 100, [up(0, true)], 100, 'tracked interface eth1 up (reverse)'],
  ['weight 0 reverse interface down: fine', 100, [down(0, true)], 100, undefined],
  ['script +20 ok and script -30 failed', 100, [t('script', 'a', 20, { ok: true }), t('script', 'b', -30, { ok: false })], 90, undefined],
  ['weight 0 script failed: FAULT', 100, [t('script', 'chk', 0, { ok: false })], 100, 'tracked script chk failed'],
  ['weight 0 check down: FAULT', 100, [t('check', 'web', 0, { ok: false })], 100, 'tracked check web down'],
  ['two checks -50 failed: clamped to 1', 100, [t('check', 'a', -50, { ok: false }), t('check', 'b', -50, { ok: false })], 1, undefined],
  ['clamped to 254 from above', 250, [up(10)], 254, undefined],
  ['owner 255 never moves', 255, [down(-100), up(50)], 255, undefined],
  ['owner 255 still goes FAULT', 255, [down(0)], 255, 'tracked interface eth1 down'],
  ['file value 5 x weight 1', 100, [file(1, 5)], 105, undefined],
  ['file value -3 x weight 2', 100, [file(2, -3)], 94, undefined],
  ['file value 3 x weight -2', 100, [file(-2, 3)], 94, undefined],
  ['file value 5 x weight 1 reverse', 100, [file(1, 5, true)], 95, undefined],
  ['file unreadable counts 0', 100, [file(3, undefined)], 100, undefined],
  ['file weight 0 value 0: fine', 100, [file(0, 0)], 100, undefined],
  ['file weight 0 value 7: FAULT', 100, [file(0, 7)], 100, 'tracked file f1 value 7'],
  ['file weight 0 reverse value 0: FAULT', 100, [file(0, 0, true)], 100, 'tracked file f1 value 0 (reverse)'],
  ['file -253: clamped to 1, no FAULT', 100, [file(1, -253)], 1, undefined],
  ['file -254: FAULT', 100, [file(1, -254)], 100, 'tracked file f1 value -254 x weight 1 <= -254'],
  ['file -3 x 100 = -300: FAULT', 100, [file(100, -3)], 100, 'tracked file f1 value -3 x weight 100 <= -254'],
  ['file 30 x 10 = 300 limited to 253', 1, [file(10, 30)], 254, undefined],
  ['script with no result yet counts nothing', 100, [t('script', 'chk', 10, {})], 100, undefined],
  ['weight 0 script with no result yet: FAULT', 100, [t('script', 'chk', 0, {})], 100, 'tracked script chk has no result yet'],
  ['mixed: +5 ok, file -10, check -20 failed, weight 0 up', 100,
    [up(0), t('script', 's', 5, { ok: true }), file(1, -10), t('check', 'c', -20, { ok: false })], 75, undefined],
  ['FAULT keeps the computed priority; the first FAULT is the reason', 100, [up(10), t('script', 'x', 0, { ok: false }), down(0)], 110, 'tracked script x failed'],
];

for (const [name, base, trackers, priority, reason] of TABLE) {
  test(`trackers: ${name} -> ${priority}${reason ? ' FAULT' : ''}`, () => {
    const r = effectivePriority(base, trackers);
    assert.equal(r.priority, priority);
    assert.equal(r.fault, reason !== undefined);
    assert.equal(r.faultReason, reason);
    assert.equal(r.contributions.length, trackers.length);
    assert.equal(r.contributions.filter((c) => c.fault).length > 0, reason !== undefined);
  });
}

test('trackers: contributions name each tracker with what it adds', () => {
  const r = effectivePriority(100, [up(10), file(2, -3), t('script', 'chk', 0, { ok: false })]);
  assert.deepEqual(r.contributions, [
    { kind: 'interface', name: 'eth1', contribution: 10, fault: false },
    { kind: 'file', name: 'f1', contribution: -6, fault: false },
    { kind: 'script', name: 'chk', contribution: 0, fault: true },
  ]);
  assert.deepEqual(effectivePriority(255, [up(10)]).contributions, [{ kind: 'interface', name: 'eth1', contribution: 0, fault: false }]);
});

test('priorityEvents: FAULT first, then the priority; recovery after the priority', () => {
  const ok100 = effectivePriority(100, [up(0)]);
  const faulted = effectivePriority(100, [down(0), up(-10)]);
  const ok90 = effectivePriority(100, [up(0), down(-10)]);
  assert.deepEqual(priorityEvents(undefined, ok100), [{ type: 'priority', effective: 100 }]);
  assert.deepEqual(priorityEvents(ok100, ok100), []);
  assert.deepEqual(priorityEvents(ok100, faulted), [{ type: 'fault', failed: true, reason: 'tracked interface eth1 down' }]);
  assert.deepEqual(priorityEvents(faulted, faulted), []);
  assert.deepEqual(priorityEvents(faulted, ok90), [
    { type: 'priority', effective: 90 },
    { type: 'fault', failed: false, reason: 'trackers recovered (was: tracked interface eth1 down)' },
  ]);
  const other = effectivePriority(100, [t('script', 's', 0, { ok: false })]);
  assert.deepEqual(priorityEvents(faulted, other), [{ type: 'fault', failed: true, reason: 'tracked script s failed' }]);
});

test('registry: sources push, instances are called back with all their trackers, only on a change', () => {
  const r = new TrackerRegistry();
  r.register('interface', 'eth1', { ok: true });
  r.register('script', 'chk');
  const calls: TrackerState[][] = [];
  const sub = r.subscribe('VI_1', [
    { kind: 'interface', name: 'eth1', weight: 0, reverse: false },
    { kind: 'script', name: 'chk', weight: -20, reverse: false },
  ], (s) => calls.push(s));
  assert.deepEqual(sub.states.map((s) => s.ok), [true, undefined]);
  r.update('script', 'chk', { ok: false });
  r.update('script', 'chk', { ok: false }); // unchanged: no call
  assert.equal(calls.length, 1);
  assert.equal(effectivePriority(100, calls[0]!).priority, 80);
  r.update('interface', 'eth1', { ok: false });
  assert.equal(calls.length, 2);
  assert.equal(effectivePriority(100, calls[1]!).faultReason, 'tracked interface eth1 down');
  r.register('interface', 'eth1'); // idempotent: keeps its result
  assert.equal(r.get('interface', 'eth1')?.ok, false);
  sub.unsubscribe();
  r.update('interface', 'eth1', { ok: true });
  assert.equal(calls.length, 2);
});

test('registry: a check tracked before the check plugin registers it holds FAULT until its first result', () => {
  const r = new TrackerRegistry();
  let last: TrackerState[] = [];
  const sub = r.subscribe('VI_1', [{ kind: 'check', name: 'web', weight: 0, reverse: false }], (s) => { last = s; });
  assert.equal(effectivePriority(100, sub.states).faultReason, 'tracked check web has no result yet');
  assert.ok(!r.has('check', 'web'));
  r.register('check', 'web'); // no result yet: nothing changed
  assert.deepEqual(last, []);
  r.update('check', 'web', { ok: true });
  assert.equal(effectivePriority(100, last).fault, false);
  r.unregister('check', 'web');
  assert.equal(effectivePriority(100, last).faultReason, 'tracked check web has no result yet');
  assert.throws(() => r.update('check', 'web', { ok: true }), /tracker check web is not registered/);
});

test('registry: files carry values; subscribing again replaces; weights are checked', () => {
  const r = new TrackerRegistry();
  r.register('file', 'f1', { value: 0 });
  let calls = 0;
  r.subscribe('VI_1', [{ kind: 'file', name: 'f1', weight: 2, reverse: false }], () => calls++);
  r.subscribe('VI_1', [{ kind: 'file', name: 'f1', weight: 5, reverse: false }], () => calls += 10);
  r.update('file', 'f1', { value: 3 });
  assert.equal(calls, 10, 'only the second subscription is called');
  assert.equal(effectivePriority(100, r.states('VI_1')).priority, 115);
  assert.deepEqual(r.states('nobody'), []);
  assert.throws(() => r.subscribe('VI_2', [{ kind: 'script', name: 's', weight: 254, reverse: false }], () => {}), /weight 254 is not an integer in -253\.\.253/);
  assert.throws(() => r.subscribe('VI_2', [{ kind: 'file', name: 'f', weight: 1.5, reverse: false }], () => {}), /weight 1\.5/);
});

test('rise/fall: keepalived\'s default initial state, the first result decides', () => {
  const rf = new RiseFall(2, 3);
  assert.equal(rf.ok, false);
  assert.equal(rf.known, false);
  assert.equal(rf.push(true), true);
  assert.equal(rf.known, true);
  assert.deepEqual([false, false, false].map((r) => rf.push(r)), [true, true, false], 'fall 3');
  assert.deepEqual([true, true].map((r) => rf.push(r)), [false, true], 'rise 2');
  const first = new RiseFall(3, 3);
  assert.equal(first.push(false), false);
  assert.equal(first.known, true);
});

test('rise/fall: counts reset on the other result; init_fail and one-failure-is-enough starts', () => {
  const rf = new RiseFall(3, 2, false);
  assert.deepEqual([true, true, false, true, true, true].map((r) => rf.push(r)), [false, false, false, false, false, true]);
  assert.deepEqual([false, true, false, false].map((r) => rf.push(r)), [true, true, true, false], 'a success in between restores the fall count');
  const good = new RiseFall(3, 5, true);
  assert.equal(good.ok, true);
  assert.equal(good.push(false), false, 'one failure is enough from the initial good state');
  const flip = new RiseFall(1, 1, true);
  assert.deepEqual([false, true, false, true].map((r) => flip.push(r)), [false, true, false, true]);
  assert.throws(() => new RiseFall(0, 1), /rise 0/);
  assert.throws(() => new RiseFall(1, 1.5), /fall 1\.5/);
});
