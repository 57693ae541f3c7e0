/**
 * The VRRP state machine without sockets: the conformance transcripts (test/transcripts/, every
 * row of RFC 5798's state table and keepalived's extensions, on a simulated clock), keepalived's
 * timer formulas against the figures measured against keepalived 2.2.7 (../shared/VRRP.md), and
 * routers on a simulated LAN: election, graceful stop, a master killed, a split brain healing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VrrpMachine, masterDownUs, skewUs } from '../src/machine.js';
import type { InstanceConfig, MachineAction, VrrpState } from '../src/types.js';
import { TRANSCRIPTS } from './transcripts/machine.js';
import { BASE_CONFIG, adv, formatAction, play } from './transcripts/runner.js';

for (const t of TRANSCRIPTS) test(`transcript: ${t.name}`, () => { play(t); });

test('skew and master down interval: keepalived\'s formulas, µs-truncated', () => {
  assert.equal(skewUs(2, 50, 100), 804_687);
  assert.equal(skewUs(2, 50, 500), 804_687, 'v2: the skew ignores the interval');
  assert.equal(skewUs(2, 100, 100), 609_375);
  assert.equal(skewUs(2, 255, 100), 3_906);
  assert.equal(skewUs(3, 100, 100), 609_375);
  assert.equal(skewUs(3, 100, 10), 60_937);
  assert.equal(skewUs(3, 100, 200), 1_218_750);
  assert.equal(skewUs(3, 1, 4095), Math.floor((255 * 4095 * 10_000) / 256));
  assert.equal(masterDownUs(2, 50, 100), 3_804_687);
  assert.equal(masterDownUs(3, 100, 10), 360_937);
  assert.equal(masterDownUs(3, 254, 1), 30_000 + 78);
});

test('the timers match what was measured against keepalived 2.2.7 (priority 50, 1 s: 0.806 s and 3.805 s)', () => {
  const m = new VrrpMachine({ ...BASE_CONFIG, priority: 50 });
  m.handle({ type: 'startup' }, 0);
  const snap = m.snapshot(0);
  // measured from packets: the network and scheduling add a little to the computed figure
  assert.ok(snap.skewMs <= 806 && 806 - snap.skewMs < 2, `skew ${snap.skewMs} ms vs 806 ms measured`);
  assert.ok(Math.abs(snap.masterDownMs - 3805) < 1, `master down ${snap.masterDownMs} ms vs 3805 ms measured`);
});

test('bad input: times and configurations are checked', () => {
  assert.throws(() => new VrrpMachine({ ...BASE_CONFIG, priority: 0 }), /priority 0 is not in 1\.\.255/);
  assert.throws(() => new VrrpMachine({ ...BASE_CONFIG, intervalCs: 0 }), /advert interval 0 cs/);
  const m = new VrrpMachine(BASE_CONFIG);
  assert.throws(() => m.handle({ type: 'tick' }, Number.NaN), /not a number/);
  assert.throws(() => m.reconfigure({ ...BASE_CONFIG, vrid: 52 }, 0), /cannot change VRID/);
});

test('reconfigure passes the trackers\' priority for the new base when given', () => {
  const m = new VrrpMachine(BASE_CONFIG);
  m.handle({ type: 'startup' }, 0);
  m.handle({ type: 'tick' }, 3609.375);
  m.handle({ type: 'priority', effective: 90 }, 3700); // a tracker takes 10
  assert.deepEqual(m.reconfigure({ ...BASE_CONFIG, priority: 150 }, 3800).map(formatAction), ['advert 140']);
  assert.deepEqual(m.reconfigure({ ...BASE_CONFIG, priority: 150 }, 3900, 150).map(formatAction), ['advert 150']);
  assert.deepEqual(m.reconfigure({ ...BASE_CONFIG, priority: 255 }, 4000).map(formatAction), ['advert 255']);
  assert.equal(m.state, 'MASTER');
});

// ---- a simulated LAN

interface Node {
  m: VrrpMachine;
  address: string;
  connected: boolean;
  vips: boolean;
  log: Array<{ at: number; from: VrrpState; to: VrrpState; reason: string }>;
}

/** Routers on one link: adverts arrive `latency` ms after they are sent; timers fire on time. */
class Lan {
  readonly nodes: Node[] = [];
  #inflight: Array<{ at: number; to: Node; source: string; priority: number; intervalCs: number }> = [];
  now = 0;
  readonly latency = 0.1;
  partitioned = false;

  add(config: Partial<InstanceConfig> & { primaryAddress: string }): Node {
    const node: Node = { m: new VrrpMachine({ ...BASE_CONFIG, ...config }), address: config.primaryAddress, connected: true, vips: false, log: [] };
    this.nodes.push(node);
    return node;
  }

  do(node: Node, actions: MachineAction[]): void {
    for (const a of actions) {
      if (a.type === 'send-advert' && node.connected && !this.partitioned) {
        for (const to of this.nodes) {
          if (to !== node && to.connected) this.#inflight.push({ at: this.now + this.latency, to, source: node.address, priority: a.priority, intervalCs: 100 });
        }
      }
      if (a.type === 'add-vips') node.vips = true;
      if (a.type === 'remove-vips') node.vips = false;
      if (a.type === 'transition') node.log.push({ at: this.now, from: a.from, to: a.to, reason: a.reason });
    }
  }

