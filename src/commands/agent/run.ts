import { setPriority } from 'node:os';
import * as Flags from '@oclif/core/flags';
import { HaCommand, Logger, LogFormat, LogLevel, UsageError, debugEnabled, stateFlags, wholeNumberFlag } from '@ha/lib';
import { Agent, AgentRunResult, goRealtime, loadServiceProviders, resolveSocketPath, runFlags, socketFlags } from '@ha/lib/agent';
import { loadProviders, resolveStatePath } from '@ha/lib/state';

export default class AgentRun extends HaCommand<AgentRunResult> {
  static override summary = 'Run the agent in the foreground: the services of the state file, and the control socket.';
  static override description = `Hosts the long-running parts of ha (VRRP instances, health checks): for every section of the state file that an installed plugin runs as a service, one service is started, in section order. The file is validated whole first; an invalid file ends the agent with exit status 2 (a missing one runs nothing until it appears and the agent is reloaded).

The agent answers on a unix socket (mode 0600; its folder is created if missing), through which ha agent status, ha agent reload and the plugins' status commands talk to it. It refuses to start when another agent answers on the same socket, and removes a socket left behind by one that was killed.

SIGHUP (or ha agent reload) re-reads the file and applies the difference: a section whose JSON did not change keeps running untouched, a changed one is reloaded by its service in place, a removed one is stopped and a new one started. A file that does not validate is refused and the agent keeps running the previous one. SIGTERM or SIGINT stops every service cleanly, in reverse order (--stop-timeout bounds how long), removes the socket and exits 0; a second signal while stopping is said and ignored.

Every event (a reload, a service started or stopped, what the services publish) is logged as one line on standard error, as text or JSON lines (--log-format). Under systemd (a Type=notify unit, see ha agent unit) the agent says READY=1 when it is up and RELOADING=1/STOPPING=1 as it goes. With --metrics it serves Prometheus metrics on http://ADDR:PORT/metrics. With --json, a summary of the run is printed when it ends.`;

  static override examples = [
    { description: 'Run the agent on the default state file and socket.', command: '<%= config.bin %> agent run' },
    { description: 'Run on a given file, logging JSON lines, with Prometheus metrics on localhost.', command: '<%= config.bin %> agent run --state ./lb1.json --log-format json --metrics 127.0.0.1:9105' },
    { description: 'Try a state file on a private socket, logging everything.', command: '<%= config.bin %> agent run --state ./lb1.json --socket /tmp/ha-test.sock --log-level debug' },
  ];

  static override flags = {
    ...stateFlags,
    ...socketFlags,
    ...runFlags,
    nice: Flags.custom<number>({
      summary: 'Scheduling priority of the agent, -20 to 19 (default -10).',
      description: 'Protocol timers (a VRRP master advertising every 100 ms) must fire on time on a busy machine: the agent raises its own priority (as keepalived offers with vrrp_priority); the scripts it runs are put back at 0.',
      helpValue: 'N',
      parse: async (input) => {
        const n = /^-?\d{1,2}$/.test(input.trim()) ? Number(input) : Number.NaN;
        if (!(n >= -20 && n <= 19)) throw new UsageError(`--nice: "${input}" is not a whole number from -20 to 19`);
        return n;
      },
    })(),
    realtime: wholeNumberFlag({
      summary: 'SCHED_FIFO priority of the agent, 1 to 99, or 0 for none (default 10).',
      description: 'Like keepalived\'s vrrp_rt_priority: adverts keep time however loaded the machine is. The scripts the agent runs are ordinary tasks (SCHED_RESET_ON_FORK).',
      range: { min: 0, max: 99 },
      helpValue: 'N',
    }),
    'stop-timeout': wholeNumberFlag({ summary: 'Seconds that stopping every service may take in all, before the agent exits anyway.', range: { min: 1, max: 3600 }, helpValue: 'SECONDS' }),
  };

  protected async exec(): Promise<AgentRunResult> {
    const { flags } = await this.parse(AgentRun);
    const level = (flags['log-level'] ?? (debugEnabled() ? 'debug' : 'info')) as LogLevel;
    // journald stamps each line itself
    const logger = new Logger({ level, format: (flags['log-format'] ?? 'text') as LogFormat, noTime: Boolean(process.env.JOURNAL_STREAM) });
    try {
      setPriority(flags.nice ?? -10);
    } catch (error) {
      logger.warn(`cannot set the agent's scheduling priority to ${flags.nice ?? -10}: ${(error as Error).message}`);
    }
    const rt = flags.realtime ?? 10;
    const why = rt > 0 ? goRealtime(rt) : undefined;
    if (why) logger.warn(`cannot use realtime scheduling (SCHED_FIFO ${rt}): ${why}; running at normal priority`);
    const [sections, services] = await Promise.all([loadProviders(this.config), loadServiceProviders(this.config)]);
    const agent = new Agent({
      stateFile: resolveStatePath(flags.state),
      socketPath: resolveSocketPath(flags.socket),
      sections,
      services,
      version: this.config.version,
      logger,
      ...(flags.metrics ? { metrics: flags.metrics } : {}),
      ...(flags['stop-timeout'] ? { stopTimeoutMs: flags['stop-timeout'] * 1000 } : {}),
    });
    const result = await agent.run();
    // everything is stopped: a timer or socket a service forgot must not keep the process alive
    setTimeout(() => process.exit(0), 2000).unref();
    return result;
  }
}
