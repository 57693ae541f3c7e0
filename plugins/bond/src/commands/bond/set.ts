import * as Flags from '@oclif/core/flags';
import { HaCommand, UsageError } from '@ha/lib';
import { bondArg, modeFlag, optionFlags, optionsFromFlags, primaryFlag } from '../../flags.js';
import { Bond, getBond } from '../../kernel.js';
import { changeSteps, planChange, refuseRestricted } from '../../ops.js';
import { FAILOVER_MODES, changedKeys, parseMode, resolveOptions } from '../../options.js';
import { renderBond } from '../../render.js';

interface Result { bond: Bond; changed: string[] }

export default class BondSet extends HaCommand<Result> {
  static override summary = 'Change a bond\'s mode or options.';
  static override description = `Changes options in one request; options not given keep their values. Everything is checked against the bond's mode (the new one, with --mode) before anything is sent.

Some changes the kernel makes only on a bond that is down (--lacp-rate, --lacp-active, --ad-select, --ad-user-port-key, --tlb-dynamic-lb) or that has no ports (--mode, --fail-over-mac). Without --force such a change is refused (exit 2) with a message that says what is needed. With --force ha does it: takes the bond down, releases its ports, makes the change, adds the ports back in their order, sets the primary and active port again and brings the bond up if it was up. Traffic through the bond stops meanwhile.

Turning on ARP monitoring (--arp-interval) turns MII monitoring off and the other way round. Give --primary none to clear the primary port.`;
  static override examples = [
    { description: 'Faster link monitoring with a 200 ms down delay.', command: '<%= config.bin %> bond set bond0 --miimon 50 --downdelay 200' },
    { description: 'Prefer eth1.', command: '<%= config.bin %> bond set bond0 --primary eth1' },
    { description: 'Fast LACP on a running bond (down and up again).', command: '<%= config.bin %> bond set bond1 --lacp-rate fast --force' },
    { description: 'Change the mode of a bond with ports.', command: '<%= config.bin %> bond set bond0 --mode balance-xor --xmit-hash-policy layer2+3 --force' },
  ];
  static override args = { name: bondArg() };
  static override flags = {
    mode: modeFlag(false),
    primary: primaryFlag,
    force: Flags.boolean({ summary: 'Take the bond down and release its ports when the kernel needs it, then restore them.' }),
    ...optionFlags,
  };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(BondSet);
    const given = optionsFromFlags(flags);
    await this.lockKernel('bonds');
    const bond = await getBond(args.name);
    const mode = flags.mode ? parseMode(flags.mode as string)! : bond.mode;
    const options = resolveOptions(mode, given, mode === bond.mode ? bond.options : {}, '');
    let primary = bond.primary;
    const p = flags.primary as string | undefined;
    if (p !== undefined) {
      if (!FAILOVER_MODES.includes(mode)) throw new UsageError(`--primary is not valid in mode ${mode}; it applies to ${FAILOVER_MODES.join(', ')}`);
      if (p === 'none' || p === '') primary = undefined;
      else if (!bond.ports.some((x) => x.name === p)) throw new UsageError(`--primary ${p} is not a port of bond ${bond.name} (ports: ${bond.ports.map((x) => x.name).join(', ') || 'none'})`);
      else primary = p;
    }
    if (!FAILOVER_MODES.includes(mode)) primary = undefined;
    if (Object.keys(given).length === 0 && flags.mode === undefined && p === undefined) {
      throw new UsageError('nothing to change: give --mode, --primary or an option (see the BOND OPTIONS in --help)');
    }
    const plan = planChange(bond, mode, options, primary);
    if (!flags.force) refuseRestricted(bond, plan);
    const changed = [...(plan.modeChange ? ['mode'] : []), ...changedKeys(bond.options, options).filter((k) => options[k] !== undefined), ...(plan.primaryChange ? ['primary'] : [])];
    if (changed.length === 0) return { bond, changed: [] };
    await this.change(changeSteps(bond, mode, plan, primary), { target: 'the bonds' });
    return { bond: await getBond(bond.name), changed };
  }

  protected override render(r: Result): string {
    return `${r.changed.length ? `Changed ${r.changed.join(', ')}.` : 'Nothing changed: the bond already has these settings.'}\n\n${renderBond(r.bond)}`;
  }
}
