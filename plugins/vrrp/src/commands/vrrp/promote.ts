import * as Args from '@oclif/core/args';
import { HaCommand, wholeNumberFlag } from '@ha/lib';
import { callAgent, socketFlag } from '../../agent-link.js';
import type { InstanceStatus } from '../../speaker.js';

export default class VrrpPromote extends HaCommand<InstanceStatus> {
  static override summary = 'End a demotion, or hold an instance\'s effective priority at a value, at run time.';
  static override description = `Without --to: undoes ha vrrp demote (the priority is the configured one with its trackers again). With --to P: the effective priority is P (1-254) whatever the trackers say, until promote without --to or an agent restart. The state file is not changed.`;

  static override examples = [
    { description: 'After maintenance.', command: '<%= config.bin %> vrrp promote VI_1' },
    { description: 'Make this node win for now.', command: '<%= config.bin %> vrrp promote VI_1 --to 250' },
  ];

  static override args = { name: Args.string({ required: true, description: 'The instance.' }) };
  static override flags = { ...socketFlag, to: wholeNumberFlag({ summary: 'Hold the effective priority at this value (1-254).', range: { min: 1, max: 254 } }) };

  protected async exec(): Promise<InstanceStatus> {
    const { args, flags } = await this.parse(VrrpPromote);
    return callAgent<InstanceStatus>(flags.socket, 'vrrp.promote', { name: args.name, ...(flags.to !== undefined ? { to: flags.to } : {}) });
  }

  protected override render(r: InstanceStatus): string {
    return `${r.name}: effective priority ${r.effectivePriority} (base ${r.basePriority}), ${r.state}.`;
  }
}
