import * as Flags from '@oclif/core/flags';
import { HaCommand, UsageError, stateFlags } from '@ha/lib';
import { editSection } from '../../../edit.js';
import { nameArg } from '../../../flags.js';
import { reloadAgent, socketFlag } from '../../../agent-link.js';

interface Result { file: string; group: string; instances: string[]; agent?: string }

export default class VrrpGroupAdd extends HaCommand<Result> {
  static override summary = 'Add a sync group: instances that change state together.';
  static override description = `Members of a sync group move together: when one becomes master the others follow, and a fault of one takes the whole group to FAULT (keepalived's vrrp_sync_group). Typical use: the outside and inside VIPs of a NAT director must live on the same node. An instance can be in one group.`;

  static override examples = [
    { description: 'Keep the outside and inside VIPs together.', command: '<%= config.bin %> vrrp group add G1 --instance VI_OUT --instance VI_IN' },
  ];

  static override args = { name: nameArg('sync group') };
  static override flags = {
    ...stateFlags,
    ...socketFlag,
    // checked in exec(): oclif's own "missing required flag" error does not come out as one line
    instance: Flags.string({ summary: 'A member instance (repeat the flag; at least one).', multiple: true, helpValue: 'NAME' }),
    'notify-master': Flags.string({ summary: 'Command run when the group becomes MASTER.', helpValue: 'CMD' }),
    'notify-backup': Flags.string({ summary: 'Command run when the group becomes BACKUP.', helpValue: 'CMD' }),
    'notify-fault': Flags.string({ summary: 'Command run when the group enters FAULT.', helpValue: 'CMD' }),
    notify: Flags.string({ summary: 'Command run on every group transition with GROUP <name> <STATE> 0 appended.', helpValue: 'CMD' }),
  };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(VrrpGroupAdd);
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(args.name)) throw new UsageError(`group name "${args.name}" must be 1 to 64 letters, digits, _ . : or -`);
    if (!flags.instance?.length) throw new UsageError('missing --instance (a sync group names at least one instance: --instance A --instance B)');
    const members = [...new Set(flags.instance)];
    const edited = await editSection(this.config, flags.state, (section) => {
      const groups = (section.groups ??= {});
      if (groups[args.name]) throw new UsageError(`sync group ${args.name} already exists`);
      const notify = Object.fromEntries(Object.entries({ master: flags['notify-master'], backup: flags['notify-backup'], fault: flags['notify-fault'], any: flags.notify }).filter(([, v]) => v !== undefined));
      groups[args.name] = { instances: members, ...(Object.keys(notify).length ? { notify } : {}) };
    });
    const agent = await reloadAgent(edited.file, flags.socket);
    return { file: edited.file, group: args.name, instances: members, ...(agent ? { agent } : {}) };
  }

  protected override render(r: Result): string {
    return `Added sync group ${r.group} (${r.instances.join(', ')}) to ${r.file}.${r.agent ? ` ${r.agent}` : ''}`;
  }
}
