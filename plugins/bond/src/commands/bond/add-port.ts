import * as Args from '@oclif/core/args';
import { HaCommand, UsageError } from '@ha/lib';
import { bondArg } from '../../flags.js';
import { Bond, checkNewPorts, enslave, getBond, linksByName, releasePort, setUp } from '../../kernel.js';
import { checkIfname } from '../../options.js';
import { renderBond } from '../../render.js';

export default class BondAddPort extends HaCommand<{ bond: Bond; added: string[] }> {
  static override summary = 'Add ports to a bond.';
  static override description = 'Enslaves each interface, in the order given (IFLA_MASTER). A port must exist, must not be the bond, loopback or another bond, and must not belong to another bond or bridge (remove it there first). The port is set down first; the bond brings it up itself.';
  static override examples = [
    { description: 'Add eth1.', command: '<%= config.bin %> bond add-port bond0 eth1' },
    { description: 'Add two ports.', command: '<%= config.bin %> bond add-port bond0 eth2 eth3' },
  ];
  static override strict = false;
  static override args = {
    name: bondArg(),
    port: Args.string({ description: 'Interface to add (more may follow).', required: true, ignoreStdin: true }),
  };

  protected async exec(): Promise<{ bond: Bond; added: string[] }> {
    const { args, argv } = await this.parse(BondAddPort);
    const names = (argv as string[]).slice(1);
    if (names.length === 0) throw new UsageError('give at least one port to add');
    for (const n of names) checkIfname(n, 'port');
    await this.lockKernel('bonds');
    const bond = await getBond(args.name);
    const ports = checkNewPorts(bond.name, names, await linksByName(), bond.index);
    await this.change(ports.map((p) => ({
      op: 'add' as const, object: `port ${p.name} of bond ${bond.name}`,
      apply: () => enslave(bond, p),
      undo: async () => { await releasePort(bond, p); if (p.up) await setUp(p, true); },
    })), { target: 'the bonds' });
    return { bond: await getBond(bond.name), added: names };
  }

  protected override render(r: { bond: Bond }): string {
    return renderBond(r.bond);
  }
}
