import { HaCommand, stateFlags } from '@ha/lib';
import { UsageError } from '@ha/lib';
import { editSection, missing } from '../../edit.js';
import { nameArg } from '../../flags.js';
import { reloadAgent, socketFlag } from '../../agent-link.js';

interface Result { file: string; deleted: string; agent?: string }

export default class VrrpDelete extends HaCommand<Result> {
  static override summary = 'Delete a VRRP instance from the state file.';
  static override description = `Removes the instance; a running agent reloads and stops it (as master it first sends a priority-0 advert so the backup takes over at once, and removes its VIPs). An instance that a sync group names is refused until it leaves the group.`;

  static override examples = [
    { description: 'Remove VI_1.', command: '<%= config.bin %> vrrp delete VI_1' },
  ];

  static override args = { name: nameArg() };
  static override flags = { ...stateFlags, ...socketFlag };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(VrrpDelete);
    const edited = await editSection(this.config, flags.state, (section) => {
      if (!section.instances?.[args.name]) throw missing('instance', args.name, section.instances);
      const group = Object.entries(section.groups ?? {}).find(([, g]) => g.instances.includes(args.name));
      if (group) throw new UsageError(`instance ${args.name} is in sync group ${group[0]}; remove it from the group first (ha vrrp group delete ${group[0]})`);
      delete section.instances[args.name];
    });
    const agent = await reloadAgent(edited.file, flags.socket);
    return { file: edited.file, deleted: args.name, ...(agent ? { agent } : {}) };
  }

  protected override render(r: Result): string {
    return `Deleted VRRP instance ${r.deleted} from ${r.file}.${r.agent ? ` ${r.agent}` : ''}`;
  }
}