  event(node: Node, e: Parameters<VrrpMachine['handle']>[0]): void {
    this.do(node, node.m.handle(e, this.now));
  }

  /** Run until `until`, deliveries before timers due at the same time (a packet counts first). */
  run(until: number): void {
    for (;;) {
      this.#inflight.sort((a, b) => a.at - b.at);
      const packet = this.#inflight[0];
      let timer: Node | undefined;
      for (const n of this.nodes) {
        const d = n.m.nextDeadline();
        if (d !== undefined && (timer === undefined || d < (timer.m.nextDeadline() as number))) timer = n;
      }
      const timerAt = timer?.m.nextDeadline();
      if (packet && packet.at <= until && (timerAt === undefined || packet.at <= timerAt)) {
        this.#inflight.shift();
        this.now = packet.at;
        if (packet.to.connected && !this.partitioned) this.event(packet.to, adv(packet.source, packet.priority, packet.intervalCs));
        continue;
      }
      if (timer && timerAt !== undefined && timerAt <= until) {
        this.now = timerAt;
        this.event(timer, { type: 'tick' });
        continue;
      }
      this.now = until;
      return;
    }
  }

  masters(): string[] {
    return this.nodes.filter((n) => n.m.state === 'MASTER').map((n) => n.address);
  }
}

const close = (a: number | undefined, b: number, what: string) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);

test('LAN: the higher priority is elected; a graceful stop moves the master in skew time', () => {
  const lan = new Lan();
  const a = lan.add({ primaryAddress: '192.0.2.10', priority: 100 });
  const b = lan.add({ primaryAddress: '192.0.2.20', priority: 50 });
  lan.event(a, { type: 'startup' });
  lan.event(b, { type: 'startup' });
  lan.run(10_000);
  assert.deepEqual(lan.masters(), ['192.0.2.10']);
  assert.equal(b.log.length, 1, 'B never left BACKUP');
  assert.ok(a.vips && !b.vips);
  lan.event(a, { type: 'shutdown' });
  lan.run(20_000);
  assert.deepEqual(lan.masters(), ['192.0.2.20']);
  close(b.log.at(-1)?.at, 10_000 + lan.latency + 804.687, 'B becomes master the skew after the priority 0 advert');
  assert.equal(b.log.at(-1)?.reason, 'priority 0 from 192.0.2.10');
});

test('LAN: a killed master is replaced 3 x interval + skew after its last advert', () => {
  const lan = new Lan();
  const a = lan.add({ primaryAddress: '192.0.2.10', priority: 100 });
  const b = lan.add({ primaryAddress: '192.0.2.20', priority: 50 });
  lan.event(a, { type: 'startup' });
  lan.event(b, { type: 'startup' });
  lan.run(10_000);
  a.connected = false; // killed: its last advert left at 9609.375
  lan.run(20_000);
  close(b.log.at(-1)?.at, 9609.375 + lan.latency + 3804.687, 'B takes over');
  assert.equal(b.log.at(-1)?.reason, 'master down timer expired');
});

test('LAN: a healed split brain converges at the first advert after the link returns', () => {
  for (const [pa, pb, winner] of [[100, 50, '192.0.2.10'], [100, 100, '192.0.2.20']] as const) {
    const lan = new Lan();
    const a = lan.add({ primaryAddress: '192.0.2.10', priority: pa });
    const b = lan.add({ primaryAddress: '192.0.2.20', priority: pb });
    lan.event(a, { type: 'startup' });
    lan.event(b, { type: 'startup' });
    lan.run(5000);
    lan.partitioned = true;
    lan.run(12_000);
    assert.deepEqual(lan.masters().sort(), ['192.0.2.10', '192.0.2.20'], 'split brain');
    lan.partitioned = false;
    lan.run(20_000);
    assert.deepEqual(lan.masters(), [winner], `${pa}/${pb}: one master`);
    const loser = winner === a.address ? b : a;
    const healedAt = loser.log.at(-1)?.at as number;
    assert.equal(loser.log.at(-1)?.to, 'BACKUP');
    assert.ok(healedAt > 12_000 && healedAt < 13_000 + 3 * lan.latency, `${pa}/${pb}: converged at ${healedAt}`);
    assert.ok(a.vips !== b.vips, 'the VIPs are on one router');
  }
});

test('LAN: nopreempt keeps a lower priority master; a higher priority backup preempts', () => {
  for (const nopreempt of [true, false]) {
    const lan = new Lan();
    const low = lan.add({ primaryAddress: '192.0.2.10', priority: 50 });
    lan.event(low, { type: 'startup' });
    lan.run(5000);
    const high = lan.add({ primaryAddress: '192.0.2.20', priority: 150, nopreempt });
    lan.event(high, { type: 'startup' });
    lan.run(20_000);
    assert.deepEqual(lan.masters(), [nopreempt ? '192.0.2.10' : '192.0.2.20'], `nopreempt ${nopreempt}`);
  }
});
