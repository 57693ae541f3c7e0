/**
 * The multi-request operations the commands and the state section share: create a bond with its
 * ports, and change a bond's mode or options, including the down / release / re-add sequence
 * the kernel needs for some of them, after which the bond is put back as it was. Each is a list of
 * steps for the step engine (@ha/lib steps.ts): a failure or a signal midway undoes what was made.
 */
import { OperationError, UsageError, applyAllOrNone, type Step } from '@ha/lib';
import { Link, getLink, listLinks } from '@ha/lib/netlink';
import {
  Bond, changeBond, createBond, deleteBond, describeRestricted, enslave, findBond, getBond, releasePort, setUp,
} from './kernel.js';
import {
  BondOptions, FAILOVER_MODES, Mode, OPTIONS, applicable, changedKeys, modeNumber, restrictions,
} from './options.js';

export interface BondSpec {
  name: string;
  mode: Mode;
  /** Complete options (resolveOptions' result). */
  options: BondOptions;
  ports: string[];
  primary?: string;
  /** Bring the bond up (default true). */
  up?: boolean;
}

/**
 * A port by name, refusing one that belongs to another master: the kernel would silently move it
 * out of its bridge or bond (exit 1 naming the owner).
 */
export async function freePort(bond: string, name: string): Promise<Link> {
  const link = await getLink(name);
  if (link.master) {
    const owner = await getLinkByIndex(link.master);
    if (owner !== bond) throw new OperationError(`port ${name} is enslaved to ${owner}: remove it there first`, 'EBUSY');
  }
  return link;
}

async function getLinkByIndex(index: number): Promise<string> {
  return (await listLinks()).find((l) => l.index === index)?.name ?? `#${index}`;
}

type PortRef = Pick<Link, 'name' | 'index' | 'up'>;

/** The bond named, as it is when a step runs (its index exists only once it is created). */
async function self(name: string): Promise<{ name: string; index: number }> {
  return { name, index: (await getLink(name)).index };
}

/**
 * Steps that create the bond, enslave its ports in order, set the primary and bring it up; undone,
 * the bond goes down, loses its primary and ports, and is deleted.
 */
export async function createSteps(spec: BondSpec, ports?: PortRef[]): Promise<Step[]> {
  const list = ports ?? await Promise.all(spec.ports.map((p) => freePort(spec.name, p)));
  const bond = `bond ${spec.name}`;
  const steps: Step[] = [{
    op: 'add', object: bond, detail: spec.mode,
    apply: () => createBond(spec.name, spec.mode, spec.options),
    undo: async () => {
      const made = await findBond(spec.name);
      if (made) await deleteBond(made);
    },
  }];
  for (const p of list) {
    steps.push({
      op: 'add', object: `port ${p.name} of ${bond}`,
      apply: async () => enslave(await self(spec.name), p),
      undo: async () => {
        await releasePort({ name: spec.name }, p);
        if (p.up) await setUp(p, true);
      },
    });
  }
  if (spec.primary) {
    const primary = spec.primary;
    steps.push({
      op: 'change', object: bond, detail: `primary ${primary}`,
      apply: async () => {
        const p = list.find((x) => x.name === primary) ?? await getLink(primary);
        await changeBond(await self(spec.name), { primary: p.index });
      },
      undo: async () => changeBond(await self(spec.name), { primary: 0 }),
    });
  }
  if (spec.up !== false) {
    steps.push({ op: 'change', object: bond, detail: 'up', apply: async () => setUp(await self(spec.name), true), undo: async () => setUp(await self(spec.name), false) });
  }
  return steps;
}

/** Create the bond with its ports, all or nothing (for a state-section step made of several requests). */
export async function createWithPorts(spec: BondSpec, ports?: PortRef[]): Promise<Bond> {
  await applyAllOrNone(await createSteps(spec, ports));
  return getBond(spec.name);
}

export interface ChangePlan {
  /** Keys whose values change. */
  keys: string[];
  /** What is sent. */
  options: BondOptions;
  modeChange: boolean;
  /** The bond must go down first / its ports must be released first. */
  needDown: boolean;
  needNoPorts: boolean;
  primaryChange: boolean;
}

/** What changing `bond` to (mode, options, primary) takes. `options` are complete (resolved). */
export function planChange(bond: Bond, mode: Mode, options: BondOptions, primary: string | undefined): ChangePlan {
  const modeChange = mode !== bond.mode;
  const keys = modeChange ? Object.keys(options) : changedKeys(bond.options, options).filter((k) => options[k] !== undefined);
  const send: BondOptions = {};
  for (const k of keys) send[k] = options[k]!;
  if (!modeChange) {
    // delays are kept as multiples of miimon: a new miimon needs them again, in milliseconds
    if (keys.includes('miimon')) for (const k of ['updelay', 'downdelay', 'peer_notify_delay']) if (options[k] !== undefined) send[k] = options[k]!;
    // switching ARP monitoring on: send its targets and settings with it
    if (keys.includes('arp_interval')) {
      for (const o of OPTIONS) if (o.group === 'arp' && options[o.key] !== undefined) send[o.key] = options[o.key]!;
    }
  }
  // the monitors go together so that the kernel never sees both on
  if (send.miimon !== undefined || send.arp_interval !== undefined) {
    if (options.miimon !== undefined) send.miimon = options.miimon;
    if (options.arp_interval !== undefined) send.arp_interval = options.arp_interval;
  }
  const r = restrictions(Object.keys(send));
  const primaryChange = (primary ?? '') !== (bond.primary ?? '') && FAILOVER_MODES.includes(mode);
  return {
    keys,
    options: send,
    modeChange,
    needDown: bond.up && (modeChange || r.down.length > 0),
    needNoPorts: bond.ports.length > 0 && (modeChange || r.noports.length > 0),
    primaryChange,
  };
}

