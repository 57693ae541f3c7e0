import * as Flags from '@oclif/core/flags';
import { HaCommand, stateFlags, table, colour } from '@ha/lib';
import {
  SectionReport, StateFileError, captureAll, formatState, loadProviders, loadState, resolveStatePath, withStateLock, writeAtomic,
  STATE_VERSION,
} from '@ha/lib/state';

interface SaveResult {
  file: string;
  version: number;
  sections: SectionReport[];
}

export default class Save extends HaCommand<SaveResult> {
  static override summary = 'Save the kernel state of every installed plugin to the state file.';
  static override description = `Captures each installed plugin's section (bonds, routes, ipvs, checks, vrrp) from the running kernel and writes them to the state file atomically: a temporary file is written and synced, then renamed over the old one, so an interrupted save never leaves a damaged file. The file is created with mode 0600 and a lock (FILE.lock, which the kernel releases if ha dies) keeps two ha processes from writing it at once; the kernel locks keep a restore from changing the kernel while it is read. A state file that is a symbolic link is written through: the link stays and its target is replaced.

A section whose kernel support is missing (for example IPVS on a kernel without the ip_vs module) is skipped with the reason, and its previous content in the file is kept. Sections of plugins that are not installed are kept as they were.

If the existing file is not valid, save refuses to overwrite it unless --force is given.`;

  static override examples = [
    { description: 'Save to the default state file (/etc/ha/state.json).', command: '<%= config.bin %> save' },
    { description: 'Save to another file and show what was saved as JSON.', command: '<%= config.bin %> save --state ./lb1.json --json' },
  ];

  static override flags = {
    ...stateFlags,
    force: Flags.boolean({ summary: 'Overwrite an existing state file even if it is not valid.', default: false }),
  };

  protected async exec(): Promise<SaveResult> {
    const { flags } = await this.parse(Save);
    const file = resolveStatePath(flags.state);
    const providers = await loadProviders(this.config);
    // no restore changes the kernel while it is captured, and no other save writes the file
    await this.lockKernel(...providers.map((p) => p.name));
    return withStateLock(file, async () => {
      let previous;
      try {
        previous = await loadState(file, providers, { missingOk: true });
      } catch (error) {
        if (!(error instanceof StateFileError) || !flags.force) {
          if (error instanceof StateFileError) throw new StateFileError(file, `${error.message.replace(`state file ${file}: `, '')} (nothing was written; use --force to overwrite it)`);
          throw error;
        }
        previous = { version: STATE_VERSION };
      }
      const { doc, sections } = await captureAll(providers, previous);
      await writeAtomic(file, formatState(doc));
      return { file, version: doc.version, sections };
    });
  }

  protected override render(r: SaveResult): string {
    const c = colour();
    const lines = [`Saved ${r.file}`];
    if (r.sections.length > 0) {
      lines.push(table(['SECTION', 'STATUS', 'DETAIL'], r.sections.map((s) => [
        s.name,
        s.status === 'saved' ? c.green(s.status) : c.yellow(s.status),
        s.reason ?? s.plugin ?? '',
      ])));
    } else {
      lines.push('No installed plugin contributes a state section.');
    }
    return lines.join('\n');
  }
}
