/**
 * The agent's control protocol: newline-delimited JSON on a unix socket.
 *
 *   request   {"v":1,"id":7,"method":"agent.status","params":{}}
 *   result    {"v":1,"id":7,"result":{...}}
 *   error     {"v":1,"id":7,"error":{"code":"ENOSYS","message":"..."}}
 *   event     {"v":1,"event":{"seq":12,"time":"...","source":"vrrp","type":"transition","data":{...}}}
 *
 * Ids are numbers or strings chosen by the client; responses may come in any order and carry the
 * id of their request (null when the request was too broken to have one). After a `subscribe`
 * request the connection also carries event lines, in order, until it closes. Error codes are
 * names from the same closed set as the CLI's `--json` errors (errno names for protocol faults),
 * so a client can hand them on unchanged:
 *
 *   EBADMSG          the line is not JSON
 *   EPROTO           not a request (no id, no method, not an object)
 *   EPROTONOSUPPORT  a protocol version this agent does not speak
 *   ENOSYS           no such method
 *   EINVAL           params are not what the method takes
 *   EMSGSIZE         a line over 64 KiB (the connection is closed)
 *   EBUSY            too many clients
 *   EOVERFLOW        a subscriber that does not read fell too far behind (the connection is closed)
 *
 * and the codes of the errors methods throw (ESTATE for a state file that does not validate…).
 */
import { resolve } from 'node:path';
import { runDir } from '../lock.js';
import type { AgentEvent } from './bus.js';

export const PROTOCOL_VERSION = 1;
/** The longest line an agent reads (a request); longer ones close the connection. */
export const MAX_REQUEST_LINE = 64 * 1024;
/** The longest line a client reads (a result: a status of many services). */
export const MAX_RESPONSE_LINE = 16 * 1024 * 1024;

export type RequestId = number | string;

export interface Request {
  v: typeof PROTOCOL_VERSION;
  id: RequestId;
  method: string;
  params?: Record<string, unknown>;
}

export interface ErrorBody {
  code: string;
  message: string;
}

export type Response =
  | { v: typeof PROTOCOL_VERSION; id: RequestId; result: unknown }
  | { v: typeof PROTOCOL_VERSION; id: RequestId | null; error: ErrorBody };

export interface EventLine {
  v: typeof PROTOCOL_VERSION;
  event: AgentEvent;
}

/** The socket: --socket, then $HA_AGENT_SOCKET, then $HA_RUN_DIR/agent.sock (/run/ha/agent.sock). */
export function resolveSocketPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag || env.HA_AGENT_SOCKET || `${runDir(env)}/agent.sock`);
}

/** A protocol error: what the agent answers a line it cannot serve. */
export class ProtocolError extends Error {
  constructor(readonly code: string, message: string, readonly id: RequestId | null = null) {
    super(message);
  }
}

const isId = (v: unknown): v is RequestId => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 256);

/** Check one request line; throws a ProtocolError saying what is wrong with it. */
export function parseRequest(line: string): Request {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (error) {
    throw new ProtocolError('EBADMSG', `not JSON: ${(error as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ProtocolError('EPROTO', 'a request is a JSON object {"v":1,"id":…,"method":…,"params":{…}}');
  const r = doc as Record<string, unknown>;
  const id = isId(r.id) ? r.id : null;
  if (id === null) throw new ProtocolError('EPROTO', 'a request needs an "id": a number, or a string of at most 256 characters');
  if (r.v !== PROTOCOL_VERSION) {
    throw new ProtocolError('EPROTONOSUPPORT', `${r.v === undefined ? 'no protocol version ("v")' : `protocol version ${JSON.stringify(r.v)}`}: this agent speaks version ${PROTOCOL_VERSION}`, id);
  }
  if (typeof r.method !== 'string' || r.method.length === 0 || r.method.length > 128) throw new ProtocolError('EPROTO', 'a request needs a "method": a name such as "agent.status"', id);
  if (r.params !== undefined && (r.params === null || typeof r.params !== 'object' || Array.isArray(r.params))) throw new ProtocolError('EINVAL', '"params" must be an object', id);
  return { v: PROTOCOL_VERSION, id, method: r.method, ...(r.params !== undefined ? { params: r.params as Record<string, unknown> } : {}) };
}

const BIG = '\u0000bigint:';

/** One line of JSON (no newline inside), bigints as plain numbers. */
export function jsonLine(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${BIG}${v}` : v));
  return `${text.includes(BIG) ? text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1') : text}\n`;
}

/**
 * Splits a byte stream into lines of at most `max` bytes (without the newline; a CR before it is
 * dropped; empty lines are skipped). What it holds is bounded by `max`: a longer line, ended or
 * not, calls onTooLong once, and the reader takes no more.
 */
export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;
  private dead = false;

  constructor(private readonly max: number, private readonly onLine: (line: string) => void, private readonly onTooLong: () => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (!this.dead) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.size + (end - start) > this.max) {
        this.dead = true;
        this.parts = [];
        this.onTooLong();
        return;
      }
      if (nl === -1) {
        if (end > start) {
          this.parts.push(chunk.subarray(start));
          this.size += end - start;
        }
        return;
      }
      const piece = chunk.subarray(start, nl);
      const line = this.parts.length ? Buffer.concat([...this.parts, piece]) : piece;
      this.parts = [];
      this.size = 0;
      start = nl + 1;
      const len = line.length > 0 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
      if (len > 0) this.onLine(line.toString('utf8', 0, len));
    }
  }
}
