import { HaCommand, HaError, colour } from '@ha/lib';
import { AgentClient, ReloadResult, remoteError, resolveSocketPath, socketFlags } from '@ha/lib/agent';

export default class AgentReload extends HaCommand<ReloadResult> {
  static override summary = 'Make the running agent re-read the state file, and show what changed.';
  static override description = `The same as sending SIGHUP to the agent, but waits for the reload to finish and reports it. The agent validates the whole file first: a file that does not validate is refused, the agent keeps running the previous one, and this command prints the reason (naming the JSON path) and exits 2. Otherwise only what changed is touched: sections whose JSON is the same keep running as they are, changed ones are reloaded by their service in place, removed ones are stopped and new ones started. If a service fails to take its new section, it keeps the previous one and this command exits 1.`;

  static override examples = [
    { description: 'Apply an edited state file.', command: '<%= config.bin %> agent reload' },
    { description: 'The same, as JSON (the changes of each section).', command: '<%= config.bin %> agent reload --json' },
  ];

  static override flags = { ...socketFlags };

  protected async exec(): Promise<ReloadResult> {
    const { flags } = await this.parse(AgentReload);
    const client = await AgentClient.connect(resolveSocketPath(flags.socket));
    let r: ReloadResult;
    try {
      r = await client.call<ReloadResult>('agent.reload', {}, { timeoutMs: 120_000 });
    } finally {
      client.close();
    }
    if (!r.accepted) {
      // the file's problem, with its code (ESTATE: exit 2), as ha state validate reports it
      const e = r.error ?? { code: 'ESTATE', message: r.message };
      throw remoteError({ code: e.code, message: `${e.message}; the agent keeps running the previous configuration` });
    }
    if (!r.ok) throw new HaError(r.message, { code: 'EFAILED' });
    return r;
  }

  protected override render(r: ReloadResult): string {
    const c = colour();
    const lines = [r.message];
    for (const ch of r.changes) {
      const mark = ch.action === 'started' ? c.green('+') : ch.action === 'stopped' ? c.red('-') : ch.action === 'failed' ? c.red('!') : c.yellow('~');
      lines.push(`${mark} ${ch.section}: ${ch.action}${ch.error ? ` (${ch.error})` : ''}`);
      for (const l of ch.lines) lines.push(`    ${l}`);
    }
    return lines.join('\n');
  }
}
