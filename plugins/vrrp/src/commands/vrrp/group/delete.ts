import { HaCommand, stateFlags } from '@ha/lib';
import { editSection, missing } from '../../../edit.js';
import { nameArg } from '../../../flags.js';
import { reloadAgent, socketFlag } from '../../../agent-link.js';

interface Result { file: string; deleted: string; agent?: string }

export default class VrrpGroupDelete extends HaCommand<Result> {
  static override summary = 'Delete a sync group; its instances carry on on their own.';
  static override description = 'Removes the group from the state file; the member instances stay and a running agent lets each of them run by itself from now on.';
  static override examples = [{ description: 'Dissolve G1.', command: '<%= config.bin %> vrrp group delete G1' }];
  static override args = { name: nameArg('sync group') };
  static override flags = { ...stateFlags, ...socketFlag };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(VrrpGroupDelete);
    const edited = await editSection(this.config, flags.state, (section) => {
      if (!section.groups?.[args.name]) throw missing('sync group', args.name, section.groups);
      delete section.groups[args.name];
    });
    const agent = await reloadAgent(edited.file, flags.socket);
    return { file: edited.file, deleted: args.name, ...(agent ? { agent } : {}) };
  }

  protected override render(r: Result): string {
    return `Deleted sync group ${r.deleted} from ${r.file}.${r.agent ? ` ${r.agent}` : ''}`;
  }
}
