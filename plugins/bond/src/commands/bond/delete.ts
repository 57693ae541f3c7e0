import { HaCommand } from '@ha/lib';
import { bondArg } from '../../flags.js';
import { deleteBond, getBond } from '../../kernel.js';
import { createWithPorts } from '../../ops.js';

interface Result { deleted: string; ports: string[] }

export default class BondDelete extends HaCommand<Result> {
  static override summary = 'Delete a bond; its ports are released.';
  static override description = 'Removes the bonding interface. The kernel releases its ports first, which keep their own settings (they come back down, with their permanent MAC addresses). Refuses an interface that is not a bond.';
  static override examples = [
    { description: 'Remove bond0.', command: '<%= config.bin %> bond delete bond0' },
  ];
  static override args = { name: bondArg() };

  protected async exec(): Promise<Result> {
    const { args } = await this.parse(BondDelete);
    await this.lockKernel('bonds');
    const bond = await getBond(args.name);
    const spec = { name: bond.name, mode: bond.mode, options: bond.options, ports: bond.ports.map((p) => p.name), ...(bond.primary ? { primary: bond.primary } : {}), up: bond.up };
    await this.change({
      op: 'delete', object: `bond ${bond.name}`,
      apply: () => deleteBond(bond),
      // the bond comes back as it was: mode, options, ports, primary, up
      undo: () => createWithPorts(spec).then(() => undefined),
    }, { target: 'the bonds' });
    return { deleted: bond.name, ports: bond.ports.map((p) => p.name) };
  }

  protected override render(r: Result): string {
    return `Deleted bond ${r.deleted}${r.ports.length ? `; released ${r.ports.join(', ')}` : ''}.`;
  }
}
