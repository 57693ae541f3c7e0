/**
 * The transcripts: every row of RFC 5798's state table (6.4.1 Initialize, 6.4.2 Backup, 6.4.3
 * Master) and keepalived's extensions. Times are ms; the expected timers are worked out by hand
 * from keepalived's formulas (µs-truncated):
 *   v2 skew = (256-P)/256 s: P=50 804.687, P=100 609.375, P=150 414.062, P=200 218.75, P=80 687.5
 *   v3 skew = (256-P) x MAI / 256: P=100 at 10 cs 60.937, at 200 cs 1218.75
 *   Master_Down_Interval = 3 x MAI + skew.
 * Our address is 192.0.2.10 (fe80::10 for IPv6); peers are .2 (lower) and .20 (higher).
 */
import type { Transcript } from './runner.js';
import { adv, fault, prio, reconfigure, recover, shutdown, startup, tick } from './runner.js';

const UP = (p: number, reason = 'master down timer expired') => [`advert ${p}`, 'add-vips', 'announce', `BACKUP -> MASTER: ${reason}`];

/** Startup as BACKUP and the master down timer at 1 s for priority 100: 3609.375 ms. */
const asMaster100 = [
  { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP' as const, deadline: 3609.375 },
  { at: 3609.375, event: tick, actions: UP(100), state: 'MASTER' as const, deadline: 4609.375 },
];

export const TRANSCRIPTS: Transcript[] = [
  {
    name: '6.4.1 startup as BACKUP; 6.4.2 master down timer expiry (v2, priority 50: 3.805 s)',
    config: { priority: 50 },
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3804.687,
        snapshot: { skewMs: 804.687, masterDownMs: 3804.687, transitions: 1, masterSeen: undefined } },
      { at: 3000, event: tick, actions: [], state: 'BACKUP', deadline: 3804.687 },
      { at: 3804.687, event: tick, actions: UP(50), state: 'MASTER', deadline: 4804.687,
        snapshot: { transitions: 2, lastTransition: { at: 3804.687, from: 'BACKUP', to: 'MASTER', reason: 'master down timer expired' } } },
      { at: 4804.687, event: tick, actions: ['advert 50'], state: 'MASTER', deadline: 5804.687 },
      { at: 5804.687, event: tick, actions: ['advert 50'], state: 'MASTER', deadline: 6804.687 },
    ],
  },
  {
    name: '6.4.2 adverts keep a BACKUP; the master killed: MASTER 3.805 s after its last advert',
    config: { priority: 50 },
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3804.687 },
      { at: 1000, event: adv('192.0.2.20', 100), actions: [], state: 'BACKUP', deadline: 4804.687,
        snapshot: { masterSeen: { address: '192.0.2.20', priority: 100, intervalCs: 100, at: 1000 } } },
      { at: 2000, event: adv('192.0.2.20', 100), actions: [], state: 'BACKUP', deadline: 5804.687 },
      { at: 5804.687, event: tick, actions: UP(50), state: 'MASTER', deadline: 6804.687 },
    ],
  },
  {
    name: '6.4.2 priority 0 from the master: BACKUP takes over after the skew (v2, priority 50: 804.687 ms)',
    config: { priority: 50 },
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3804.687 },
      { at: 500, event: adv('192.0.2.20', 100), actions: [], state: 'BACKUP', deadline: 4304.687 },
      { at: 1500, event: adv('192.0.2.20', 100), actions: [], state: 'BACKUP', deadline: 5304.687 },
      { at: 2000, event: adv('192.0.2.20', 0), actions: [], state: 'BACKUP', deadline: 2804.687 },
      { at: 2804.687, event: tick, actions: UP(50, 'priority 0 from 192.0.2.20'), state: 'MASTER', deadline: 3804.687 },
    ],
  },
  {
    name: '6.4.2 BACKUP: higher and equal priority (from a lower or higher address) never preempt',
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3609.375 },
      { at: 1000, event: adv('192.0.2.20', 100), actions: [], state: 'BACKUP', deadline: 4609.375 },
      { at: 2000, event: adv('192.0.2.2', 100), actions: [], state: 'BACKUP', deadline: 5609.375 },
      { at: 3000, event: adv('192.0.2.2', 150), actions: [], state: 'BACKUP', deadline: 6609.375 },
      { at: 6609.375, event: tick, actions: UP(100), state: 'MASTER' },
    ],
  },
  {
    name: '6.4.2 BACKUP with preemption hears a lower priority: discards it, its master down timer runs out',
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3609.375 },
      { at: 1000, event: adv('192.0.2.2', 150), actions: [], state: 'BACKUP', deadline: 4609.375 },
      { at: 2000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 4609.375,
        snapshot: { masterSeen: { address: '192.0.2.2', priority: 50, intervalCs: 100, at: 2000 } } },
      { at: 3000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 4609.375 },
      { at: 4000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 4609.375 },
      { at: 4609.375, event: tick, actions: UP(100, 'preempting lower priority 50 from 192.0.2.2'), state: 'MASTER', deadline: 5609.375 },
      { at: 5000, event: adv('192.0.2.2', 50), actions: ['advert 100', 'announce'], state: 'MASTER', deadline: 6000 },
    ],
  },
  {
    name: 'keepalived nopreempt: a lower priority master keeps the BACKUP; silence still ends it',
    config: { nopreempt: true },
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3609.375 },
      { at: 1000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 4609.375 },
      { at: 2000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 5609.375 },
      { at: 3000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 6609.375 },
      { at: 6609.375, event: tick, actions: UP(100), state: 'MASTER', deadline: 7609.375 },
    ],
  },
  {
    name: 'keepalived preempt_delay: the first lower priority advert starts it; discarding starts when it has run',
    config: { preemptDelayMs: 5000 },
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3609.375,
        snapshot: { preemptDelayUntil: undefined } },
      { at: 1000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 4609.375, snapshot: { preemptDelayUntil: 6000 } },
      { at: 2000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 5609.375, snapshot: { preemptDelayUntil: 6000 } },
      { at: 3000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 6609.375 },
      { at: 4000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 7609.375 },
      { at: 5000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 8609.375 },
      { at: 6000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 8609.375, snapshot: { preemptDelayUntil: undefined } },
      { at: 7000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 8609.375 },
      { at: 8000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 8609.375 },
      { at: 8609.375, event: tick, actions: UP(100, 'preempting lower priority 50 from 192.0.2.2'), state: 'MASTER' },
    ],
  },
  {
    name: 'keepalived preempt_delay: a higher priority advert stops it; the next lower one starts it again',
    config: { preemptDelayMs: 5000 },
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP' },
      { at: 1000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 4609.375, snapshot: { preemptDelayUntil: 6000 } },
      { at: 1500, event: adv('192.0.2.20', 150), actions: [], state: 'BACKUP', deadline: 5109.375, snapshot: { preemptDelayUntil: undefined } },
      { at: 2000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 5609.375, snapshot: { preemptDelayUntil: 7000 } },
    ],
  },
  {
    name: '6.4.3 MASTER hears a higher priority: BACKUP at once, no priority 0, VIPs removed before the notification',
    steps: [
      ...asMaster100,
      { at: 4000, event: adv('192.0.2.2', 150), actions: ['remove-vips', 'MASTER -> BACKUP: higher priority 150 from 192.0.2.2'], state: 'BACKUP',
        deadline: 7609.375, snapshot: { masterSeen: { address: '192.0.2.2', priority: 150, intervalCs: 100, at: 4000 } } },
      { at: 5000, event: adv('192.0.2.2', 150), actions: [], state: 'BACKUP', deadline: 8609.375 },
    ],
  },
  {
    name: '6.4.3 MASTER hears an equal priority from a higher address: BACKUP',
    steps: [
      ...asMaster100,
      { at: 4000, event: adv('192.0.2.20', 100), actions: ['remove-vips', 'MASTER -> BACKUP: equal priority 100 from higher address 192.0.2.20'], state: 'BACKUP', deadline: 7609.375 },
    ],
  },
  {
    name: '6.4.3 MASTER hears an equal priority from a lower address (numerically: .9 < .10): re-asserts at once',
    steps: [
      ...asMaster100,
      { at: 4000, event: adv('192.0.2.9', 100), actions: ['advert 100', 'announce'], state: 'MASTER', deadline: 5000 },
      { at: 4300, event: adv('192.0.2.2', 100), actions: ['advert 100', 'announce'], state: 'MASTER', deadline: 5300 },
    ],
  },
  {
    name: '6.4.3 MASTER hears a lower priority: stays MASTER, advertises and announces at once (split brain heals)',
    steps: [
      ...asMaster100,
      { at: 4200, event: adv('192.0.2.20', 50), actions: ['advert 100', 'announce'], state: 'MASTER', deadline: 5200 },
      { at: 5200, event: tick, actions: ['advert 100'], state: 'MASTER', deadline: 6200 },
    ],
  },
  {
    name: '6.4.3 MASTER hears priority 0: advertises at once and resets its timer',
    steps: [
      ...asMaster100,
      { at: 4100, event: adv('192.0.2.20', 0), actions: ['advert 100'], state: 'MASTER', deadline: 5100 },
    ],
  },
  {
    name: '6.4.3 IPv6 v3 tie-break on link-local addresses, numerically (fe80::9 < fe80::10 < fe80::20)',
    config: { version: 3, family: 6, primaryAddress: 'fe80::10', vips: ['2001:db8::100/64'] },
    steps: [
      ...asMaster100,
      { at: 4000, event: adv('fe80::9', 100, 100, 3), actions: ['advert 100', 'announce'], state: 'MASTER', deadline: 5000 },
      { at: 4500, event: adv('fe80::20', 100, 100, 3), actions: ['remove-vips', 'MASTER -> BACKUP: equal priority 100 from higher address fe80::20'], state: 'BACKUP', deadline: 8109.375 },
    ],
  },
  {
    name: '6.4.1 address owner (255): MASTER at once; trackers never change it; another owner makes it yield at 254',
    config: { priority: 255, nopreempt: true },
    steps: [
      { at: 0, event: startup, actions: ['advert 255', 'add-vips', 'announce', 'INIT -> MASTER: address owner (priority 255)'], state: 'MASTER', deadline: 1000,
        snapshot: { skewMs: 3.906, masterDownMs: 3003.906 } },
      { at: 500, event: prio(200), actions: [], state: 'MASTER', deadline: 1000, snapshot: { effectivePriority: 255 } },
      { at: 1000, event: tick, actions: ['advert 255'], state: 'MASTER', deadline: 2000 },
      { at: 1500, event: adv('192.0.2.20', 254), actions: ['advert 255', 'announce'], state: 'MASTER', deadline: 2500 },
      { at: 2000, event: adv('192.0.2.2', 255), actions: ['remove-vips', 'MASTER -> BACKUP: higher priority 255 from 192.0.2.2'], state: 'BACKUP',
        deadline: 5007.812, snapshot: { basePriority: 254, effectivePriority: 254 } },
    ],
  },
  {
    name: 'v3 BACKUP adopts the master\'s interval (and the skew is computed with it)',
    config: { version: 3 },
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3609.375, snapshot: { masterAdverIntervalCs: 100 } },
      { at: 1000, event: adv('192.0.2.20', 150, 200, 3), actions: [], state: 'BACKUP', deadline: 8218.75,
        snapshot: { masterAdverIntervalCs: 200, skewMs: 1218.75, masterDownMs: 7218.75, advertIntervalCs: 100 } },
      { at: 3000, event: adv('192.0.2.20', 0, 200, 3), actions: [], state: 'BACKUP', deadline: 4218.75 },
      { at: 4218.75, event: tick, actions: UP(100, 'priority 0 from 192.0.2.20'), state: 'MASTER', deadline: 5218.75 },
      { at: 5000, event: adv('192.0.2.20', 150, 50, 3), actions: ['remove-vips', 'MASTER -> BACKUP: higher priority 150 from 192.0.2.20'], state: 'BACKUP',
        deadline: 6804.687, snapshot: { masterAdverIntervalCs: 50 } },
    ],
  },
  {
    name: 'v2 never adopts an interval (a differing one is the driver\'s advert_interval_err)',
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP' },
      { at: 1000, event: adv('192.0.2.20', 150, 200), actions: [], state: 'BACKUP', deadline: 4609.375, snapshot: { masterAdverIntervalCs: 100 } },
    ],
  },
  {
    name: 'v3 centisecond interval (10 cs): master down 360.937 ms',
    config: { version: 3, intervalCs: 10 },
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 360.937, snapshot: { skewMs: 60.937 } },
      { at: 100, event: adv('192.0.2.20', 150, 10, 3), actions: [], state: 'BACKUP', deadline: 460.937 },
      { at: 200, event: adv('192.0.2.20', 150, 10, 3), actions: [], state: 'BACKUP', deadline: 560.937 },
      { at: 560.937, event: tick, actions: UP(100), state: 'MASTER', deadline: 660.937 },
      { at: 660.937, event: tick, actions: ['advert 100'], state: 'MASTER', deadline: 760.937 },
      { at: 700, event: adv('192.0.2.20', 200, 10, 3), actions: ['remove-vips', 'MASTER -> BACKUP: higher priority 200 from 192.0.2.20'], state: 'BACKUP', deadline: 1060.937 },
    ],
  },
  {
    name: 'FAULT from MASTER (priority 0 first, VIPs removed), ignored adverts and ticks, recovery to BACKUP',
    steps: [
      ...asMaster100,
      { at: 4000, event: fault('tracked interface eth1 down'), actions: ['advert 0', 'remove-vips', 'MASTER -> FAULT: tracked interface eth1 down'], state: 'FAULT',
        deadline: null, snapshot: { faultReason: 'tracked interface eth1 down', nextDeadline: undefined } },
      { at: 4500, event: adv('192.0.2.2', 150), actions: [], state: 'FAULT', deadline: null },
      { at: 4600, event: tick, actions: [], state: 'FAULT' },
      { at: 4700, event: fault('tracked script chk failed'), actions: [], state: 'FAULT', snapshot: { faultReason: 'tracked script chk failed' } },
      { at: 5000, event: recover('tracked interface eth1 up'), actions: ['FAULT -> BACKUP: tracked interface eth1 up'], state: 'BACKUP', deadline: 8609.375,
        snapshot: { faultReason: undefined } },
      { at: 8609.375, event: tick, actions: UP(100), state: 'MASTER' },
    ],
  },
  {
    name: 'FAULT from BACKUP (nothing sent); v3 recovery resets the adopted interval',
    config: { version: 3 },
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP' },
      { at: 1000, event: adv('192.0.2.20', 150, 200, 3), actions: [], state: 'BACKUP', snapshot: { masterAdverIntervalCs: 200 } },
      { at: 2000, event: fault('link down on eth0'), actions: ['BACKUP -> FAULT: link down on eth0'], state: 'FAULT', deadline: null },
      { at: 3000, event: recover('link up on eth0'), actions: ['FAULT -> BACKUP: link up on eth0'], state: 'BACKUP', deadline: 6609.375,
        snapshot: { masterAdverIntervalCs: 100 } },
    ],
  },
  {
    name: 'FAULT before startup: startup enters FAULT; the owner recovers to BACKUP with a master down timer',
    config: { priority: 255 },
    steps: [
      { at: 0, event: fault('tracked check web has no result yet'), actions: [], state: 'INIT' },
      { at: 10, event: startup, actions: ['INIT -> FAULT: tracked check web has no result yet'], state: 'FAULT', deadline: null },
      { at: 1000, event: recover('trackers recovered'), actions: ['FAULT -> BACKUP: trackers recovered'], state: 'BACKUP', deadline: 4003.906 },
      { at: 2000, event: adv('192.0.2.20', 100), actions: [], state: 'BACKUP', deadline: 4003.906 },
      { at: 4003.906, event: tick, actions: UP(255, 'preempting lower priority 100 from 192.0.2.20'), state: 'MASTER' },
    ],
  },
  {
    name: 'shutdown from MASTER: priority 0, VIPs removed, STOP; then nothing until a new startup',
    steps: [
      ...asMaster100,
      { at: 4000, event: shutdown, actions: ['advert 0', 'remove-vips', 'MASTER -> STOP: shutdown'], state: 'STOP', deadline: null },
      { at: 4100, event: adv('192.0.2.2', 50), actions: [], state: 'STOP' },
      { at: 4200, event: shutdown, actions: [], state: 'STOP' },
      { at: 4300, event: tick, actions: [], state: 'STOP' },
      { at: 5000, event: startup, actions: ['STOP -> BACKUP: startup'], state: 'BACKUP', deadline: 8609.375, snapshot: { transitions: 4 } },
    ],
  },
  {
    name: 'shutdown from BACKUP, FAULT and INIT: nothing sent',
    steps: [
      { at: 0, event: shutdown, actions: ['INIT -> STOP: shutdown'], state: 'STOP' },
      { at: 1, event: startup, actions: ['STOP -> BACKUP: startup'], state: 'BACKUP' },
      { at: 2, event: shutdown, actions: ['BACKUP -> STOP: shutdown'], state: 'STOP', deadline: null },
      { at: 3, event: startup, actions: ['STOP -> BACKUP: startup'], state: 'BACKUP' },
      { at: 4, event: fault('x down'), actions: ['BACKUP -> FAULT: x down'], state: 'FAULT' },
      { at: 5, event: shutdown, actions: ['FAULT -> STOP: shutdown'], state: 'STOP', deadline: null },
    ],
  },
  {
    name: 'late and early ticks: one advert per late tick, timers re-armed from now; an advert before a late tick counts',
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3609.375 },
      { at: 3700, event: adv('192.0.2.20', 150), actions: [], state: 'BACKUP', deadline: 7309.375 },
      { at: 3701, event: tick, actions: [], state: 'BACKUP', deadline: 7309.375 },
      { at: 9000, event: tick, actions: UP(100), state: 'MASTER', deadline: 10000 },
      { at: 13500, event: tick, actions: ['advert 100'], state: 'MASTER', deadline: 14500 },
      { at: 13600, event: tick, actions: [], state: 'MASTER', deadline: 14500 },
    ],
  },
  {
    name: 'priority events: a MASTER advertises its new priority at once; a BACKUP re-times its timer with the new skew',
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3609.375 },
      { at: 100, event: prio(200), actions: [], state: 'BACKUP', deadline: 3218.75, snapshot: { effectivePriority: 200, basePriority: 100, skewMs: 218.75 } },
      { at: 200, event: prio(50), actions: [], state: 'BACKUP', deadline: 3804.687 },
      { at: 300, event: prio(50), actions: [], state: 'BACKUP', deadline: 3804.687 },
      { at: 400, event: adv('192.0.2.20', 0), actions: [], state: 'BACKUP', deadline: 1204.687 },
      { at: 500, event: prio(200), actions: [], state: 'BACKUP', deadline: 618.75 },
      { at: 618.75, event: tick, actions: UP(200, 'priority 0 from 192.0.2.20'), state: 'MASTER', deadline: 1618.75 },
      { at: 1000, event: prio(80), actions: ['advert 80'], state: 'MASTER', deadline: 2000, snapshot: { skewMs: 687.5 } },
      { at: 1100, event: prio(300), actions: ['advert 254'], state: 'MASTER', deadline: 2100 },
      { at: 1200, event: prio(-5), actions: ['advert 1'], state: 'MASTER', deadline: 2200 },
    ],
  },
  {
    name: 'a BACKUP whose trackers raise it above the master: discards the master\'s adverts, takes over on its re-timed timer',
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3609.375 },
      { at: 1000, event: adv('192.0.2.20', 150), actions: [], state: 'BACKUP', deadline: 4609.375 },
      { at: 1500, event: prio(200), actions: [], state: 'BACKUP', deadline: 4218.75 },
      { at: 2000, event: adv('192.0.2.20', 150), actions: [], state: 'BACKUP', deadline: 4218.75 },
      { at: 3000, event: adv('192.0.2.20', 150), actions: [], state: 'BACKUP', deadline: 4218.75 },
      { at: 4000, event: adv('192.0.2.20', 150), actions: [], state: 'BACKUP', deadline: 4218.75 },
      { at: 4218.75, event: tick, actions: UP(200, 'preempting lower priority 150 from 192.0.2.20'), state: 'MASTER' },
    ],
  },
  {
    name: 'reconfigure while MASTER: stays MASTER (no transition), advertises what changed at once, reports VIP changes',
    steps: [
      ...asMaster100,
      { at: 4000, event: reconfigure({ priority: 120 }), actions: ['advert 120'], state: 'MASTER', deadline: 5000,
        snapshot: { basePriority: 120, effectivePriority: 120, transitions: 2 } },
      { at: 4100, event: reconfigure({ vips: ['192.0.2.101/24'] }), actions: ['vips-changed +192.0.2.101/24 -192.0.2.100/24', 'advert 120'], state: 'MASTER', deadline: 5100 },
      { at: 4200, event: reconfigure({}), actions: [], state: 'MASTER', deadline: 5100 },
      { at: 4300, event: reconfigure({ nopreempt: true }), actions: [], state: 'MASTER', deadline: 5100 },
      { at: 4400, event: reconfigure({ intervalCs: 200 }), actions: ['advert 120'], state: 'MASTER', deadline: 6400, snapshot: { advertIntervalCs: 200 } },
      { at: 6400, event: tick, actions: ['advert 120'], state: 'MASTER', deadline: 8400, snapshot: { transitions: 2 } },
      { at: 6500, event: reconfigure({ priority: 50, nopreempt: false }), actions: ['advert 50'], state: 'MASTER', deadline: 8500 },
    ],
  },
  {
    name: 'reconfigure while BACKUP: the running timer is re-timed, nothing sent; preempt_delay 0 stops a running delay',
    config: { preemptDelayMs: 5000 },
    steps: [
      { at: 0, event: startup, actions: ['INIT -> BACKUP: startup'], state: 'BACKUP', deadline: 3609.375 },
      { at: 1000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 4609.375, snapshot: { preemptDelayUntil: 6000 } },
      { at: 1500, event: reconfigure({ priority: 200 }), actions: [], state: 'BACKUP', deadline: 4218.75, snapshot: { effectivePriority: 200 } },
      { at: 1600, event: reconfigure({ preemptDelayMs: 0 }), actions: [], state: 'BACKUP', snapshot: { preemptDelayUntil: undefined } },
      { at: 2000, event: adv('192.0.2.2', 50), actions: [], state: 'BACKUP', deadline: 4218.75 },
      { at: 2500, event: reconfigure({ intervalCs: 200 }), actions: [], state: 'BACKUP', deadline: 7218.75 },
    ],
  },
];
