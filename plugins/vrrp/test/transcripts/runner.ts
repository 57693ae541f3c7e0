/**
 * Conformance transcripts for the state machine: a configuration, then numbered steps of (time
 * on a simulated clock, event) with the actions expected back, the state after, the timer after
 * and any snapshot fields to check. Actions are compared in a one-line text form, so a
 * transcript reads like a log: "advert 100", "add-vips", "BACKUP -> MASTER: master down timer
 * expired", "vips-changed +192.0.2.101/24 -192.0.2.100/24".
 */
import assert from 'node:assert/strict';
import { VrrpMachine } from '../../src/machine.js';
import type { Advert, InstanceConfig, MachineAction, MachineEvent, MachineSnapshot, VrrpState } from '../../src/types.js';

export type StepEvent = MachineEvent | { type: 'reconfigure'; config: Partial<InstanceConfig> };

export interface Step {
  at: number;
  event: StepEvent;
  actions: string[];
  state: VrrpState;
  /** The timer after the step (null: none); omitted: not checked. */
  deadline?: number | null;
  snapshot?: Partial<MachineSnapshot>;
}

export interface Transcript {
  name: string;
  config?: Partial<InstanceConfig>;
  steps: Step[];
}

export const BASE_CONFIG: InstanceConfig = {
  name: 'VI_1',
  version: 2,
  family: 4,
  vrid: 51,
  priority: 100,
  intervalCs: 100,
  nopreempt: false,
  preemptDelayMs: 0,
  accept: false,
  primaryAddress: '192.0.2.10',
  vips: ['192.0.2.100/24'],
};

export function formatAction(a: MachineAction): string {
  switch (a.type) {
    case 'send-advert': return `advert ${a.priority}`;
    case 'transition': return `${a.from} -> ${a.to}: ${a.reason}`;
    case 'vips-changed': return ['vips-changed', ...a.added.map((v) => `+${v}`), ...a.removed.map((v) => `-${v}`)].join(' ');
    default: return a.type;
  }
}

// ---- event shorthands

export const startup: MachineEvent = { type: 'startup' };
export const tick: MachineEvent = { type: 'tick' };
export const shutdown: MachineEvent = { type: 'shutdown' };
export const prio = (effective: number): MachineEvent => ({ type: 'priority', effective });
export const fault = (reason: string): MachineEvent => ({ type: 'fault', failed: true, reason });
export const recover = (reason: string): MachineEvent => ({ type: 'fault', failed: false, reason });
export const reconfigure = (config: Partial<InstanceConfig>): StepEvent => ({ type: 'reconfigure', config });

/** An advert from `source` with `priority` (interval in cs), for an instance of `version`/`family`. */
export function adv(source: string, priority: number, intervalCs = 100, version: 2 | 3 = 2): MachineEvent {
  const advert: Advert = {
    version, family: source.includes(':') ? 6 : 4, vrid: 51, priority, intervalCs,
    addresses: [], authType: 0,
  };
  return { type: 'advert', source, advert };
}

function describe(e: StepEvent): string {
  switch (e.type) {
    case 'advert': return `advert ${e.advert.priority} from ${e.source} (${e.advert.intervalCs} cs)`;
    case 'priority': return `priority ${e.effective}`;
    case 'fault': return `fault ${e.failed ? 'failed' : 'recovered'}: ${e.reason}`;
    case 'reconfigure': return `reconfigure ${JSON.stringify(e.config)}`;
    default: return e.type;
  }
}

/** Play a transcript; an AssertionError names the transcript, the step and what differed. */
export function play(t: Transcript): VrrpMachine {
  let config: InstanceConfig = { ...BASE_CONFIG, ...t.config };
  const m = new VrrpMachine(config);
  t.steps.forEach((s, i) => {
    const where = `${t.name}, step ${i + 1} (t=${s.at}, ${describe(s.event)})`;
    let actions: MachineAction[];
    if (s.event.type === 'reconfigure') {
      config = { ...config, ...s.event.config };
      actions = m.reconfigure(config, s.at);
    } else {
      actions = m.handle(s.event, s.at);
    }
    assert.deepEqual(actions.map(formatAction), s.actions, `${where}: actions`);
    assert.equal(m.state, s.state, `${where}: state`);
    if (s.deadline !== undefined) assert.equal(m.nextDeadline(), s.deadline ?? undefined, `${where}: next deadline`);
    if (s.snapshot) {
      const snap = m.snapshot(s.at) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(s.snapshot)) assert.deepEqual(snap[k], v, `${where}: snapshot.${k}`);
    }
  });
  return m;
}
