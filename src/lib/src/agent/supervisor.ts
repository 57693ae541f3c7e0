/**
 * The supervisor: runs one service per state-file section that a service provider runs, and
 * applies reloads as differences.
 *
 * A reload reads the state file (bounded, a regular file, as every reader does) and validates it
 * whole with the installed `ha:sections` providers' schemas and checks. A file that does not
 * validate is refused and the services go on running the previous one; the result says why. Of a
 * valid file, a section whose JSON is the same as the one running (keys in any order) is not
 * touched at all; a changed one is handed to its service's reload(); a removed one is stopped; a
 * new one started. A service that failed to start is started again by the next reload. Reloads
 * run one at a time; reloads asked for while one runs are served by one more reload after it.
 *
 * Stopping stops the services in reverse start order, within one deadline for all: a service
 * that does not stop in time is left behind with a warning, so that the agent can always exit.
 */
import { createHash } from 'node:crypto';
import { closeSync, readSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { EXIT_FAILED, EXIT_USAGE, ErrorCode, HaError, USAGE_CODES, UsageError } from '../errors.js';
import { STATE_LIMITS, openRegular, stripBom } from '../lines.js';
import { Logger } from '../log.js';
import { NetlinkHandle, defaultHandle } from '../netlink/handle.js';
import { SectionProvider, validateState } from '../state/contract.js';
import { STATE_VERSION, StateDocument, parseState } from '../state/file.js';
import { EventBus } from './bus.js';
import { Clock, systemClock } from './clock.js';
import type { CallContext, Service, ServiceContext, ServiceMethod, ServiceProvider } from './service.js';

export interface SupervisorOptions {
  stateFile: string;
  /** The `ha:sections` providers: they validate the file. */
  sections: SectionProvider[];
  /** The `ha:services` providers: they run its sections. */
  services: Array<ServiceProvider & { plugin?: string }>;
  /** Registry the services register their metrics in. */
  metrics: Registry;
  /** The root logger: a service logs as its name, the supervisor as "agent". */
  logger?: Logger;
  bus?: EventBus;
  clock?: Clock;
  netlink?: NetlinkHandle;
  /** How long stop() waits for all services together (default 10 s). */
  stopTimeoutMs?: number;
  /** A state file missing at start is an empty one (default true): the agent runs nothing until it appears. */
  missingOk?: boolean;
}

export interface SectionChange {
  /** The section (and service) this is about. */
  section: string;
  action: 'started' | 'reloaded' | 'stopped' | 'failed';
  /** What changed, in the service's words. */
  lines: string[];
  /** Why it failed (action "failed"). */
  error?: string;
}

export interface ReloadResult {
  /** When the reload ended (ISO 8601). */
  at: string;
  /** The file was accepted and every change was made. */
  ok: boolean;
  /** The file was valid (when false, the previous file keeps running). */
  accepted: boolean;
  /** One line for people. */
  message: string;
  /** sha256 of the file's bytes (hex), when it could be read. */
  digest?: string;
  /** What was done, section by section, in the order it was done. */
  changes: SectionChange[];
  /** Sections whose JSON did not change: their services were not touched. */
  unchanged: string[];
  /** Why the file was refused, or the first failure. */
  error?: { code: string; message: string };
}

export interface ServiceStatus {
  name: string;
  /** The plugin that provides it. */
  plugin?: string;
  state: 'running' | 'failed';
  /** When it was started, or failed to start (ISO 8601). */
  since: string;
  /** sha256 of the section's JSON it runs (keys sorted). */
  digest: string;
  /** What the service says of itself. */
  status: unknown;
  error?: string;
}

export interface SupervisorStatus {
  stateFile: string;
  /** sha256 of the file the running configuration was read from. */
  digest?: string;
  /** When that file was read (ISO 8601). */
  loadedAt?: string;
  lastReload?: ReloadResult;
  services: ServiceStatus[];
}

interface Running {
  provider: ServiceProvider & { plugin?: string };
  service?: Service;
  /** The section it runs, as canonical JSON. */
  json: string;
  since: string;
  abort: AbortController;
  error?: string;
}

/** JSON with object keys sorted at every level: the same text for the same data. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = (v as Record<string, unknown>)[k];
      return out;
    }
    return v;
  }) ?? 'null';
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The state file's bytes, within the state-file bounds; undefined when it does not exist. */
export function readStateBytes(file: string): Buffer | undefined {
  let opened;
  try {
    opened = openRegular(file, `state file ${file}`, STATE_LIMITS);
  } catch (error) {
    if (error instanceof UsageError && error.code === 'ENOFILE') return undefined;
    throw error;
  }
  const { fd, size } = opened;
  try {
    const buf = Buffer.allocUnsafe(Math.min(size, STATE_LIMITS.maxBytes) + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
      if (got === buf.length) throw new UsageError(`state file ${file} is larger than 64 MiB or grew while being read`, 'EINPUT');
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Run `work`, but give up waiting after `ms` (the work goes on, unheeded). */
async function within<T>(ms: number, work: Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ done: false }>((resolve) => { timer = setTimeout(() => resolve({ done: false }), Math.max(0, ms)); });
  try {
    return await Promise.race([work.then((value) => ({ done: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

export class Supervisor {
  readonly bus: EventBus;
  readonly clock: Clock;
  private readonly root: Logger;
  private readonly logger: Logger;
  private readonly running = new Map<string, Running>();
  private readonly services: Array<ServiceProvider & { plugin?: string }>;
  private current?: Promise<ReloadResult>;
  private queued?: Promise<ReloadResult>;
  private stopping = false;
  /** The first read: a refused file is thrown by start(), not published. */
  private starting = false;
  private digest?: string;
  private loadedAt?: string;
  private last?: ReloadResult;

  constructor(private readonly options: SupervisorOptions) {
    this.root = options.logger ?? new Logger();
    this.logger = this.root.child('agent');
    this.bus = options.bus ?? new EventBus({ logger: this.logger });
    this.clock = options.clock ?? systemClock;
    this.services = [...options.services].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
    const names = new Set<string>();
    for (const s of this.services) {
      if (names.has(s.name)) throw new HaError(`two agent services run section "${s.name}"`);
      names.add(s.name);
    }
  }

  get stateFile(): string {
    return this.options.stateFile;
  }

  /**
   * Read the file and start a service for every section it has. A file that does not validate
   * throws (the agent does not start on it); a service that fails to start is reported in the
   * result and retried on the next reload.
   */
  async start(): Promise<ReloadResult> {
    this.starting = true;
    const r = await this.reload().finally(() => { this.starting = false; });
    if (!r.accepted) {
      const code = (r.error?.code ?? 'EFAILED') as ErrorCode;
      throw new HaError(r.error?.message ?? r.message, { code, exitCode: code in USAGE_CODES ? EXIT_USAGE : EXIT_FAILED });
    }
    return r;
  }

  /** Re-read the state file and apply what changed (one reload at a time; see the module comment). */
  reload(): Promise<ReloadResult> {
    if (this.stopping) return Promise.resolve(this.refused(undefined, { code: 'ECONFLICT', message: 'the agent is stopping; nothing was reloaded' }));
    if (!this.current) {
      this.current = this.apply().finally(() => { this.current = undefined; });
      return this.current;
    }
    this.queued ??= this.current.catch(() => undefined).then(() => {
      this.queued = undefined;
      return this.reload();
    });
    return this.queued;
  }

  /** Stop every service, newest order first, within the deadline. */
  async stop(): Promise<{ stopped: string[]; abandoned: string[] }> {
    this.stopping = true;
    const deadline = Date.now() + (this.options.stopTimeoutMs ?? 10_000);
    // a reload in progress finishes first (a half-applied reload is not stopped halfway)
    if (this.current) await within(deadline - Date.now(), this.current.catch(() => undefined));
    const stopped: string[] = [];
    const abandoned: string[] = [];
    for (const name of [...this.running.keys()].reverse()) {
      // past the deadline (a service hung) each of the rest still gets a moment to stop
      const ok = await this.stopOne(name, Math.max(100, deadline - Date.now()));
      (ok ? stopped : abandoned).push(name);
    }
    return { stopped, abandoned };
  }

  status(): SupervisorStatus {
    const services: ServiceStatus[] = [];
    for (const [name, r] of this.running) {
      let status: unknown = null;
      if (r.service) {
        try {
          status = r.service.status() ?? null;
        } catch (error) {
          status = { error: errorText(error) };
        }
      }
      services.push({
        name,
        ...(r.provider.plugin ? { plugin: r.provider.plugin } : {}),
        state: r.service ? 'running' : 'failed',
        since: r.since,
        digest: sha256(r.json),
        status,
        ...(r.error ? { error: r.error } : {}),
      });
    }
    return {
      stateFile: this.options.stateFile,
      ...(this.digest ? { digest: this.digest } : {}),
      ...(this.loadedAt ? { loadedAt: this.loadedAt } : {}),
      ...(this.last ? { lastReload: this.last } : {}),
      services,
    };
  }

  /** The control method "service.name" of a running service, if there is one. */
  method(name: string): ServiceMethod | undefined {
    const dot = name.indexOf('.');
    if (dot <= 0) return undefined;
    const methods = this.running.get(name.slice(0, dot))?.service?.methods;
    const key = name.slice(dot + 1);
    // own properties only: "vrrp.constructor" or "vrrp.toString" are not methods
    if (!methods || !Object.hasOwn(methods, key)) return undefined;
    const m = methods[key];
    return typeof m === 'function' ? m.bind(methods) : undefined;
  }

  /** Every control method the running services answer. */
  methodNames(): string[] {
    const out: string[] = [];
    for (const [name, r] of this.running) for (const m of Object.keys(r.service?.methods ?? {})) out.push(`${name}.${m}`);
    return out.sort();
  }

  /** Call a service's control method (undefined method: a HaError). */
  async call(name: string, params: unknown, call: CallContext): Promise<unknown> {
    const m = this.method(name);
    if (!m) throw new HaError(`no method ${name}`, { code: 'ENOENT' });
    return m(params, call);
  }

  private refused(digest: string | undefined, error: { code: string; message: string }): ReloadResult {
    return {
      at: new Date().toISOString(),
      ok: false,
      accepted: false,
      message: `${error.message}; ${this.loadedAt ? 'the agent keeps running the previous configuration' : 'nothing was started'}`,
      ...(digest ? { digest } : {}),
      changes: [],
      unchanged: [],
      error,
    };
  }

  /** Read and validate the file: the document, or the reason it is refused. */
  private read(): { doc: StateDocument; digest?: string } | { error: { code: string; message: string }; digest?: string } {
    const file = this.options.stateFile;
    let digest: string | undefined;
    try {
      const bytes = readStateBytes(file);
      if (!bytes) {
        // at start, a missing file runs nothing until it appears; once running, a file that
        // went away is refused like an invalid one (the services keep running)
        if (this.options.missingOk === false || this.loadedAt !== undefined) throw new UsageError(`state file ${file} does not exist`, 'ENOFILE');
        return { doc: { version: STATE_VERSION } };
      }
      digest = sha256(bytes);
      const doc = parseState(file, stripBom(bytes.toString('utf8')));
      return { doc: validateState(file, doc, this.options.sections), digest };
    } catch (error) {
      if (error instanceof HaError) return { error: { code: error.code, message: error.message }, digest };
      return { error: { code: 'EFAILED', message: `state file ${file}: ${errorText(error)}` }, digest };
    }
  }

  private async apply(): Promise<ReloadResult> {
    const read = this.read();
    if ('error' in read) {
      const r = this.refused(read.digest, read.error);
      this.finish(r);
      return r;
    }
    const { doc, digest } = read;
    const changes: SectionChange[] = [];
    const unchanged: string[] = [];
    const wanted = this.services.filter((p) => doc[p.name] !== undefined);
    // removed sections first, newest order first, so that what follows starts on a clean slate
    for (const name of [...this.running.keys()].reverse()) {
      if (wanted.some((p) => p.name === name)) continue;
      const ok = await this.stopOne(name, this.options.stopTimeoutMs ?? 10_000);
      changes.push(ok ? { section: name, action: 'stopped', lines: [] } : { section: name, action: 'failed', lines: [], error: 'did not stop in time; abandoned' });
    }
    for (const p of wanted) {
      const section = doc[p.name];
      const json = canonicalJson(section);
      const r = this.running.get(p.name);
      if (r?.service && r.json === json) {
        unchanged.push(p.name);
        continue;
      }
      changes.push(r?.service ? await this.reloadOne(r, section, json) : await this.startOne(p, section, json));
    }
    const failed = changes.filter((c) => c.action === 'failed');
    const counts = (['started', 'reloaded', 'stopped'] as const).map((a) => [a, changes.filter((c) => c.action === a).length] as const).filter(([, n]) => n > 0);
    const what = counts.length ? counts.map(([a, n]) => `${n} ${a}`).join(', ') : 'nothing changed';
    const where = digest ? this.options.stateFile : `${this.options.stateFile} (missing: no sections)`;
    const message = failed.length
      ? `reloaded ${where}: ${what}; ${failed.map((f) => `${f.section} failed: ${f.error}`).join('; ')}`
      : `reloaded ${where}: ${what}${unchanged.length ? ` (${unchanged.length} unchanged)` : ''}`;
    const result: ReloadResult = {
      at: new Date().toISOString(),
      ok: failed.length === 0,
      accepted: true,
      message,
      ...(digest ? { digest } : {}),
      changes,
      unchanged,
      ...(failed.length ? { error: { code: 'EFAILED', message: `${failed[0]!.section}: ${failed[0]!.error}` } } : {}),
    };
    this.digest = digest;
    this.loadedAt = result.at;
    this.finish(result);
    return result;
  }

  private finish(r: ReloadResult): void {
    if (this.starting && !r.accepted) return;
    this.last = r;
    this.bus.publish('agent', r.accepted ? 'reload' : 'reload-refused', {
      ok: r.ok, message: r.message, ...(r.digest ? { digest: r.digest } : {}),
      changes: r.changes.map((c) => ({ section: c.section, action: c.action, ...(c.error ? { error: c.error } : {}) })),
    });
  }

  private context(p: ServiceProvider, abort: AbortController): ServiceContext {
    return {
      logger: this.root.child(p.name),
      bus: this.bus,
      clock: this.clock,
      metrics: this.options.metrics,
      netlink: this.options.netlink ?? defaultHandle(),
      stateFile: this.options.stateFile,
      signal: abort.signal,
    };
  }

  private async startOne(p: ServiceProvider & { plugin?: string }, section: unknown, json: string): Promise<SectionChange> {
    const abort = new AbortController();
    const since = new Date().toISOString();
    try {
      const service = await p.start(this.context(p, abort), section);
      this.running.set(p.name, { provider: p, service, json, since, abort });
      this.bus.publish('agent', 'service-started', { service: p.name });
      return { section: p.name, action: 'started', lines: [] };
    } catch (error) {
      abort.abort();
      this.running.set(p.name, { provider: p, json, since, abort, error: errorText(error) });
      this.bus.publish('agent', 'service-failed', { service: p.name, error: errorText(error) });
      return { section: p.name, action: 'failed', lines: [], error: `could not start: ${errorText(error)}` };
    }
  }

  private async reloadOne(r: Running, section: unknown, json: string): Promise<SectionChange> {
    const name = r.provider.name;
    try {
      const lines = (await r.service!.reload(section)) ?? [];
      r.json = json;
      this.bus.publish('agent', 'service-reloaded', { service: name, lines });
      return { section: name, action: 'reloaded', lines: lines.map(String) };
    } catch (error) {
      // the service keeps the section it had (the contract of Service.reload)
      this.bus.publish('agent', 'service-failed', { service: name, error: errorText(error) });
      return { section: name, action: 'failed', lines: [], error: `reload failed, still running the previous section: ${errorText(error)}` };
    }
  }

  /** Stop one service within `ms`; false when it did not stop in time (it is forgotten anyway). */
  private async stopOne(name: string, ms: number): Promise<boolean> {
    const r = this.running.get(name);
    if (!r) return true;
    this.running.delete(name);
    r.abort.abort();
    if (!r.service) return true;
    let ok = true;
    try {
      const done = await within(ms, r.service.stop());
      ok = done.done;
      if (!ok) this.logger.warn('service did not stop in time; abandoned', { service: name });
    } catch (error) {
      this.logger.error('service failed to stop cleanly', { service: name, error: errorText(error) });
    }
    this.bus.publish('agent', 'service-stopped', { service: name, ...(ok ? {} : { abandoned: true }) });
    return ok;
  }
}
