import { HaCommand, UsageError, stateFlags } from '@ha/lib';
import { editSection, missing } from '../../edit.js';
import { applyFlags, instanceFlags, nameArg } from '../../flags.js';
import { InstanceView, describeInstance, renderInstances } from '../../render.js';
import { reloadAgent, socketFlag } from '../../agent-link.js';

interface Result { file: string; changed: InstanceView; agent?: string }

export default class VrrpSet extends HaCommand<Result> {
  static override summary = 'Change a VRRP instance in the state file.';
  static override description = `Changes the settings given and keeps the others; a list flag (--vip, --unicast-peer, --track-…) replaces the whole list. The file is validated as a whole and written atomically, then a running agent reloads: a master whose priority or VIPs change stays master when it still wins, without an election.`;

  static override examples = [
    { description: 'Raise the priority.', command: '<%= config.bin %> vrrp set VI_1 --priority 200' },
    { description: 'Replace the VIPs.', command: '<%= config.bin %> vrrp set VI_1 --vip 192.0.2.100/24 --vip 192.0.2.101/24' },
    { description: 'Turn preemption back on.', command: '<%= config.bin %> vrrp set VI_1 --no-nopreempt' },
  ];

  static override args = { name: nameArg() };
  static override flags = { ...stateFlags, ...socketFlag, ...instanceFlags };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(VrrpSet);
    const given = Object.keys(flags).filter((k) => k !== 'state' && k !== 'socket' && k !== 'json' && (flags as Record<string, unknown>)[k] !== undefined);
    if (given.length === 0) throw new UsageError('nothing to change: give at least one setting (see ha vrrp set --help)');
    const edited = await editSection(this.config, flags.state, (section) => {
      const i = section.instances?.[args.name];
      if (!i) throw missing('instance', args.name, section.instances);
      applyFlags(i, flags);
      return describeInstance(args.name, i);
    });
    const agent = await reloadAgent(edited.file, flags.socket);
    return { file: edited.file, changed: edited.result, ...(agent ? { agent } : {}) };
  }

  protected override render(r: Result): string {
    return `Changed VRRP instance ${r.changed.name} in ${r.file}.${r.agent ? ` ${r.agent}` : ''}\n${renderInstances([r.changed])}`;
  }
}
