/**
 * The CLI's side of the control socket: connect, call methods, follow events.
 *
 * Errors are one line for people with a code from the closed set: no agent running (ENOAGENT,
 * saying how to start one), permission denied, an agent that does not answer in time
 * (ETIMEDOUT), and the errors the agent answers with, handed on with their codes (a state file
 * that does not validate stays ESTATE, exit 2).
 */
import { statSync } from 'node:fs';
import { Socket, createConnection } from 'node:net';
import { resolve } from 'node:path';
import { EXIT_FAILED, EXIT_USAGE, ErrorCode, FAILURE_CODES, HaError, USAGE_CODES } from '../errors.js';
import { constants } from 'node:os';
import type { AgentEvent } from './bus.js';
import { ErrorBody, LineReader, MAX_RESPONSE_LINE, PROTOCOL_VERSION, RequestId, jsonLine, resolveSocketPath } from './protocol.js';

export interface ConnectOptions {
  /** How long to wait for the connection and, by default, for each answer (default 5 s). */
  timeoutMs?: number;
}

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

/** An error the agent answered with, as the CLI reports it (same code; usage codes exit 2). */
export function remoteError(body: ErrorBody): HaError {
  const known = body.code in USAGE_CODES || body.code in FAILURE_CODES || body.code in constants.errno;
  const code = (known ? body.code : 'EFAILED') as ErrorCode;
  return new HaError(String(body.message ?? 'the agent answered with an error'), { code, exitCode: code in USAGE_CODES ? EXIT_USAGE : EXIT_FAILED });
}

/** The one-line error for a socket that cannot be connected to. */
export function connectError(path: string, error: NodeJS.ErrnoException): HaError {
  switch (error.code) {
    case 'ENOENT':
      return new HaError(`no ha agent is running (no socket at ${path}); start it with \`ha agent run\``, { code: 'ENOAGENT' });
    case 'ECONNREFUSED':
      return new HaError(`no ha agent is running (nobody answers on ${path}); start it with \`ha agent run\``, { code: 'ENOAGENT' });
    case 'EACCES':
    case 'EPERM':
      return new HaError(`cannot connect to the ha agent at ${path}: permission denied (run as root)`, { code: 'EACCES' });
    case 'ENOTSOCK':
      return new HaError(`${path} is not the socket of an ha agent (not a socket)`, { code: 'ENOTSOCK' });
    default:
      return new HaError(`cannot connect to the ha agent at ${path}: ${error.message}`, { code: (error.code && error.code in constants.errno ? error.code : 'EFAILED') as ErrorCode });
  }
}

export class AgentClient {
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private onEvents?: (event: AgentEvent) => void;
  private ended?: Error;
  private readonly closedPromise: Promise<void>;

  private constructor(readonly path: string, private readonly socket: Socket, private readonly timeoutMs: number) {
    const reader = new LineReader(MAX_RESPONSE_LINE, (line) => this.onLine(line), () => {
      this.shutdown(new HaError(`the ha agent at ${path} sent a line longer than ${MAX_RESPONSE_LINE} bytes`, { code: 'EMSGSIZE' }));
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    this.closedPromise = new Promise<void>((resolve) => {
      socket.on('close', () => {
        this.shutdown(new HaError(`the ha agent at ${path} closed the connection`, { code: 'ECONNRESET' }));
        resolve();
      });
    });
    socket.on('error', (error) => this.shutdown(new HaError(`connection to the ha agent at ${path} failed: ${error.message}`, { code: 'ECONNRESET' })));
  }

  /** Connect to the agent's socket (default: $HA_AGENT_SOCKET, then /run/ha/agent.sock). */
  static connect(path: string = resolveSocketPath(), options: ConnectOptions = {}): Promise<AgentClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise<AgentClient>((resolve, reject) => {
      const socket = createConnection(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HaError(`the ha agent at ${path} did not accept the connection within ${timeoutMs / 1000} s`, { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectError(path, error));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new AgentClient(path, socket, timeoutMs));
      });
    });
  }

  /** Call a method; resolves with its result, rejects with the agent's error (remoteError). */
  call<T = unknown>(method: string, params: Record<string, unknown> = {}, options: { timeoutMs?: number } = {}): Promise<T> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { method, resolve: resolve as (v: unknown) => void, reject };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new HaError(`the ha agent at ${this.path} did not answer ${method} within ${timeoutMs / 1000} s`, { code: 'ETIMEDOUT' }));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      this.socket.write(jsonLine({ v: PROTOCOL_VERSION, id, method, params }));
    });
  }

  /**
   * Follow the agent's events (of these sources, or all): resolves once subscribed, then calls
   * `onEvent` for each event, in order, until close().
   */
  async subscribe(sources: string[] | undefined, onEvent: (event: AgentEvent) => void): Promise<void> {
    this.onEvents = onEvent;
    await this.call('subscribe', sources && sources.length ? { sources } : {});
  }

  /** Resolves when the connection is closed (by either side). */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Why the connection ended, once it has. */
  get error(): Error | undefined {
    return this.ended;
  }

  close(): void {
    this.socket.destroy();
  }

  private onLine(line: string): void {
    let msg: { v?: unknown; id?: RequestId | null; result?: unknown; error?: ErrorBody; event?: AgentEvent };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.event) {
      this.onEvents?.(msg.event);
      return;
    }
    if (msg.id === undefined || msg.id === null) {
      // an error about the connection itself (too many clients, a line too long)
      if (msg.error) this.shutdown(remoteError(msg.error));
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) {
      // a subscription that ended (dropped for falling behind)
      if (msg.error) this.shutdown(remoteError(msg.error));
      return;
    }
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error) p.reject(remoteError(msg.error));
    else p.resolve(msg.result);
  }

  private shutdown(error: Error): void {
    if (!this.ended) this.ended = error;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.ended);
    }
    this.pending.clear();
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

/** What `ha restore` says about the agent after a restore. */
export interface AgentReloadNote {
  /** The agent took the file. */
  reloaded: boolean;
  /** One line: what the reload changed, or why it did not happen. */
  message: string;
}

/**
 * Ask a running agent to reload; undefined when no agent is running (nothing to say). With
 * `stateFile`, only an agent that runs that file is asked. Never throws: the caller's own work is
 * done, and the note says what became of the reload.
 */
export async function reloadRunningAgent(path: string = resolveSocketPath(), options: { stateFile?: string; timeoutMs?: number } = {}): Promise<AgentReloadNote | undefined> {
  let client: AgentClient;
  try {
    client = await AgentClient.connect(path, { timeoutMs: 2000 });
  } catch (error) {
    if (error instanceof HaError && error.code === 'ENOAGENT') return undefined;
    return { reloaded: false, message: `could not ask it to reload: ${(error as Error).message}` };
  }
  try {
    if (options.stateFile !== undefined) {
      const { stateFile } = await client.call<{ stateFile: string }>('agent.status');
      if (!sameFile(stateFile, options.stateFile)) return { reloaded: false, message: `not reloaded: it runs ${stateFile}, not ${options.stateFile}` };
    }
    const r = await client.call<{ ok: boolean; accepted: boolean; message: string }>('agent.reload', {}, { timeoutMs: options.timeoutMs ?? 30_000 });
    return { reloaded: r.accepted, message: r.message };
  } catch (error) {
    return { reloaded: false, message: `did not reload: ${(error as Error).message}` };
  } finally {
    client.close();
  }
}

/** Two names of one file (through symbolic links), or the same name. */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}
