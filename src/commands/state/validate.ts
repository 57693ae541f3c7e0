import * as Args from '@oclif/core/args';
import { HaCommand, stateFlags } from '@ha/lib';
import { loadProviders, loadState, resolveStatePath, unmanagedSection } from '@ha/lib/state';

interface ValidateResult {
  file: string;
  valid: true;
  version: number;
  sections: string[];
}

export default class StateValidate extends HaCommand<ValidateResult> {
  static override summary = 'Check a state file without touching the kernel.';
  static override description = `Parses the file and checks it against the schema of the core and of every installed plugin. A problem is reported on one line naming the JSON path (for example $.ipvs.services[2].port) and the reason, with exit status 2. A section no installed plugin manages is refused, as ha restore refuses it (ha save keeps such a section as it is).`;

  static override examples = [
    { description: 'Validate a file before copying it to the peer node.', command: '<%= config.bin %> state validate ./lb1.json' },
    { description: 'Validate the default state file.', command: '<%= config.bin %> state validate' },
  ];

  static override args = {
    file: Args.string({ ignoreStdin: true, description: 'State file to check (default: --state, $HA_STATE, /etc/ha/state.json).' }),
  };

  static override flags = { ...stateFlags };

  protected async exec(): Promise<ValidateResult> {
    const { args, flags } = await this.parse(StateValidate);
    const file = resolveStatePath(args.file ?? flags.state);
    const providers = await loadProviders(this.config);
    const state = await loadState(file, providers);
    // what restore refuses for the file's own sake, validate refuses too
    const unmanaged = unmanagedSection(file, providers, state);
    if (unmanaged) throw unmanaged;
    return { file, valid: true, version: state.version, sections: Object.keys(state).filter((k) => k !== 'version' && k !== '$schema') };
  }

  protected override render(r: ValidateResult): string {
    return `${r.file} is valid (version ${r.version}; sections: ${r.sections.length ? r.sections.join(', ') : 'none'}).`;
  }
}
