import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { Progress, RULES_LIMITS, UsageError, applySteps, linePieces, openLines } from '@ha/lib';
import { Change, describePlans } from '@ha/lib/state';
import { IpvsCommand } from '../../base.js';
import { applyRules, applyRulesText, parseRules } from '../../ipvsadm/rules.js';
import { checkModules, listServices } from '../../kernel.js';
import { Service, checkService, mappedWarnings, serviceLabel } from '../../model.js';
import { planServices, settleRules } from '../../plan.js';

/** Above this many applied changes, the human output is a summary. */
export const LIST_AT_MOST = 100;

interface RestoreResult {
  source: string;
  dryRun: boolean;
  applied: number;
  /** How many changes of each kind the restore made (or would make). */
  counts: { add: number; change: number; delete: number };
  /** Each change: always with --json and --dry-run; otherwise only up to LIST_AT_MOST of them. */
  changes: Change[];
}

export default class IpvsRestore extends IpvsCommand<RestoreResult> {
  static override summary = "Make the IPVS table match rules in ipvsadm's save format (ipvsadm -R).";
  static override description = `Reads ipvsadm rules (what ha ipvs save or ipvsadm -S print: -A and -a lines, an optional leading "ipvsadm", # comments) from a file or standard input.

Unlike ipvsadm -R, restore converges: the input is the whole desired table, and only the difference is applied, so services and servers that do not change keep their connections. Every line is checked before anything changes: one bad line rejects the whole input (exit 2). If the kernel refuses a change midway, the changes already made are undone (exit 1). --dry-run prints the plan.

ipvsadm's save format has no thresholds (ipvsadm -S leaves -x and -y out), so a real server line (-a) without -x or -y keeps the thresholds the kernel has for that server (none for a new one), and restoring what save printed changes nothing; give -x/-y to set them (-x 0 removes them). ha save keeps thresholds in the state file. After a restore of more than ${LIST_AT_MOST} changes, the output sums them up by kind (--json lists each one). --add-only applies the rules on top of the current table without removing anything, as ipvsadm -R does.

On SIGINT, SIGTERM or SIGHUP restore stops sending, then undoes what it made or finishes when that is shorter, and says which (exit 128 + the signal). The input is at most 256 MiB with lines of at most 4096 characters; a FIFO or a device given by name is refused (pipe it into standard input instead).`;

  static override examples = [
    { description: 'Restore from a file.', command: '<%= config.bin %> ipvs restore /etc/ipvs.rules' },
    { description: 'See what would change.', command: '<%= config.bin %> ipvs restore --dry-run < /etc/ipvs.rules' },
    { description: "ipvsadm's additive behaviour.", command: '<%= config.bin %> ipvs restore --add-only /etc/ipvs.rules' },
  ];

  static override args = {
    file: Args.string({ ignoreStdin: true, description: 'Rules file; standard input when omitted or "-".' }),
  };

  static override flags = {
    'dry-run': Flags.boolean({ summary: 'Print the plan; change nothing.' }),
    'add-only': Flags.boolean({ summary: 'Apply the rules on top of the current table; remove nothing.' }),
  };

  protected async exec(): Promise<RestoreResult> {
    const { args, flags } = await this.parse(IpvsRestore);
    const source = !args.file || args.file === '-' ? 'stdin' : args.file;
    // read in pieces (60,000 rules are 3 MB of text, never held whole), each line and the whole
    // within limits; every line is read and checked before the kernel is changed
    const input = openLines(args.file, source === 'stdin' ? 'standard input' : `rules file ${source}`, RULES_LIMITS);
    const text = linePieces(input.fd, { what: source, limits: RULES_LIMITS });
    if (!flags['dry-run']) await this.lockKernel('ipvs');
    let desired: Service[];
    let current: Service[];
    try {
      if (flags['add-only']) {
        const commands = parseRules(text, source);
        current = await listServices({ stats: false });
        desired = applyRules(structuredClone(current), commands);
      } else {
        desired = applyRulesText([], text, source);
        // the real servers from one read of the kernel's text table; settleRules() reads in full
        // the services whose real servers the plan needs every attribute of
        current = await listServices({ detail: 'basic' });
        await settleRules(desired, current);
      }
    } finally {
      input.close();
    }
    for (const s of desired) {
      const problem = checkService(s)[0];
      if (problem) throw new UsageError(`${source}: service ${serviceLabel(s)}${problem[0]}: ${problem[1]}`);
    }
    checkModules(desired);
    for (const w of mappedWarnings(desired)) process.stderr.write(`${this.config.bin}: warning: ${w}\n`);
    const steps = await planServices(desired, current);
    const plans = [{ name: 'ipvs', plugin: '@ha/plugin-ipvs', steps }];
    const counts = { add: 0, change: 0, delete: 0 };
    for (const st of steps) counts[st.op]++;
    // labels of 60,000 changes cost seconds: only when they are shown
    const listed = this.jsonEnabled() || flags['dry-run'] || steps.length <= LIST_AT_MOST;
    const changes = listed ? describePlans(plans)[0]!.changes : [];
    if (flags['dry-run']) return { source, dryRun: true, applied: 0, counts, changes };
    const progress = new Progress('restoring', steps.length, { enabled: !this.jsonEnabled() && steps.length > 50 });
    try {
      const applied = await applySteps([{ name: 'ipvs', steps }], { action: 'restore', target: 'the IPVS table' }, { onStep: () => progress.tick() });
      return { source, dryRun: false, applied, counts, changes };
    } finally {
      progress.done();
    }
  }

  protected override render(r: RestoreResult): string {
    const n = r.counts;
    const total = n.add + n.change + n.delete;
    if (total === 0) return 'The IPVS table already matches; nothing to do.';
    const mark = { add: '+', delete: '-', change: '~' } as const;
    // a plan is shown in full; an applied restore of thousands of objects is summed up (the
    // changes are in --json, and --dry-run shows them before)
    if (!r.dryRun && total > LIST_AT_MOST) {
      return `Applied ${r.applied} change(s): ${n.add} added, ${n.change} changed, ${n.delete} deleted (--json lists each one).`;
    }
    const lines = r.changes.map((c) => `${mark[c.op]} ${c.object}${c.detail ? ` (${c.detail})` : ''}`);
    return `${lines.join('\n')}\n${r.dryRun ? `Would apply ${r.changes.length} change(s).` : `Applied ${r.applied} change(s).`}`;
  }
}

