import { HaCommand } from '@ha/lib';
import { bondArg } from '../../flags.js';
import { Bond, getBond } from '../../kernel.js';
import { renderBond } from '../../render.js';

export default class BondShow extends HaCommand<{ bond: Bond }> {
  static override summary = 'Show one bond: mode, options, active port, ports.';
  static override description = `Everything the kernel reports about the bond over rtnetlink: mode, state, the options that apply in its mode, the primary and the active port; then each port with its state (active/backup), MII status, carrier, link failure count and permanent MAC address; in 802.3ad also the active aggregator, the partner's MAC address and key, and each port's aggregator and LACP actor/partner state.

Bonds made by other tools (ip link, NetworkManager, ifenslave) are shown the same way.`;
  static override examples = [
    { description: 'Show bond0.', command: '<%= config.bin %> bond show bond0' },
    { description: 'The active port, for a script.', command: "<%= config.bin %> bond show bond0 --json | jq -r .bond.active" },
  ];
  static override args = { name: bondArg() };

  protected async exec(): Promise<{ bond: Bond }> {
    const { args } = await this.parse(BondShow);
    return { bond: await getBond(args.name) };
  }

  protected override render(r: { bond: Bond }): string {
    return renderBond(r.bond);
  }
}
