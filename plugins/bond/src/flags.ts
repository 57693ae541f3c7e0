/**
 * The bond options as oclif flags, generated from the option table: kebab-case kernel names, with
 * ip(8)'s and nmcli's spellings as aliases, value lists for completion.
 */
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BondOptions, MODE_CHOICES, OPTIONS, OptionSpec, flagName, modeNames, parseOptionValue } from './options.js';

const GROUP = 'BOND OPTIONS';

function helpValue(o: OptionSpec): string {
  if (o.kind === 'int') return o.unit === 'ms' ? 'MS' : o.unit === 's' ? 'SECONDS' : 'N';
  if (o.kind === 'ipv4list') return 'ADDR';
  if (o.kind === 'ipv6list') return 'ADDR6';
  if (o.kind === 'mac') return 'MAC';
  return 'VALUE';
}

function optionFlag(o: OptionSpec) {
  const list = o.kind === 'ipv4list' || o.kind === 'ipv6list';
  const aliases = o.aliases.filter((a) => a !== flagName(o));
  const range = o.kind === 'int' ? ` Range ${o.min ?? 0}-${o.max}.` : '';
  const base = {
    summary: o.summary,
    description: `${o.summary}${range} Modes: ${modeNames(o.modes)}.${o.needs === 'down' ? ' The kernel changes it only while the bond is down.' : ''}${o.needs === 'noports' ? ' The kernel changes it only while the bond has no ports.' : ''} ip(8): ${o.ip}; NetworkManager: ${o.nm}.`,
    helpGroup: GROUP,
    ...(aliases.length ? { aliases } : {}),
  };
  if (o.kind === 'enum') return Flags.string({ ...base, options: [...o.values!] });
  if (o.kind === 'bool') return Flags.string({ ...base, options: ['on', 'off', '1', '0'] });
  if (list) return Flags.string({ ...base, helpValue: helpValue(o), multiple: true, multipleNonGreedy: true, delimiter: ',' });
  return Flags.string({ ...base, helpValue: helpValue(o) });
}

/** Every bond option as a flag. */
export const optionFlags = Object.fromEntries(OPTIONS.map((o) => [flagName(o), optionFlag(o)])) as Record<string, ReturnType<typeof optionFlag>>;

export const modeFlag = (required: boolean) => Flags.string({
  char: 'm',
  summary: 'Bonding mode, by name or number.',
  description: 'balance-rr (0) round robin; active-backup (1) one port at a time; balance-xor (2) by hash; broadcast (3) every port; 802.3ad (4) LACP; balance-tlb (5) adaptive transmit balancing; balance-alb (6) adaptive transmit and receive balancing.',
  options: [...MODE_CHOICES],
  helpValue: 'MODE',
  required,
});

export const primaryFlag = Flags.string({
  summary: 'The port that is active whenever its link is up (active-backup, balance-tlb, balance-alb).',
  helpValue: 'PORT',
  helpGroup: GROUP,
});

export const portsFlag = Flags.string({
  summary: 'Ports to enslave, in order (repeat, or separate with commas).',
  helpValue: 'IF',
  multiple: true,
  multipleNonGreedy: true,
  delimiter: ',',
});

export const bondArg = (description = 'Name of the bond interface.') => Args.string({ description, required: true, ignoreStdin: true });

/** The option values the flags give, keyed by option; UsageError naming a bad value. */
export function optionsFromFlags(flags: Record<string, unknown>): BondOptions {
  const out: BondOptions = {};
  for (const o of OPTIONS) {
    const v = flags[flagName(o)];
    if (v === undefined) continue;
    out[o.key] = parseOptionValue(o, v as string | string[]);
  }
  return out;
}
