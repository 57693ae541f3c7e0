import { HaCommand, UsageError, stateFlags } from '@ha/lib';
import { editSection, missing } from '../../../edit.js';
import { nameArg } from '../../../flags.js';
import { reloadAgent, socketFlag } from '../../../agent-link.js';

interface Result { file: string; deleted: string; agent?: string }

export default class VrrpScriptDelete extends HaCommand<Result> {
  static override summary = 'Delete a tracked script.';
  static override description = 'Removes the script from the state file. A script that an instance still tracks is refused: remove it from the instance first (ha vrrp set NAME --track-script …).';
  static override examples = [{ description: 'Remove chk_haproxy.', command: '<%= config.bin %> vrrp script delete chk_haproxy' }];
  static override args = { name: nameArg('script') };
  static override flags = { ...stateFlags, ...socketFlag };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(VrrpScriptDelete);
    const edited = await editSection(this.config, flags.state, (section) => {
      if (!section.scripts?.[args.name]) throw missing('script', args.name, section.scripts);
      const user = Object.entries(section.instances ?? {}).find(([, i]) => (i.trackScripts ?? []).some((t) => t.script === args.name));
      if (user) throw new UsageError(`script ${args.name} is tracked by instance ${user[0]}; stop tracking it there first`);
      delete section.scripts[args.name];
    });
    const agent = await reloadAgent(edited.file, flags.socket);
    return { file: edited.file, deleted: args.name, ...(agent ? { agent } : {}) };
  }

  protected override render(r: Result): string {
    return `Deleted script ${r.deleted} from ${r.file}.${r.agent ? ` ${r.agent}` : ''}`;
  }
}
