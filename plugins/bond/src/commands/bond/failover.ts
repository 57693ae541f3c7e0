import * as Flags from '@oclif/core/flags';
import { HaCommand, OperationError } from '@ha/lib';
import { bondArg } from '../../flags.js';
import { Bond, changeBond, getBond } from '../../kernel.js';
import { pickFailoverTarget } from '../../ops.js';

interface Result { bond: Bond; from?: string; to: string }

export default class BondFailover extends HaCommand<Result> {
  static override summary = 'Move the active port (active-backup, balance-tlb, balance-alb).';
  static override description = 'Makes another port the active one (IFLA_BOND_ACTIVE_SLAVE): the one given with --to, or else the next port after the active one whose link is up. The port must belong to the bond and have its link up. A primary port takes over again when its link comes back, depending on --primary-reselect.';
  static override examples = [
    { description: 'Switch to the other port.', command: '<%= config.bin %> bond failover bond0' },
    { description: 'Switch to eth1.', command: '<%= config.bin %> bond failover bond0 --to eth1' },
  ];
  static override args = { name: bondArg() };
  static override flags = {
    to: Flags.string({ summary: 'The port to make active.', helpValue: 'PORT' }),
  };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(BondFailover);
    await this.lockKernel('bonds');
    const bond = await getBond(args.name);
    const to = pickFailoverTarget(bond, flags.to);
    const port = bond.ports.find((p) => p.name === to)!;
    const was = bond.ports.find((p) => p.name === bond.active);
    if (bond.active !== to) {
      await this.change({
        op: 'change', object: `bond ${bond.name}`, detail: `active ${bond.active ?? 'none'} -> ${to}`,
        apply: () => changeBond(bond, { active: port.index }),
        undo: async () => { if (was) await changeBond(bond, { active: was.index }); },
      }, { target: 'the bonds' });
    }
    const after = await getBond(bond.name);
    if (after.active !== to) throw new OperationError(`bond ${bond.name}: the kernel kept ${after.active ?? 'no port'} active instead of ${to}`);
    return bond.active ? { bond: after, from: bond.active, to } : { bond: after, to };
  }

  protected override render(r: Result): string {
    return `Active port of ${r.bond.name}: ${r.from && r.from !== r.to ? `${r.from} -> ` : ''}${r.to}.`;
  }
}
