import * as Args from '@oclif/core/args';
import { HaCommand, wholeNumberFlag } from '@ha/lib';
import { callAgent, socketFlag } from '../../agent-link.js';
import type { InstanceStatus } from '../../speaker.js';

export default class VrrpDemote extends HaCommand<InstanceStatus> {
  static override summary = 'Lower an instance\'s effective priority at run time (maintenance), without touching the file.';
  static override description = `Subtracts N from the effective priority (as CARP's demotion counter), so that a peer with a higher priority takes over; the state file is not changed and the demotion ends when the agent restarts or with ha vrrp promote. The address owner (priority 255) cannot be demoted. Shown in ha vrrp status.`;

  static override examples = [
    { description: 'Hand the VIP to the backup before maintenance.', command: '<%= config.bin %> vrrp demote VI_1 --by 100' },
  ];

  static override args = { name: Args.string({ required: true, description: 'The instance.' }) };
  static override flags = { ...socketFlag, by: wholeNumberFlag({ summary: 'How much to subtract (1-254).', range: { min: 1, max: 254 }, }) };

  protected async exec(): Promise<InstanceStatus> {
    const { args, flags } = await this.parse(VrrpDemote);
    return callAgent<InstanceStatus>(flags.socket, 'vrrp.demote', { name: args.name, by: flags.by ?? 254 });
  }

  protected override render(r: InstanceStatus): string {
    return `${r.name}: effective priority ${r.effectivePriority} (base ${r.basePriority}), ${r.state}.`;
  }
}
