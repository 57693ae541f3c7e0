import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { HaCommand, stateFlags } from '@ha/lib';
import { Change, describePlans, loadProviders, loadState, planAll, resolveStatePath } from '@ha/lib/state';
import { renderChanges } from '../plan-output.js';

interface DiffResult {
  file: string;
  changes: number;
  sections: Array<{ section: string; plugin: string; changes: Change[] }>;
}

export default class Diff extends HaCommand<DiffResult> {
  static override summary = 'Show what restore would change in the kernel.';
  static override description = `Reads and validates the state file, then compares each section with the running kernel and lists the changes that ha restore would make, in the order it would make them. Nothing is changed.

Lines start with + (add), - (delete) or ~ (change). With --exit-code the command exits 1 when there are differences, as git diff does.`;

  static override examples = [
    { description: 'Compare the default state file with the kernel.', command: '<%= config.bin %> diff' },
    { description: 'Use in a script: exit 1 if the kernel has drifted.', command: '<%= config.bin %> diff --state ./lb1.json --exit-code >/dev/null || echo drifted' },
  ];

  static override args = {
    file: Args.string({ ignoreStdin: true, description: 'State file to compare (same as --state).' }),
  };

  static override flags = {
    ...stateFlags,
    'exit-code': Flags.boolean({ summary: 'Exit 1 when there are differences.', default: false }),
  };

  protected async exec(): Promise<DiffResult> {
    const { args, flags } = await this.parse(Diff);
    const file = resolveStatePath(args.file ?? flags.state);
    const providers = await loadProviders(this.config);
    const state = await loadState(file, providers);
    const sections = describePlans(await planAll(file, providers, state));
    const changes = sections.reduce((n, s) => n + s.changes.length, 0);
    const result = { file, changes, sections };
    if (flags['exit-code'] && changes > 0) {
      if (this.jsonEnabled()) this.logJson(result);
      else this.log(this.render(result));
      this.exit(1);
    }
    return result;
  }

  protected override render(r: DiffResult): string {
    if (r.changes === 0) return `The kernel matches ${r.file}.`;
    return renderChanges(r.sections);
  }
}
