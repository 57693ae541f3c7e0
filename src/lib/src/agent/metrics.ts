/**
 * Prometheus metrics of the agent and its services (`ha agent run --metrics ADDR:PORT`).
 *
 * One prom-client Registry per agent: the agent's own metrics (ha_agent_up,
 * ha_agent_reloads_total{result}, ha_agent_start_time_seconds), the process's (memory, CPU, file
 * descriptors, event-loop lag), and whatever each service registers through ctx.metrics. It is
 * served as text on GET /metrics, and nothing else: other paths are 404, other methods 405. The
 * HTTP server is bounded (connections, header and request time) like every input of the agent.
 * prom-client is loaded only by the agent, never by the CLI's other commands.
 */
import { Server, createServer } from 'node:http';
import type { Registry } from 'prom-client';
import { HaError, UsageError, errnoCode } from '../errors.js';
import { wholeNumber } from '../flags.js';
import { Logger } from '../log.js';
import { formatIp, parseIp } from '../netlink/ip.js';

export type ReloadOutcome = 'ok' | 'refused' | 'failed';

export interface AgentMetrics {
  /** Count one reload by its outcome. */
  reloaded(outcome: ReloadOutcome): void;
}

/** A registry with the process's default metrics. */
export async function createRegistry(): Promise<Registry> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  // the event-loop delay monitor wakes the loop every eventLoopMonitoringPrecision ms: at its
  // default of 10 ms it alone cost an idle agent 1.6% of a core; once a second is enough
  prom.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  return registry;
}

/** Register the agent's own metrics in `registry`. */
export async function registerAgentMetrics(registry: Registry, startedAt: Date): Promise<AgentMetrics> {
  const prom = await import('prom-client');
  const up = new prom.Gauge({ name: 'ha_agent_up', help: 'Whether the ha agent is running (1).', registers: [registry] });
  up.set(1);
  const start = new prom.Gauge({ name: 'ha_agent_start_time_seconds', help: 'When the ha agent started, in seconds since the Unix epoch.', registers: [registry] });
  start.set(startedAt.getTime() / 1000);
  const reloads = new prom.Counter({ name: 'ha_agent_reloads_total', help: 'Reloads of the state file, by result (ok, refused: the file did not validate, failed: a service failed).', labelNames: ['result'], registers: [registry] });
  for (const result of ['ok', 'refused', 'failed']) reloads.inc({ result }, 0);
  return { reloaded: (outcome) => reloads.inc({ result: outcome }) };
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** "192.0.2.1:9105", "[2001:db8::1]:9105", "localhost:9105"; one-line UsageError otherwise. */
export function parseListenAddress(text: string, what = '--metrics'): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`${what}: "${text}" is not ADDR:PORT (for example 127.0.0.1:9105 or [::1]:9105)`);
  const raw = m[1] ?? m[2]!;
  const port = wholeNumber(m[3]!, what, { min: 1, max: 65535 }, 'a port');
  if (raw === 'localhost') return { host: '127.0.0.1', port };
  const ip = parseIp(raw);
  if (!ip || (m[1] !== undefined && ip.family !== 'ipv6') || (m[2] !== undefined && ip.family !== 'ipv4')) {
    throw new UsageError(`${what}: "${raw}" is not an IP address (IPv6 in brackets: [2001:db8::1]:9105)`);
  }
  return { host: formatIp(ip.bytes), port };
}

/** The HTTP server of /metrics. */
export class MetricsServer {
  private server?: Server;

  constructor(private readonly registry: Registry, private readonly address: ListenAddress, private readonly logger: Logger = new Logger({ component: 'agent' })) {}

  /** "127.0.0.1:9105", once listening (the port the kernel chose for port 0). */
  get listening(): string | undefined {
    const a = this.server?.address();
    if (!a || typeof a === 'string') return undefined;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: metrics are at /metrics\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('only GET and HEAD\n');
        return;
      }
      this.registry.metrics().then(
        (text) => { res.writeHead(200, { 'content-type': this.registry.contentType }).end(req.method === 'HEAD' ? undefined : text); },
        (error: Error) => {
          this.logger.error('collecting metrics failed', { error: error.message });
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('collecting metrics failed\n');
        },
      );
    });
    server.maxConnections = 64;
    server.headersTimeout = 5000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'the address is in use' : error.code === 'EADDRNOTAVAIL' ? 'no interface has that address'
          : error.code === 'EACCES' ? 'permission denied' : error.message;
        reject(new HaError(`--metrics ${this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host}:${this.address.port}: cannot listen: ${why}`, { code: errnoCode(error.code) }));
      });
      server.listen(this.address.port, this.address.host, () => resolve());
    });
    server.on('error', (error) => this.logger.error('metrics server error', { error: error.message }));
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
