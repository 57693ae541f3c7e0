import * as Flags from '@oclif/core/flags';
import { HaCommand, UsageError, stateFlags, wholeNumberFlag } from '@ha/lib';
import { editSection } from '../../../edit.js';
import { nameArg, secondsFlag } from '../../../flags.js';
import { LIMITS, Script } from '../../../model.js';
import { reloadAgent, socketFlag } from '../../../agent-link.js';

interface Result { file: string; script: string; command: string; agent?: string }

export default class VrrpScriptAdd extends HaCommand<Result> {
  static override summary = 'Define a tracked script (keepalived\'s vrrp_script).';
  static override description = `The agent runs the command every interval; exit 0 is success. After "rise" successes in a row it counts as up, after "fall" failures as down; a run past its timeout is killed and fails. Instances track it with --track-script NAME[:WEIGHT]: a positive weight is added while it is up, a negative one subtracted while it is down, weight 0 means down = FAULT.`;

  static override examples = [
    { description: 'Lower the priority by 50 while haproxy is not running.', command: '<%= config.bin %> vrrp script add chk_haproxy --command "pidof haproxy" --interval 2 --weight -50' },
  ];

  static override args = { name: nameArg('script') };
  static override flags = {
    ...stateFlags,
    ...socketFlag,
    // checked in exec(): oclif's own "missing required flag" error does not come out as one line
    command: Flags.string({ summary: 'The command (run with /bin/sh -c); required.', helpValue: 'CMD' }),
    interval: secondsFlag({ summary: 'Seconds between runs (default 1).', range: LIMITS.scriptInterval }),
    timeout: secondsFlag({ summary: 'Seconds a run may take (default: the interval).', range: LIMITS.scriptTimeout }),
    rise: wholeNumberFlag({ summary: 'Successes in a row before it counts as up (default 1).', range: LIMITS.riseFall }),
    fall: wholeNumberFlag({ summary: 'Failures in a row before it counts as down (default 1).', range: LIMITS.riseFall }),
    weight: Flags.custom<number>({
      summary: 'Default weight for instances that track it without one (default 0: down = FAULT).',
      helpValue: 'N',
      parse: async (input) => {
        const n = /^[+-]?\d{1,4}$/.test(input.trim()) ? Number(input) : Number.NaN;
        if (!(n >= LIMITS.weight.min && n <= LIMITS.weight.max)) throw new UsageError(`--weight: "${input}" is not a whole number from ${LIMITS.weight.min} to ${LIMITS.weight.max}`);
        return n;
      },
    })(),
  };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(VrrpScriptAdd);
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(args.name)) throw new UsageError(`script name "${args.name}" must be 1 to 64 letters, digits, _ . : or -`);
    const command = flags.command;
    if (command === undefined) throw new UsageError('missing --command (the command to run, e.g. --command "pidof haproxy")');
    const edited = await editSection(this.config, flags.state, (section) => {
      const scripts = (section.scripts ??= {});
      if (scripts[args.name]) throw new UsageError(`script ${args.name} already exists`);
      const s: Script = { command };
      if (flags.interval !== undefined) s.interval = flags.interval;
      if (flags.timeout !== undefined) s.timeout = flags.timeout;
      if (flags.rise !== undefined) s.rise = flags.rise;
      if (flags.fall !== undefined) s.fall = flags.fall;
      if (flags.weight !== undefined) s.weight = flags.weight;
      scripts[args.name] = s;
    });
    const agent = await reloadAgent(edited.file, flags.socket);
    return { file: edited.file, script: args.name, command, ...(agent ? { agent } : {}) };
  }

  protected override render(r: Result): string {
    return `Added script ${r.script} to ${r.file}.${r.agent ? ` ${r.agent}` : ''}`;
  }
}
