import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { HaCommand, Progress, applySteps, releaseAll, stateFlags } from '@ha/lib';
import { Change, describePlans, loadProviders, loadState, planAll, resolveStatePath, stateWarnings } from '@ha/lib/state';
import { LIST_AT_MOST, renderChanges, renderCounts } from '../plan-output.js';

interface RestoreResult {
  file: string;
  dryRun: boolean;
  applied: number;
  sections: Array<{ section: string; plugin: string; changes: Change[] }>;
  /** What the running ha agent made of the file (absent when no agent runs). */
  agent?: { reloaded: boolean; message: string };
}

export default class Restore extends HaCommand<RestoreResult> {
  static override summary = 'Make the kernel match the state file.';
  static override description = `Reads and validates the whole state file first: a file with any error is rejected before anything changes, and the error names the JSON path. Every section must belong to an installed plugin whose kernel support is present, or nothing is changed.

Restore converges: it computes the difference between each section and the kernel and applies only that, in dependency order (bonds, routes, ipvs, checks, vrrp), so unchanged objects and their connections are not touched. If a change fails, the changes already made are undone, newest first, and the command exits 1.

On SIGINT, SIGTERM or SIGHUP ha stops sending, then undoes the changes it made, or makes the rest when fewer are left than were made, says which in one line and exits 128 + the signal's number; the kernel is never left half-restored. Restore holds the kernel locks of the sections it restores: a second restore (or any ha command that changes those parts) waits for it. Reading the file takes no lock, so a file on read-only media can be restored.

With --dry-run the plan is printed and nothing is changed (the same as ha diff). A plan of more than 100 changes is summed up per section once applied (--json lists each one).`;

  static override examples = [
    { description: 'Show what would change, without changing it.', command: '<%= config.bin %> restore --dry-run' },
    { description: 'Restore from a given file.', command: '<%= config.bin %> restore --state ./lb1.json' },
    { description: 'Restore and report the applied changes as JSON.', command: '<%= config.bin %> restore ./lb1.json --json' },
  ];

  static override args = {
    file: Args.string({ ignoreStdin: true, description: 'State file to restore (same as --state).' }),
  };

  static override flags = {
    ...stateFlags,
    'dry-run': Flags.boolean({ char: 'n', summary: 'Print the plan; change nothing.', default: false }),
  };

  protected async exec(): Promise<RestoreResult> {
    const { args, flags } = await this.parse(Restore);
    const file = resolveStatePath(args.file ?? flags.state);
    const providers = await loadProviders(this.config);
    // reading and checking the file needs no lock (nor a writable folder: early boot, read-only media)
    const state = await loadState(file, providers);
    for (const w of stateWarnings(providers, state)) process.stderr.write(`${this.config.bin}: warning: ${w}\n`);
    if (!flags['dry-run']) {
      // the kernel parts this file restores, in restore order: no other ha changes them meanwhile
      const sections = providers.filter((p) => state[p.name] !== undefined).map((p) => p.name);
      await this.lockKernel(...sections);
    }
    const plans = await planAll(file, providers, state);
    const sections = describePlans(plans);
    if (flags['dry-run']) return { file, dryRun: true, applied: 0, sections };
    const total = sections.reduce((n, s) => n + s.changes.length, 0);
    const progress = new Progress('restoring', total, { enabled: !this.jsonEnabled() && total > 50 });
    try {
      const applied = await applySteps(plans.map((p) => ({ name: p.name, steps: p.steps })), { action: 'restore', target: 'the kernel' }, { onStep: () => progress.tick() });
      // a running agent takes the file too; its services may need the kernel locks held here
      releaseAll();
      const agent = await (await import('@ha/lib/agent')).reloadRunningAgent(undefined, { stateFile: file });
      return { file, dryRun: false, applied, sections, ...(agent ? { agent } : {}) };
    } finally {
      progress.done();
    }
  }

  protected override render(r: RestoreResult): string {
    const text = this.renderPlan(r);
    return r.agent ? `${text}\nha agent: ${r.agent.message}` : text;
  }

  private renderPlan(r: RestoreResult): string {
    const total = r.sections.reduce((n, s) => n + s.changes.length, 0);
    if (total === 0) return `The kernel already matches ${r.file}; nothing to do.`;
    // a plan is shown in full; an applied restore of many changes is summed up per section (the
    // changes are in --json, and --dry-run shows them before)
    if (!r.dryRun && total > LIST_AT_MOST) return `${renderCounts(r.sections)}\nApplied ${r.applied} change(s) (--json lists each one).`;
    const plan = renderChanges(r.sections);
    return r.dryRun ? `Would apply ${total} change(s):\n${plan}` : `${plan}\nApplied ${r.applied} change(s).`;
  }
}
