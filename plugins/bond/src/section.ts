/**
 * The bonds section of the state file: `{"bond0": {"mode": …, "options": {…}, "ports": […],
 * "primary": …}}`, keyed by interface name. Its JSON Schema comes from the option table; the
 * cross-field checks (options against the mode, primary among the ports, a port in one bond only)
 * are the same the commands make.
 */
import type { JsonSchema } from '@ha/lib/state';
import { UsageError } from '@ha/lib';
import { Bond } from './kernel.js';
import { BondOptions, FAILOVER_MODES, MAX_TARGETS, MODES, Mode, OPTIONS, OptionSpec, checkIfname, modeNames, resolveOptions } from './options.js';

export interface BondEntry {
  mode: Mode;
  options?: BondOptions;
  ports?: string[];
  primary?: string;
  /** Administrative state: up (the default) or down. */
  up?: boolean;
}

export type BondsSection = Record<string, BondEntry>;

function optionSchema(o: OptionSpec): JsonSchema {
  const description = `${o.summary} Modes: ${modeNames(o.modes)}.`;
  switch (o.kind) {
    case 'int': return { type: 'integer', minimum: o.min ?? 0, maximum: o.max!, description };
    case 'enum': return { enum: [...o.values!], description };
    case 'bool': return { type: 'boolean', description };
    case 'mac': return { type: 'string', pattern: '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$', description };
    case 'ipv4list': return { type: 'array', maxItems: MAX_TARGETS, uniqueItems: true, items: { type: 'string', format: 'ipv4' }, description };
    case 'ipv6list': return { type: 'array', maxItems: MAX_TARGETS, uniqueItems: true, items: { type: 'string', format: 'ipv6' }, description };
  }
}

const ifname = { type: 'string', format: 'ifname' } as const;

const bondSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['mode'],
  properties: {
    mode: { enum: [...MODES] },
    options: {
      type: 'object',
      additionalProperties: false,
      description: 'Kernel bond options by name. Options left out keep the value the bond has (a new bond gets the kernel default; miimon defaults to 100 unless arp_interval is set).',
      properties: Object.fromEntries(OPTIONS.map((o) => [o.key, optionSchema(o)])),
    },
    ports: { type: 'array', uniqueItems: true, items: ifname, description: 'Ports, in the order they are enslaved.' },
    primary: { ...ifname, description: 'Primary port (active-backup, balance-tlb, balance-alb); one of the ports.' },
    up: { type: 'boolean', description: 'Administrative state (ip link set BOND up/down); default true.' },
  },
};

export const bondsSectionSchema: JsonSchema = {
  type: 'object',
  description: 'Bonding interfaces by name: mode, options, ports and primary port (ha bond).',
  additionalProperties: bondSchema,
  propertyNames: { type: 'string', format: 'ifname' },
};

/** Fill in what a hand-written entry leaves out (link monitoring default); throws UsageError. */
export function normalizeEntry(name: string, e: BondEntry): Required<Omit<BondEntry, 'primary'>> & { primary?: string } {
  const options = resolveOptions(e.mode, e.options ?? {}, {}, `bond ${name}`);
  const out = { mode: e.mode, options, ports: [...(e.ports ?? [])], up: e.up ?? true } as Required<Omit<BondEntry, 'primary'>> & { primary?: string };
  if (e.primary !== undefined) out.primary = e.primary;
  return out;
}

export function checkSection(section: BondsSection): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const owner = new Map<string, string>();
  for (const [name, e] of Object.entries(section)) {
    const at = `[${JSON.stringify(name)}]`;
    try {
      checkIfname(name, 'bond name');
      normalizeEntry(name, e);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problems.push([at, error.message.replace(`bond ${name}: `, '')]);
      continue;
    }
    if (e.primary !== undefined) {
      if (!FAILOVER_MODES.includes(e.mode)) problems.push([`${at}.primary`, `a primary port is not valid in mode ${e.mode}; it applies to ${FAILOVER_MODES.join(', ')}`]);
      else if (!(e.ports ?? []).includes(e.primary)) problems.push([`${at}.primary`, `${e.primary} is not one of the bond's ports`]);
    }
    for (const p of e.ports ?? []) {
      if (p === name) problems.push([`${at}.ports`, 'a bond cannot be its own port']);
      else if (section[p]) problems.push([`${at}.ports`, `${p} is a bond; ha does not nest bonds`]);
      else if (owner.has(p)) problems.push([`${at}.ports`, `${p} is also a port of bond ${owner.get(p)}`]);
      else owner.set(p, name);
    }
  }
  return problems;
}

/** The saved form of the kernel's bonds. */
export function toSection(bonds: Bond[]): BondsSection {
  const out: BondsSection = {};
  for (const b of bonds) {
    const e: BondEntry = { mode: b.mode, options: { ...b.options }, ports: b.ports.map((p) => p.name) };
    if (b.primary) e.primary = b.primary;
    // up is the default: written only for a bond that is down
    if (!b.up) e.up = false;
    out[b.name] = e;
  }
  return out;
}
