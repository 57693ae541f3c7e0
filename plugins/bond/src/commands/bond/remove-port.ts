import * as Args from '@oclif/core/args';
import { HaCommand, UsageError } from '@ha/lib';
import { bondArg } from '../../flags.js';
import { Bond, enslave, getBond, releasePort } from '../../kernel.js';
import { renderBond } from '../../render.js';

export default class BondRemovePort extends HaCommand<{ bond: Bond; removed: string[] }> {
  static override summary = 'Remove ports from a bond.';
  static override description = 'Releases each port from the bond (IFLA_MASTER 0). The kernel brings the port down and gives it back its permanent MAC address. Removing the active port makes the bond choose another one.';
  static override examples = [
    { description: 'Release eth1.', command: '<%= config.bin %> bond remove-port bond0 eth1' },
  ];
  static override strict = false;
  static override args = {
    name: bondArg(),
    port: Args.string({ description: 'Port to remove (more may follow).', required: true, ignoreStdin: true }),
  };

  protected async exec(): Promise<{ bond: Bond; removed: string[] }> {
    const { args, argv } = await this.parse(BondRemovePort);
    const names = (argv as string[]).slice(1);
    await this.lockKernel('bonds');
    const bond = await getBond(args.name);
    const ports = names.map((n) => {
      const p = bond.ports.find((x) => x.name === n);
      if (!p) throw new UsageError(`${n} is not a port of bond ${bond.name} (ports: ${bond.ports.map((x) => x.name).join(', ') || 'none'})`);
      return p;
    });
    if (new Set(names).size !== names.length) throw new UsageError('a port is given twice');
    await this.change(ports.map((p) => ({
      op: 'delete' as const, object: `port ${p.name} of bond ${bond.name}`,
      apply: () => releasePort(bond, p),
      undo: () => enslave(bond, { ...p, up: false }),
    })), { target: 'the bonds' });
    return { bond: await getBond(bond.name), removed: names };
  }

  protected override render(r: { bond: Bond }): string {
    return renderBond(r.bond);
  }
}
