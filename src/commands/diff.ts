import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { EXIT_USAGE, HaCommand, stateFlags } from '@ha/lib';
import { Change, describePlans, loadProviders, loadState, planEach, resolveStatePath } from '@ha/lib/state';
import { renderChanges } from '../plan-output.js';

interface DiffResult {
  file: string;
  changes: number;
  sections: Array<{ section: string; plugin: string; changes: Change[] }>;
  /** Sections that could not be compared (plugin missing, kernel support absent), and why. */
  errors: Array<{ section: string; code: string; message: string }>;
}

/** With --exit-code: differences are 1, as git diff does; a section that could not be compared is 3. */
const EXIT_DIFFERS = 1;
const EXIT_CANNOT_COMPARE = 3;

export default class Diff extends HaCommand<DiffResult> {
  static override summary = 'Show what restore would change in the kernel.';
  static override description = `Reads and validates the state file, then compares each section with the running kernel and lists the changes that ha restore would make, in the order it would make them. Nothing is changed, and no lock is taken (reading the file needs no writable folder).

Lines start with + (add), - (delete) or ~ (change). A section that cannot be compared (its plugin is not installed, the kernel lacks its support) is reported on standard error and the other sections are still compared and shown.

Exit status: 0 when the kernel matches, 2 for an invalid state file; a section that could not be compared makes it 1, or with --exit-code 3, since --exit-code makes 1 mean "differs" (as git diff does).`;

  static override examples = [
    { description: 'Compare the default state file with the kernel.', command: '<%= config.bin %> diff' },
    { description: 'Use in a script: 1 means the kernel has drifted, 3 that it could not be compared.', command: '<%= config.bin %> diff --state ./lb1.json --exit-code >/dev/null; echo $?' },
  ];

  static override args = {
    file: Args.string({ ignoreStdin: true, description: 'State file to compare (same as --state).' }),
  };

  static override flags = {
    ...stateFlags,
    'exit-code': Flags.boolean({ summary: 'Exit 1 when there are differences (3 when a section could not be compared).', default: false }),
  };

  protected async exec(): Promise<DiffResult> {
    const { args, flags } = await this.parse(Diff);
    const file = resolveStatePath(args.file ?? flags.state);
    const providers = await loadProviders(this.config);
    const state = await loadState(file, providers);
    const { plans, problems } = await planEach(file, providers, state);
    const sections = describePlans(plans);
    const changes = sections.reduce((n, s) => n + s.changes.length, 0);
    const errors = problems.map((p) => ({ section: p.section, code: p.error.code, message: p.error.message }));
    const result = { file, changes, sections, errors };
    // a section the file should not have is the file's fault (2); one that cannot be compared here, 1 (3)
    const invalid = problems.some((p) => p.error.exitCode === EXIT_USAGE);
    const exit = invalid ? EXIT_USAGE : errors.length ? (flags['exit-code'] ? EXIT_CANNOT_COMPARE : 1) : flags['exit-code'] && changes > 0 ? EXIT_DIFFERS : 0;
    if (exit !== 0) {
      if (this.jsonEnabled()) this.logJson(result);
      else {
        const text = this.render(result);
        if (text) process.stdout.write(`${text}\n`);
      }
      for (const e of errors) process.stderr.write(`${this.config.bin}: ${e.message}\n`);
      this.exit(exit);
    }
    return result;
  }

  protected override render(r: DiffResult): string {
    if (r.changes === 0) return r.errors.length ? '' : `The kernel matches ${r.file}.`;
    return renderChanges(r.sections);
  }
}
