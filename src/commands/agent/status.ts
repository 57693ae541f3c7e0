import { HaCommand, colour, keyValues, table } from '@ha/lib';
import { AgentClient, AgentStatus, resolveSocketPath, socketFlags } from '@ha/lib/agent';

/** "3d 4h", "2h 5m", "4m 12s", "9s". */
function duration(seconds: number): string {
  const s = Math.floor(seconds);
  const [d, h, m] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60)];
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export default class AgentStatusCommand extends HaCommand<AgentStatus> {
  static override summary = 'Show the running agent: its services, the state file it runs, the last reload.';
  static override description = `Asks the agent over its control socket. Shows the agent's process, uptime and version, the state file it runs with the sha256 digest of the version it read, what the last reload did (or why it refused the file), and each service with its state. With --json, the whole status, including what each service says of itself.

When no agent is running this says so in one line (exit 1) and how to start one.`;

  static override examples = [
    { description: 'Is the agent running, and what does it run?', command: '<%= config.bin %> agent status' },
    { description: 'Everything, for monitoring scripts.', command: '<%= config.bin %> agent status --json' },
  ];

  static override flags = { ...socketFlags };

  protected async exec(): Promise<AgentStatus> {
    const { flags } = await this.parse(AgentStatusCommand);
    const client = await AgentClient.connect(resolveSocketPath(flags.socket));
    try {
      return await client.call<AgentStatus>('agent.status');
    } finally {
      client.close();
    }
  }

  protected override render(r: AgentStatus): string {
    const c = colour();
    const last = r.lastReload;
    const reload = !last ? '-' : `${last.at} ${last.ok ? c.green('ok') : last.accepted ? c.yellow('partly failed') : c.red('refused')}: ${last.message}`;
    const pairs: Array<[string, string]> = [
      ['agent', `pid ${r.pid}, ha ${r.version}, up ${duration(r.uptimeSeconds)} (since ${r.started})`],
      ['socket', r.socket],
      ['state file', r.digest ? `${r.stateFile} (sha256 ${r.digest.slice(0, 12)}, read ${r.loadedAt ?? '-'})` : `${r.stateFile} (not present when read)`],
      ['last reload', reload],
    ];
    if (r.metrics) pairs.push(['metrics', `http://${r.metrics}/metrics`]);
    const services = r.services.length
      ? table(['SERVICE', 'STATE', 'SINCE', 'PLUGIN', 'ERROR'], r.services.map((s) => [s.name, s.state === 'running' ? c.green(s.state) : c.red(s.state), s.since, s.plugin ?? '-', s.error ?? '']))
      : 'No services: no section of the state file is run by an installed plugin.';
    return `${keyValues(pairs)}\n\n${services}`;
  }
}
