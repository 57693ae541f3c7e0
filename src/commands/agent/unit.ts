import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HaCommand, stateFlags, wholeNumberFlag } from '@ha/lib';
import { UNIT_PATH, haCommand, listenText, runFlags, socketFlags, systemdUnit } from '@ha/lib/agent';

interface UnitResult {
  /** Where the unit is usually installed. */
  path: string;
  /** The unit file's text. */
  unit: string;
  /** The command line of ExecStart, word by word. */
  execStart: string[];
}

export default class AgentUnit extends HaCommand<UnitResult> {
  static override summary = 'Print a systemd unit that runs the agent.';
  static override description = `Prints a unit for /etc/systemd/system/ha-agent.service that runs ha agent run with the flags given here (--state, --socket, --log-format, --log-level, --metrics, --stop-timeout), using the absolute path of this ha. It is Type=notify (the agent says when it is ready), starts after the network is online, restarts the agent if it fails (but not when it exits 2: an invalid state file or flag is said once, not retried in a loop), and reloads with ha agent reload, so that systemctl reload waits for the reload and fails when the state file is refused.

Nothing is installed: redirect the output, then run systemctl daemon-reload and systemctl enable --now ha-agent.`;

  static override examples = [
    { description: 'Install the agent as a service.', command: '<%= config.bin %> agent unit > /etc/systemd/system/ha-agent.service && systemctl daemon-reload && systemctl enable --now ha-agent' },
    { description: 'A unit for another state file, with metrics.', command: '<%= config.bin %> agent unit --state /etc/ha/lb1.json --metrics 127.0.0.1:9105' },
  ];

  static override flags = {
    ...stateFlags,
    ...socketFlags,
    ...runFlags,
    'stop-timeout': wholeNumberFlag({ summary: 'Seconds that stopping every service may take in all.', range: { min: 1, max: 3600 }, helpValue: 'SECONDS' }),
  };

  protected async exec(): Promise<UnitResult> {
    const { flags } = await this.parse(AgentUnit);
    const run: string[] = [];
    if (flags.state) run.push('--state', resolve(flags.state));
    const socket = flags.socket ? ['--socket', resolve(flags.socket)] : [];
    run.push(...socket);
    if (flags['log-format']) run.push('--log-format', flags['log-format']);
    if (flags['log-level']) run.push('--log-level', flags['log-level']);
    if (flags.metrics) run.push('--metrics', listenText(flags.metrics));
    if (flags['stop-timeout']) run.push('--stop-timeout', String(flags['stop-timeout']));
    const script = process.argv[1] ? resolve(process.argv[1]) : '';
    const bin = script && existsSync(script) ? script : join(this.config.root, 'bin', 'run.cjs');
    const ha = haCommand({ bin, node: process.execPath });
    return { path: UNIT_PATH, unit: systemdUnit({ bin, node: process.execPath, runFlags: run, socketFlags: socket }), execStart: [...ha, 'agent', 'run', ...run] };
  }

  protected override render(r: UnitResult): string {
    return r.unit.trimEnd();
  }
}
