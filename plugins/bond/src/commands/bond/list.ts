import { HaCommand } from '@ha/lib';
import { Bond, listBonds } from '../../kernel.js';
import { renderList } from '../../render.js';

export default class BondList extends HaCommand<{ bonds: Bond[] }> {
  static override summary = 'List the bonds.';
  static override description = 'One line per bond: mode, state, link monitor, active port and each port with its MII status. --json gives every bond in full, as ha bond show does.';
  static override examples = [
    { description: 'The table.', command: '<%= config.bin %> bond list' },
    { description: 'Names of bonds with a port down.', command: "<%= config.bin %> bond list --json | jq -r '.bonds[] | select(any(.ports[]; .miiStatus != \"up\")) | .name'" },
  ];

  protected async exec(): Promise<{ bonds: Bond[] }> {
    await this.parse(BondList);
    return { bonds: await listBonds() };
  }

  protected override render(r: { bonds: Bond[] }): string {
    return renderList(r.bonds);
  }
}
