import * as Args from '@oclif/core/args';
import { HaCommand } from '@ha/lib';
import { AgentClient, resolveSocketPath } from '@ha/lib/agent';
import { socketFlag } from '../../agent-link.js';

/** One event line of `ha vrrp watch --json` (newline-delimited). */
export interface WatchLine { seq: number; time: string; type: string; data: Record<string, unknown> }
export type JsonLine = WatchLine;

export default class VrrpWatch extends HaCommand<void> {
  static override summary = 'Follow VRRP transitions and events live, until interrupted.';
  static override description = `Prints every event of the agent's vrrp service as it happens, with its time: transitions with their reason, group transitions, notification scripts run. With --json, one JSON object per line. Events arrive in the order they happened. Ends on Ctrl-C or when the agent stops.`;

  static override examples = [
    { description: 'Watch every instance.', command: '<%= config.bin %> vrrp watch' },
    { description: 'One instance, as JSON lines.', command: '<%= config.bin %> vrrp watch VI_1 --json' },
  ];

  static override args = { name: Args.string({ description: 'Only events of this instance.' }) };
  static override flags = { ...socketFlag };

  protected async exec(): Promise<void> {
    const { args, flags } = await this.parse(VrrpWatch);
    const client = await AgentClient.connect(resolveSocketPath(flags.socket));
    const stop = (): void => client.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await client.subscribe(['vrrp'], (e) => {
      const data = (e.data ?? {}) as Record<string, unknown>;
      if (args.name && data.instance !== args.name) return;
      if (this.jsonEnabled()) {
        process.stdout.write(`${JSON.stringify({ seq: e.seq, time: e.time, type: e.type, data })}\n`);
        return;
      }
      process.stdout.write(`${e.time} ${describe(e.type, data)}\n`);
    });
    await client.closed;
  }

  // each event is printed as it comes; nothing at the end
  protected override logJson(): void {}
}

function describe(type: string, d: Record<string, unknown>): string {
  if (type === 'transition') return `${String(d.instance)}: ${String(d.from)} -> ${String(d.to)} (${String(d.reason)}), priority ${String(d.priority)}`;
  if (type === 'group-transition') return `sync group ${String(d.group)}: ${String(d.state)}`;
  if (type === 'notified') return `${String(d.instance)}: ran ${String(d.command)}${(d.args as string[] | undefined)?.length ? ` ${(d.args as string[]).join(' ')}` : ''} (${d.timedOut ? 'killed at its timeout' : `exit ${String(d.exitCode)}`}, ${String(d.ms)} ms)`;
  return `${type} ${JSON.stringify(d)}`;
}
