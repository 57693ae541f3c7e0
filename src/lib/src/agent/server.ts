/**
 * The agent's control server: the unix socket the CLI talks to (protocol.ts).
 *
 * Only one agent runs per socket: the server holds an flock on SOCKET.lock for its life (the
 * kernel drops it if the agent dies), refuses to start when another agent holds it or answers
 * on the socket, and removes a socket file that nobody answers on (left by an agent that was
 * killed). The folder is created 0755 if missing and the socket is made 0600 (created under a
 * umask, so that it is never open to others, even for an instant): the agent changes the kernel
 * for whoever can connect.
 *
 * No client can hurt the agent or the other clients: lines are bounded (64 KiB; a longer one, or
 * endless bytes without a newline, closes that connection), garbage gets an error line and the
 * connection goes on, a client that sends requests without reading the answers is no longer read
 * from until it does (its answers wait in a bounded buffer), a subscriber that does not read is
 * dropped by the bus (bus.ts), and the number of clients is bounded.
 */
import { lstatSync, chmodSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { Server, Socket, createConnection, createServer } from 'node:net';
import { dirname } from 'node:path';
import { HaError, errnoCode } from '../errors.js';
import { HeldLock, acquireLock, describeHolder, lockHolder } from '../lock.js';
import { Logger } from '../log.js';
import type { AgentEvent, EventBus, Subscription } from './bus.js';
import { LineReader, MAX_REQUEST_LINE, PROTOCOL_VERSION, ProtocolError, RequestId, jsonLine, parseRequest } from './protocol.js';
import type { CallContext, ServiceMethod } from './service.js';

export interface ControlServerOptions {
  path: string;
  bus: EventBus;
  /** The handler of a method (built-in or a service's), or undefined when there is none. */
  resolve(method: string): ServiceMethod | undefined;
  logger?: Logger;
  /** At most this many connections at once (default 1024). */
  maxClients?: number;
  /** Events a subscriber may fall behind before it is dropped (default: the bus's). */
  maxQueue?: number;
}

/** Answers waiting to be written to one client before the server stops reading its requests. */
const MAX_PENDING_OUTPUT = 1024 * 1024;
/** Requests of one client being served at once before the server stops reading its requests. */
const MAX_IN_FLIGHT = 64;

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** An event's line, made once however many subscribers it goes to. */
const eventLines = new WeakMap<AgentEvent, string>();
function eventLine(event: AgentEvent): string {
  let line = eventLines.get(event);
  if (line === undefined) {
    try {
      line = jsonLine({ v: PROTOCOL_VERSION, event });
    } catch (error) {
      line = jsonLine({ v: PROTOCOL_VERSION, event: { ...event, data: { error: `the event's data cannot be sent as JSON: ${errorText(error)}` } } });
    }
    eventLines.set(event, line);
  }
  return line;
}

class Connection {
  private readonly reader: LineReader;
  private inFlight = 0;
  private readonly subscriptions: Subscription[] = [];
  private closed = false;
  private inputEnded = false;
  readonly name: string;

  constructor(private readonly server: ControlServer, private readonly socket: Socket, n: number, private readonly options: ControlServerOptions, private readonly logger: Logger) {
    this.name = `client ${n}`;
    this.reader = new LineReader(MAX_REQUEST_LINE, (line) => this.onLine(line), () => this.tooLong());
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('drain', () => this.flowControl());
    socket.on('end', () => { this.inputEnded = true; this.maybeEnd(); });
    socket.on('error', (error) => logger.debug('connection error', { client: this.name, error: error.message }));
    socket.on('close', () => this.cleanup());
  }

  /** Write one message; false when the socket's buffer is full (wait for 'drain'). */
  send(message: unknown): boolean {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return true;
    let line: string;
    try {
      line = jsonLine(message);
    } catch (error) {
      const id = (message as { id?: RequestId }).id ?? null;
      line = jsonLine({ v: PROTOCOL_VERSION, id, error: { code: 'EFAILED', message: `the result cannot be sent as JSON: ${errorText(error)}` } });
    }
    return this.socket.write(line);
  }

  /** Write one line made beforehand. */
  private sendLine(line: string): boolean {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return true;
    return this.socket.write(line);
  }

  /** Send a last error line and close (destroying the connection if the client does not read it). */
  fail(id: RequestId | null, code: string, message: string): void {
    if (this.closed) return;
    this.send({ v: PROTOCOL_VERSION, id, error: { code, message } });
    this.closeSoon();
  }

  private closeSoon(): void {
    this.closed = true;
    this.socket.pause();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
    this.cleanup();
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
    this.cleanup();
  }

  private cleanup(): void {
    for (const s of this.subscriptions.splice(0)) s.close();
    this.server.forget(this);
  }

  private tooLong(): void {
    this.logger.debug('request line too long; closing', { client: this.name });
    this.fail(null, 'EMSGSIZE', `a request line is longer than ${MAX_REQUEST_LINE} bytes (or never ends); closing the connection`);
  }

  private onLine(line: string): void {
    if (this.closed) return;
    let request;
    try {
      request = parseRequest(line);
    } catch (error) {
      const e = error as ProtocolError;
      this.send({ v: PROTOCOL_VERSION, id: e.id ?? null, error: { code: e.code ?? 'EPROTO', message: e.message } });
      return;
    }
    if (request.method === 'subscribe') {
      this.subscribe(request.id, request.params);
      return;
    }
    const handler = this.options.resolve(request.method);
    if (!handler) {
      this.send({ v: PROTOCOL_VERSION, id: request.id, error: { code: 'ENOSYS', message: `no method "${request.method}" (try agent.status; a service's methods are named service.method)` } });
      return;
    }
    const call: CallContext = { method: request.method, client: this.name };
    const { id } = request;
    this.inFlight++;
    this.flowControl();
    Promise.resolve()
      .then(() => handler(request.params ?? {}, call))
      .then(
        (result) => { this.send({ v: PROTOCOL_VERSION, id, result: result === undefined ? null : result }); },
        (error: unknown) => {
          const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'EFAILED';
          this.send({ v: PROTOCOL_VERSION, id, error: { code, message: errorText(error) } });
        },
      )
      .finally(() => {
        this.inFlight--;
        this.flowControl();
        this.maybeEnd();
      });
  }

  private subscribe(id: RequestId, params: Record<string, unknown> | undefined): void {
    const sources = params?.sources;
    if (sources !== undefined && (!Array.isArray(sources) || sources.length > 256 || !sources.every((s) => typeof s === 'string' && s.length <= 128))) {
      this.send({ v: PROTOCOL_VERSION, id, error: { code: 'EINVAL', message: '"sources" must be a list of source names, such as ["vrrp", "agent"]' } });
      return;
    }
    const list = sources as string[] | undefined;
    const sub = this.options.bus.subscribe((event) => {
      if (this.sendLine(eventLine(event))) return undefined;
      // the client is not reading fast enough: hold this subscriber's queue until it does
      return new Promise<void>((resolve) => {
        const done = (): void => { this.socket.off('drain', done); this.socket.off('close', done); resolve(); };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      });
    }, {
      name: this.name,
      ...(list && list.length ? { sources: list } : {}),
      ...(this.options.maxQueue ? { maxQueue: this.options.maxQueue } : {}),
      onDrop: (error) => this.fail(id, 'EOVERFLOW', error.message),
    });
    this.subscriptions.push(sub);
    this.send({ v: PROTOCOL_VERSION, id, result: { subscribed: true, sources: list && list.length ? list : null } });
  }

  /** Read requests only while their answers are being taken. */
  private flowControl(): void {
    if (this.closed) return;
    if (this.inFlight >= MAX_IN_FLIGHT || this.socket.writableLength > MAX_PENDING_OUTPUT) this.socket.pause();
    else if (this.socket.isPaused()) this.socket.resume();
  }

  /** A client that sent its last request (half-close) gets its answers, then the connection ends. */
  private maybeEnd(): void {
    if (this.inputEnded && this.inFlight === 0 && this.subscriptions.length === 0 && !this.closed) {
      this.closed = true;
      this.socket.end();
    }
  }
}

export class ControlServer {
  private server?: Server;
  private lock?: HeldLock;
  private inode?: bigint;
  private readonly connections = new Set<Connection>();
  /** Every open socket, those being closed included (close() ends them all). */
  private readonly sockets = new Set<Socket>();
  private count = 0;
  private readonly logger: Logger;

  constructor(private readonly options: ControlServerOptions) {
    this.logger = options.logger ?? new Logger({ component: 'agent' });
  }

  get path(): string {
    return this.options.path;
  }

  /** Connections open now. */
  get clients(): number {
    return this.connections.size;
  }

  /** Take the socket: refuse when another agent has it, remove a stale one, listen with mode 0600. */
  async listen(): Promise<void> {
    const path = this.options.path;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    } catch (error) {
      throw this.fsError(`cannot create the folder of the agent socket ${path}`, error);
    }
    this.lock = await this.takeLock(path);
    try {
      await this.clearStale(path);
      this.server = await this.bind(path);
      chmodSync(path, 0o600);
      this.inode = statSync(path, { bigint: true }).ino;
    } catch (error) {
      this.lock.release();
      this.lock = undefined;
      throw error;
    }
  }

  /** Stop listening, close every connection, remove the socket (if it is still ours) and the lock. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of [...this.connections]) c.destroy();
    for (const socket of [...this.sockets]) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      if (this.inode !== undefined && statSync(this.options.path, { bigint: true }).ino === this.inode) unlinkSync(this.options.path);
    } catch {
      // already gone
    }
    this.lock?.release();
    this.lock = undefined;
  }

  /** @internal */
  forget(c: Connection): void {
    this.connections.delete(c);
  }

  private async takeLock(path: string): Promise<HeldLock> {
    const lockPath = `${path}.lock`;
    try {
      return await acquireLock(lockPath, { what: `the agent socket ${path}`, timeoutMs: 0, onWait: () => undefined });
    } catch (error) {
      if (error instanceof HaError && error.code === 'ELOCKED') {
        throw new HaError(`another ha agent is running with socket ${path} (${describeHolder(lockHolder(lockPath))}); stop it first, or give another --socket`, { code: 'EADDRINUSE' });
      }
      throw error;
    }
  }

  /** A socket file nobody answers on is left by an agent that was killed: remove it. */
  private async clearStale(path: string): Promise<void> {
    let st;
    try {
      st = lstatSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw this.fsError(`cannot use the agent socket ${path}`, error);
    }
    if (!st.isSocket()) throw new HaError(`${path} exists and is not a socket; remove it, or give another --socket`, { code: 'EEXIST' });
    const answer = await new Promise<'answers' | 'stale' | Error>((resolve) => {
      const probe = createConnection(path);
      const timer = setTimeout(() => { probe.destroy(); resolve('answers'); }, 1000);
      probe.once('connect', () => { clearTimeout(timer); probe.destroy(); resolve('answers'); });
      probe.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'stale' : error);
      });
    });
    if (answer === 'answers') throw new HaError(`something already answers on ${path} (another ha agent?); stop it first, or give another --socket`, { code: 'EADDRINUSE' });
    if (answer instanceof Error) throw this.fsError(`cannot probe the agent socket ${path}`, answer);
    try {
      unlinkSync(path);
      this.logger.info('removed a stale socket (its agent is gone)', { socket: path });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.fsError(`cannot remove the stale agent socket ${path}`, error);
    }
  }

  private bind(path: string): Promise<Server> {
    const server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    return new Promise<Server>((resolve, reject) => {
      server.once('error', (error) => reject(this.fsError(`cannot listen on the agent socket ${path}`, error)));
      // the socket is created by bind(2), inside listen(): under this umask it is born 0600
      const old = process.umask(0o177);
      try {
        server.listen(path, () => {
          server.removeAllListeners('error');
          server.on('error', (error) => this.logger.error('control socket error', { error: error.message }));
          resolve(server);
        });
      } finally {
        process.umask(old);
      }
    });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const max = this.options.maxClients ?? 1024;
    const c = new Connection(this, socket, ++this.count, this.options, this.logger);
    if (this.connections.size >= max) {
      c.fail(null, 'EBUSY', `the agent serves at most ${max} clients at once; try again later`);
      return;
    }
    this.connections.add(c);
  }

  private fsError(what: string, error: unknown): HaError {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (run as root, or give another --socket)'
      : code === 'EROFS' ? 'read-only file system' : code === 'EADDRINUSE' ? 'address in use' : errorText(error);
    return new HaError(`${what}: ${why}`, { code: errnoCode(code) });
  }
}