/** Refuse (exit 2) a change the kernel only takes on a down bond or one without ports, saying how. */
export function refuseRestricted(bond: Bond, plan: ChangePlan): void {
  const r = restrictions(plan.keys);
  if (plan.needNoPorts) {
    const what = plan.modeChange ? `changing the mode (${bond.mode} -> another)` : `changing ${describeRestricted(r.noports)}`;
    throw new UsageError(`bond ${bond.name}: ${what} needs a bond without ports and down; give --force to have ha take it down, release ${bond.ports.map((p) => p.name).join(', ')}, change it, and put everything back`);
  }
  if (plan.needDown) {
    throw new UsageError(`bond ${bond.name}: changing ${plan.modeChange ? 'the mode' : describeRestricted(r.down)} needs the bond down; run "ip link set ${bond.name} down" first, or give --force to have ha take it down and up again`);
  }
}

/**
 * Steps that change a bond. With the down/release sequence when the plan needs it: the bond goes
 * down, its ports are released, the change is made, the ports are added back in their order, the
 * primary and the active port are set again, and the bond comes back up if it was up. Undone
 * newest first, each step puts back what it changed, so the bond ends as it was.
 */
export function changeSteps(bond: Bond, mode: Mode, plan: ChangePlan, primary: string | undefined): Step[] {
  const ports = bond.ports.map((p) => ({ name: p.name, index: p.index, up: false }));
  const object = `bond ${bond.name}`;
  const steps: Step[] = [];
  const down = (plan.needDown || plan.needNoPorts) && bond.up;
  if (down) steps.push({ op: 'change', object, detail: 'down', apply: () => setUp(bond, false), undo: () => setUp(bond, true) });
  if (plan.needNoPorts) {
    for (const p of ports) {
      steps.push({ op: 'delete', object: `port ${p.name} of ${object}`, apply: () => releasePort(bond, p), undo: () => enslave(bond, p) });
    }
  }
  if (plan.modeChange || Object.keys(plan.options).length > 0) {
    const back: BondOptions = {};
    for (const k of Object.keys(plan.options)) if (bond.options[k] !== undefined) back[k] = bond.options[k]!;
    steps.push({
      op: 'change', object, detail: plan.keys.join(', ') || 'mode',
      apply: () => changeBond(bond, { ...(plan.modeChange ? { mode } : {}), options: plan.options }),
      undo: () => changeBond(bond, { ...(plan.modeChange ? { mode: bond.mode } : {}), options: plan.modeChange ? bond.options : back }),
    });
  }
  if (plan.needNoPorts) {
    for (const p of ports) {
      steps.push({ op: 'add', object: `port ${p.name} of ${object}`, apply: () => enslave(bond, p), undo: () => releasePort(bond, p) });
    }
  }
  if (FAILOVER_MODES.includes(mode) && (plan.primaryChange || (plan.needNoPorts && primary))) {
    const was = bond.primary ? bond.ports.find((x) => x.name === bond.primary) : undefined;
    steps.push({
      op: 'change', object, detail: `primary ${primary ?? 'none'}`,
      apply: async () => {
        const p = primary ? bond.ports.find((x) => x.name === primary) ?? await getLink(primary) : undefined;
        await changeBond(bond, { primary: p ? p.index : 0 });
      },
      undo: () => changeBond(bond, { primary: was ? was.index : 0 }),
    });
  }
  if (down) steps.push({ op: 'change', object, detail: 'up', apply: () => setUp(bond, true), undo: () => setUp(bond, false) });
  if (bond.active && FAILOVER_MODES.includes(mode) && plan.needNoPorts && !primary) {
    // the port that was active becomes active again, where the kernel lets it (best effort)
    const a = bond.ports.find((p) => p.name === bond.active);
    if (a) steps.push({ op: 'change', object, detail: `active ${a.name}`, apply: () => changeBond(bond, { active: a.index }).catch(() => undefined), undo: async () => undefined });
  }
  return steps;
}

/** Change a bond, all or nothing (for a state-section step made of several requests). */
export async function applyChange(bond: Bond, mode: Mode, plan: ChangePlan, primary: string | undefined): Promise<Bond> {
  await applyAllOrNone(changeSteps(bond, mode, plan, primary));
  return getBond(bond.name);
}

/** The active port after `failover`: the one asked for, or the next port that is up. */
export function pickFailoverTarget(bond: Bond, to?: string): string {
  if (!FAILOVER_MODES.includes(bond.mode)) {
    throw new UsageError(`bond ${bond.name} is in mode ${bond.mode}, which has no active port; failover works in ${FAILOVER_MODES.join(', ')}`);
  }
  if (to !== undefined) {
    const p = bond.ports.find((x) => x.name === to);
    if (!p) throw new UsageError(`${to} is not a port of bond ${bond.name} (ports: ${bond.ports.map((x) => x.name).join(', ') || 'none'})`);
    if (p.miiStatus !== 'up' || !p.up) throw new OperationError(`port ${to} of bond ${bond.name} cannot become active: its link is ${p.miiStatus}`, 'ENOLINK');
    return to;
  }
  const order = bond.ports;
  const start = Math.max(0, order.findIndex((p) => p.name === bond.active));
  for (let i = 1; i <= order.length; i++) {
    const p = order[(start + i) % order.length]!;
    if (p.name !== bond.active && p.miiStatus === 'up' && p.up) return p.name;
  }
  throw new OperationError(`bond ${bond.name} has no other port whose link is up to fail over to`, 'ENOLINK');
}

export { applicable, modeNumber };
