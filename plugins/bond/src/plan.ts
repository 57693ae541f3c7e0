/**
 * Converging the kernel's bonds to a bonds section: bonds the section does not name are deleted,
 * missing ones created, and a bond that exists is changed in place: ports released and added one
 * by one, options changed in one request. A bond whose mode is unchanged is never torn down;
 * only options the kernel changes on a down bond (or one without ports) take it down briefly.
 * Every step has its undo, which restore runs, newest first, when a later step fails.
 */
import type { Step } from '@ha/lib/state';
import { Bond, deleteBond, enslave, findBond, getBond, listBonds, releasePort, setUp } from './kernel.js';
import { applyChange, createWithPorts, freePort, planChange } from './ops.js';
import { BondOptions, Mode, OPTIONS, changedKeys, valueText } from './options.js';
import { BondsSection, normalizeEntry } from './section.js';

interface Want { mode: Mode; options: BondOptions; ports: string[]; primary?: string; up: boolean }

function describe(w: Want): string {
  const opts = OPTIONS.filter((o) => w.options[o.key] !== undefined).map((o) => `${o.key} ${valueText(w.options[o.key])}`);
  return [w.mode, ...opts, w.ports.length ? `ports ${w.ports.join(',')}` : 'no ports', ...(w.primary ? [`primary ${w.primary}`] : []), ...(w.up ? [] : ['down'])].join(', ');
}

const wantOf = (b: Bond): Want => ({ mode: b.mode, options: b.options, ports: b.ports.map((p) => p.name), ...(b.primary ? { primary: b.primary } : {}), up: b.up });

async function create(name: string, w: Want): Promise<void> {
  await createWithPorts({ name, mode: w.mode, options: w.options, ports: w.ports, ...(w.primary ? { primary: w.primary } : {}), up: w.up });
}

async function setAdmin(name: string, up: boolean): Promise<void> {
  await setUp(await getBond(name), up);
}

async function remove(name: string): Promise<void> {
  const b = await findBond(name);
  if (b) await deleteBond(b);
}

/** Change mode/options/primary of the bond as it is when the step runs. */
async function change(name: string, w: Pick<Want, 'mode' | 'options' | 'primary'>): Promise<void> {
  const cur = await getBond(name);
  const p = planChange(cur, w.mode, w.options, w.primary);
  await applyChange(cur, w.mode, p, w.primary);
}

async function addPort(bond: string, port: string): Promise<void> {
  const b = await getBond(bond);
  await enslave(b, await freePort(bond, port));
}

async function removePort(bond: string, port: string): Promise<void> {
  const b = await getBond(bond);
  const p = b.ports.find((x) => x.name === port);
  if (p) await releasePort(b, p);
}

export function changeText(cur: Bond, w: Want): string[] {
  const out: string[] = [];
  if (cur.mode !== w.mode) out.push(`mode ${cur.mode} -> ${w.mode}`);
  const keys = cur.mode !== w.mode ? Object.keys(w.options) : changedKeys(cur.options, w.options).filter((k) => w.options[k] !== undefined);
  for (const k of keys) if (cur.mode === w.mode || valueText(cur.options[k]) !== valueText(w.options[k])) out.push(`${k} ${valueText(cur.options[k])} -> ${valueText(w.options[k])}`);
  if ((cur.primary ?? '') !== (w.primary ?? '') && ['active-backup', 'balance-tlb', 'balance-alb'].includes(w.mode)) {
    out.push(`primary ${cur.primary ?? 'none'} -> ${w.primary ?? 'none'}`);
  }
  return out;
}

export async function planBonds(section: BondsSection, current?: Bond[]): Promise<Step[]> {
  const now = new Map((current ?? await listBonds()).map((b) => [b.name, b]));
  const want = new Map(Object.entries(section).map(([name, e]) => [name, normalizeEntry(name, e) as Want]));
  const deletes: Step[] = [];
  const releases: Step[] = [];
  const adds: Step[] = [];
  const changes: Step[] = [];
  const creates: Step[] = [];
  const admin: Step[] = [];

  for (const [name, b] of now) {
    if (want.has(name)) continue;
    const old = wantOf(b);
    deletes.push({ op: 'delete', object: `bond ${name}`, detail: describe(old), apply: () => remove(name), undo: () => create(name, old) });
  }
  for (const [name, w] of want) {
    const cur = now.get(name);
    if (!cur) {
      creates.push({ op: 'add', object: `bond ${name}`, detail: describe(w), apply: () => create(name, w), undo: () => remove(name) });
      continue;
    }
    const curPorts = cur.ports.map((p) => p.name);
    for (const p of curPorts) {
      if (w.ports.includes(p)) continue;
      releases.push({ op: 'delete', object: `port ${p} of bond ${name}`, apply: () => removePort(name, p), undo: () => addPort(name, p) });
    }
    for (const p of w.ports) {
      if (curPorts.includes(p)) continue;
      adds.push({ op: 'add', object: `port ${p} of bond ${name}`, apply: () => addPort(name, p), undo: () => removePort(name, p) });
    }
    const text = changeText(cur, w);
    if (text.length) {
      const old = { mode: cur.mode, options: cur.options, ...(cur.primary ? { primary: cur.primary } : {}) };
      changes.push({
        op: 'change', object: `bond ${name}`, detail: text.join(', '),
        apply: () => change(name, w),
        undo: async () => { await change(name, old); if (cur.up) await setUp(cur, true).catch(() => undefined); },
      });
    }
    if (cur.up !== w.up) {
      admin.push({ op: 'change', object: `bond ${name}`, detail: w.up ? 'down -> up' : 'up -> down', apply: () => setAdmin(name, w.up), undo: () => setAdmin(name, cur.up) });
    }
  }
  // ports leave their old bonds before they join new ones; primaries are set once the ports are in
  return [...deletes, ...releases, ...adds, ...changes, ...creates, ...admin];
}
