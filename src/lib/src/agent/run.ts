/**
 * The agent process: the supervisor, the control socket, metrics and systemd, under signals.
 *
 * Start: take the socket first (so that a second agent is refused before it starts services that
 * would fight the first one's), then read the state file and start the services (a file that
 * does not validate ends the agent, exit 2), then serve /metrics, then tell systemd READY=1.
 *
 * SIGHUP reloads (and so does the control method agent.reload). SIGTERM and SIGINT stop every
 * service cleanly, in reverse order, close the socket (removing it) and end the run; another
 * signal while stopping is said and ignored: the stop must finish. Every event on the bus is
 * logged as one line, and so is every signal.
 */
import type { Registry } from 'prom-client';
import { HaError } from '../errors.js';
import { Logger, LogLevel } from '../log.js';
import type { NetlinkHandle } from '../netlink/handle.js';
import type { SectionProvider } from '../state/contract.js';
import { AgentEvent, EventBus } from './bus.js';
import { Clock } from './clock.js';
import { AgentMetrics, ListenAddress, MetricsServer, createRegistry, registerAgentMetrics } from './metrics.js';
import { Notifier } from './notify.js';
import { ControlServer } from './server.js';
import type { ServiceMethod, ServiceProvider } from './service.js';
import { ReloadResult, ServiceStatus, Supervisor } from './supervisor.js';

export interface AgentOptions {
  stateFile: string;
  socketPath: string;
  /** The `ha:sections` providers (validation). */
  sections: SectionProvider[];
  /** The `ha:services` providers (what runs). */
  services: Array<ServiceProvider & { plugin?: string }>;
  /** ha's version, for agent.status. */
  version: string;
  /** The root logger: the agent's lines say "agent", a service's its name. */
  logger?: Logger;
  /** Serve Prometheus metrics here. */
  metrics?: ListenAddress;
  /** How long stopping may take, all services together (default 10 s). */
  stopTimeoutMs?: number;
  clock?: Clock;
  netlink?: NetlinkHandle;
  /** Registry to use (default: a new one with the process's metrics). */
  registry?: Registry;
  /** Notify systemd when NOTIFY_SOCKET is set (default true). */
  notify?: boolean;
}

export interface AgentStatus {
  pid: number;
  /** ha's version. */
  version: string;
  /** When the agent started (ISO 8601). */
  started: string;
  uptimeSeconds: number;
  /** The control socket. */
  socket: string;
  stateFile: string;
  /** sha256 of the state file the running configuration came from. */
  digest?: string;
  /** When that file was read (ISO 8601). */
  loadedAt?: string;
  /** The last reload (the first one is the start). */
  lastReload?: ReloadResult;
  services: ServiceStatus[];
  /** Control methods answered, besides agent.* and subscribe. */
  methods: string[];
  /** Clients connected to the socket now (this one included). */
  clients: number;
  /** Where /metrics is served, if it is. */
  metrics?: string;
}

export interface AgentRunResult {
  pid: number;
  started: string;
  stopped: string;
  uptimeSeconds: number;
  /** The signal that stopped the agent. */
  stoppedBy: string;
  /** Reloads after the start, by outcome. */
  reloads: { ok: number; refused: number; failed: number };
  /** Services stopped cleanly, in the order they were stopped. */
  servicesStopped: string[];
  /** Services that did not stop within the deadline. */
  servicesAbandoned: string[];
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

const EVENT_LEVEL: Record<string, LogLevel> = { 'reload-refused': 'warn', 'service-failed': 'error', 'subscriber-dropped': 'warn' };

export class Agent {
  readonly bus: EventBus;
  private readonly root: Logger;
  private readonly logger: Logger;
  private readonly startedAt = new Date();
  private readonly startedMono = performance.now();
  private supervisor?: Supervisor;
  private server?: ControlServer;
  private metricsServer?: MetricsServer;
  private agentMetrics?: AgentMetrics;
  private notifier?: Notifier;
  private readonly counts = { ok: 0, refused: 0, failed: 0 };
  private stopping?: Promise<AgentRunResult>;
  private stopSignal = 'stop()';
  private readonly eventLoggers = new Map<string, Logger>();

  constructor(private readonly options: AgentOptions) {
    this.root = options.logger ?? new Logger();
    this.logger = this.root.child('agent');
    this.bus = new EventBus({ logger: this.logger });
    this.bus.subscribe((e) => this.logEvent(e), { name: 'the log', maxQueue: 1 << 16 });
  }

  /** Take the socket, start the services, serve metrics, say READY. Throws if any of that fails (nothing is left running). */
  async start(): Promise<void> {
    const o = this.options;
    const registry = o.registry ?? await createRegistry();
    this.agentMetrics = await registerAgentMetrics(registry, this.startedAt);
    this.supervisor = new Supervisor({
      stateFile: o.stateFile, sections: o.sections, services: o.services, metrics: registry, logger: this.root, bus: this.bus,
      ...(o.clock ? { clock: o.clock } : {}), ...(o.netlink ? { netlink: o.netlink } : {}), ...(o.stopTimeoutMs !== undefined ? { stopTimeoutMs: o.stopTimeoutMs } : {}),
    });
    this.server = new ControlServer({ path: o.socketPath, bus: this.bus, logger: this.logger, resolve: (m) => this.method(m) });
    await this.server.listen();
    try {
      const first = await this.supervisor.start();
      if (o.metrics) {
        this.metricsServer = new MetricsServer(registry, o.metrics, this.logger);
        await this.metricsServer.listen();
      }
      this.logger.info('agent running', {
        pid: process.pid, socket: o.socketPath, state: o.stateFile, services: this.supervisor.status().services.map((s) => s.name).join(',') || 'none',
        ...(this.metricsServer ? { metrics: this.metricsServer.listening } : {}),
        ...(first.ok ? {} : { warning: first.message }),
      });
    } catch (error) {
      await this.supervisor.stop();
      await this.server.close();
      await this.metricsServer?.close();
      throw error;
    }
    if (o.notify !== false) this.notifier = Notifier.fromEnv(this.logger);
    this.notifier?.ready(this.summary());
  }

  /** Re-read the state file (SIGHUP, agent.reload). */
  async reload(): Promise<ReloadResult> {
    if (!this.supervisor) throw new HaError('the agent is not running');
    this.notifier?.reloading();
    const r = await this.supervisor.reload();
    const outcome = !r.accepted ? 'refused' : r.ok ? 'ok' : 'failed';
    this.counts[outcome]++;
    this.agentMetrics?.reloaded(outcome);
    this.notifier?.ready(this.summary());
    return r;
  }

  status(): AgentStatus {
    const s = this.supervisor!.status();
    return {
      pid: process.pid,
      version: this.options.version,
      started: this.startedAt.toISOString(),
      uptimeSeconds: Math.round((performance.now() - this.startedMono) / 100) / 10,
      socket: this.options.socketPath,
      stateFile: s.stateFile,
      ...(s.digest ? { digest: s.digest } : {}),
      ...(s.loadedAt ? { loadedAt: s.loadedAt } : {}),
      ...(s.lastReload ? { lastReload: s.lastReload } : {}),
      services: s.services,
      methods: this.supervisor!.methodNames(),
      clients: this.server?.clients ?? 0,
      ...(this.metricsServer?.listening ? { metrics: this.metricsServer.listening } : {}),
    };
  }

  /** Stop the services (reverse order), the metrics and the socket; idempotent. */
  stop(reason = 'stop()'): Promise<AgentRunResult> {
    this.stopSignal = reason;
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /**
   * Start, then serve until SIGTERM or SIGINT: what the command `ha agent run` does. SIGHUP
   * reloads. Resolves once everything is stopped.
   */
  async run(): Promise<AgentRunResult> {
    await this.start();
    return new Promise<AgentRunResult>((resolve, reject) => {
      const onHup = (): void => {
        if (this.stopping) {
          this.logger.warn('SIGHUP ignored: the agent is stopping');
          return;
        }
        this.logger.info('SIGHUP: reloading the state file');
        this.reload().catch((error: unknown) => this.logger.error('reload failed', { error: (error as Error).message }));
      };
      const onStop = (signal: NodeJS.Signals): void => {
        if (this.stopping) {
          this.logger.warn(`${signal} again: already stopping, ignored (every service is being stopped cleanly, which must finish)`);
          return;
        }
        this.logger.info(`${signal}: stopping every service`);
        this.stop(signal).then(resolve, reject);
      };
      process.on('SIGHUP', onHup);
      for (const s of STOP_SIGNALS) process.on(s, onStop);
    });
  }

  private summary(): string {
    const n = this.supervisor?.status().services.length ?? 0;
    return `running ${n} service${n === 1 ? '' : 's'}`;
  }

  private method(name: string): ServiceMethod | undefined {
    switch (name) {
      case 'agent.status': return () => this.status();
      case 'agent.reload': return () => this.reload();
      case 'agent.methods': return () => ['agent.status', 'agent.reload', 'agent.methods', 'subscribe', ...this.supervisor!.methodNames()];
      default: return name.startsWith('agent.') ? undefined : this.supervisor?.method(name);
    }
  }

  private async doStop(): Promise<AgentRunResult> {
    this.notifier?.stopping();
    const { stopped, abandoned } = this.supervisor ? await this.supervisor.stop() : { stopped: [], abandoned: [] };
    await this.metricsServer?.close();
    await this.server?.close();
    // the last events (service-stopped) reach the log before the bus closes
    await new Promise((resolve) => setImmediate(resolve));
    this.bus.closeAll();
    this.notifier?.close();
    const result: AgentRunResult = {
      pid: process.pid,
      started: this.startedAt.toISOString(),
      stopped: new Date().toISOString(),
      uptimeSeconds: Math.round((performance.now() - this.startedMono) / 100) / 10,
      stoppedBy: this.stopSignal,
      reloads: { ...this.counts },
      servicesStopped: stopped,
      servicesAbandoned: abandoned,
    };
    this.logger.info('agent stopped', { stoppedBy: result.stoppedBy, stopped: stopped.join(',') || 'none', ...(abandoned.length ? { abandoned: abandoned.join(',') } : {}) });
    return result;
  }

  private logEvent(e: AgentEvent): void {
    let logger = this.eventLoggers.get(e.source);
    if (!logger) {
      logger = this.root.child(e.source);
      this.eventLoggers.set(e.source, logger);
    }
    // "reload-refused: state file …: $.vrrp…" and the details as fields; empty lists left out
    const fields: Record<string, unknown> = e.data && typeof e.data === 'object' && !Array.isArray(e.data) ? { ...(e.data as Record<string, unknown>) } : { data: e.data };
    const text = typeof fields.message === 'string' ? `${e.type}: ${fields.message}` : e.type;
    delete fields.message;
    for (const [k, v] of Object.entries(fields)) if (Array.isArray(v) && v.length === 0) delete fields[k];
    logger.log(EVENT_LEVEL[e.type] ?? 'info', text, { seq: e.seq, ...fields });
  }
}
