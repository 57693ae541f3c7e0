/**
 * Netlink sessions: a long-lived socket of one protocol (one per protocol per NetlinkHandle,
 * handle.ts), request/ACK matching by sequence number, dumps, and bulk requests pipelined with a
 * bounded in-flight window and several messages per datagram.
 *
 * Built on NetlinkSocket (socket.ts, ha's own native addon). The framing, matching and error
 * translation are ours so that we control batching and error messages.
 */
import { HaError, errnoCode } from '../errors.js';
import { ErrorContext, NetlinkError, errnoName } from './errno.js';
import {
  NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
  NetlinkMessage, encodeMessage, errorCode, extAckMessage, parseMessages,
} from './message.js';
import { NetlinkSocket, type NetlinkSocketOptions } from './socket.js';
import { align4 } from './attr.js';

/** What a session sends through and hears from: a NetlinkSocket, or a fake one in tests (testing/fake-netlink.ts). */
export interface Transport {
  readonly receiveBuffer: number;
  onDatagram: (datagram: Buffer) => void;
  onError: (errno: number) => void;
  /** 0, or -errno. */
  send(datagram: Buffer | Buffer[]): number;
  addMembership(group: number): void;
  keepAlive(on: boolean): void;
  close(): void;
}

export type TransportFactory = (protocol: number) => Transport;

export const socketTransport = (options: NetlinkSocketOptions = {}): TransportFactory => (protocol) => new NetlinkSocket(protocol, options);

const ENOBUFS = 105;

export interface Request {
  type: number;
  /** Extra flags (NLM_F_REQUEST is always set; NLM_F_ACK is set for everything but dumps). */
  flags?: number;
  payload: Uint8Array | Uint8Array[];
  /** How errors for this request are worded. */
  context?: ErrorContext;
}

export type Outcome =
  | { ok: true; messages: NetlinkMessage[] }
  | { ok: false; error: HaError };

export interface BulkOptions {
  /** Most messages in flight at once (default 256). */
  window?: number;
  /** Most messages packed into one datagram (default 32). */
  perDatagram?: number;
  /** Stop sending new requests after the first failure (default true). */
  stopOnError?: boolean;
  /**
   * Ask for an ACK only on the last request of each datagram (default true): the kernel reports
   * errors anyway and handles a datagram in order, so one ACK confirms them all, which saves a
   * receive per request. Requests whose replies carry data (GET) keep them either way.
   */
  ackLastOnly?: boolean;
  /** Checked before each datagram: when it returns true nothing more is sent (outcomes of unsent requests are undefined). */
  shouldStop?: () => boolean;
}

interface Pending {
  dump: boolean;
  messages: NetlinkMessage[];
  interrupted: boolean;
  context?: ErrorContext;
  settle(outcome: Outcome): void;
  /** dumpEach(): each data message goes here as it arrives, neither copied nor kept. */
  each?: (msg: NetlinkMessage) => void;
}

/**
 * One datagram of a bulk run: consecutive sequence numbers first..first+count-1, settled one by
 * one (errors, or ACKs when every request asks for one) and all at once when the last is answered
 * (the kernel handles a datagram in order and reports every error: the unanswered ones succeeded).
 * One of these per datagram instead of a pending entry, closure and buffer per request.
 */
interface Batch {
  first: number;
  count: number;
  left: number;
  settled: Uint8Array;
  contexts: Array<ErrorContext | undefined>;
  /** Data replies (a GET in a bulk run), by position; made on the first one. */
  data?: Map<number, NetlinkMessage[]>;
  settle(k: number, outcome: Outcome): void;
  /** After the batch's last answer. */
  done(): void;
}

/** A success without data: one shared object (a restore settles 100,000 of them). */
const DONE: Outcome = Object.freeze({ ok: true, messages: Object.freeze([]) as unknown as NetlinkMessage[] }) as Outcome;

export class NetlinkSession {
  /** The default handle's session for a protocol (NETLINK_ROUTE, NETLINK_GENERIC, …). */
  static get(protocol: number): NetlinkSession {
    return defaultSession(protocol);
  }

  /** Close the default handle's sessions (a command does when it ends). */
  static closeAll(): void {
    closeDefault();
  }

  readonly protocol: number;
  private socket?: Transport;
  private seq = (Math.random() * 0x7fffffff) >>> 0;
  private readonly pending = new Map<number, Pending>();
  /** Bulk datagrams in flight (a few: the window over the datagram size). */
  private batches: Batch[] = [];
  private readonly listeners = new Set<Subscriber>();
  /** Extra sockets for dumpMany. */
  private readonly helpers: NetlinkSession[] = [];
  /** Datagrams sent, for tests and benchmarks that count system calls. */
  datagramsSent = 0;

  /** Use NetlinkHandle.session(); `transport` makes the socket (ha's own, or a test's fake). */
  constructor(protocol: number, private readonly transport: TransportFactory = socketTransport(), private readonly onClose?: () => void) {
    this.protocol = protocol;
  }

  private open(): Transport {
    if (this.socket) return this.socket;
    const sock = this.transport(this.protocol);
    sock.onDatagram = (buf) => this.receive(buf);
    sock.onError = (errno) => this.socketError(errno);
    this.socket = sock;
    return sock;
  }

  /**
   * Most requests in flight at once: when every one of them fails, each gets its own error
   * reply, and all of them must fit in the receive queue or the kernel drops some (ENOBUFS).
   * An error reply costs the queue about 1 KiB (capped ACKs, so the request is not echoed).
   */
  private windowLimit(): number {
    const bytes = this.open().receiveBuffer;
    return Math.max(16, Math.floor(bytes / 2 / 1024));
  }

  /** A socket error: ENOBUFS means replies were lost, so every pending request fails and subscribers resync. */
  private socketError(errno: number): void {
    const error = errno === ENOBUFS
      ? new HaError('netlink replies were lost (the receive queue overran); nothing more was sent', { code: 'ENOBUFS' })
      : new HaError(`netlink socket error: ${errnoName(errno)}`, { code: errnoCode(errnoName(errno)) });
    this.failAll(error);
    for (const l of this.listeners) l.onError?.(error);
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    return this.seq;
  }

  private receive(buf: Buffer): void {
    for (const msg of parseMessages(buf)) {
      const p = this.pending.get(msg.seq);
      if (!p) {
        const b = this.batches.length ? this.batchOf(msg.seq) : undefined;
        if (b) this.batchReply(b, msg);
        else for (const l of this.listeners) l.onMessage(msg);
        continue;
      }
      if (msg.flags & NLM_F_DUMP_INTR) p.interrupted = true;
      if (msg.type === NLMSG_ERROR) {
        const errno = errorCode(msg);
        this.finish(msg.seq, errno === 0
          ? { ok: true, messages: p.messages }
          : { ok: false, error: new NetlinkError(errno, p.context, extAckMessage(msg)) });
      } else if (msg.type === NLMSG_DONE) {
        const errno = msg.data.length >= 4 ? -msg.data.readInt32LE(0) : 0;
        if (errno > 0) this.finish(msg.seq, { ok: false, error: new NetlinkError(errno, p.context) });
        else if (p.interrupted) this.finish(msg.seq, { ok: false, error: new DumpInterrupted() });
        else this.finish(msg.seq, { ok: true, messages: p.messages });
      } else if (msg.type === NLMSG_NOOP || msg.type === NLMSG_OVERRUN) {
        continue;
      } else if (p.each) {
        p.each(msg);
      } else {
        p.messages.push({ ...msg, data: Buffer.from(msg.data) });
      }
    }
  }

  /** Nothing in flight: no request, no bulk datagram. */
  private quiet(): boolean {
    return this.pending.size === 0 && this.batches.length === 0;
  }

  /** Let the process exit once nothing is in flight and nobody listens. */
  private release(): void {
    if (this.quiet() && this.listeners.size === 0) this.socket?.keepAlive(false);
  }

  /** A batch request's success: its data replies, if it had any. */
  private static success(b: Batch, k: number): Outcome {
    const data = b.data?.get(k);
    return data ? { ok: true, messages: data } : DONE;
  }

  private batchOf(seq: number): Batch | undefined {
    for (const b of this.batches) if (((seq - b.first) >>> 0) < b.count) return b;
    return undefined;
  }

  private batchReply(b: Batch, msg: NetlinkMessage): void {
    const k = (msg.seq - b.first) >>> 0;
    if (msg.type === NLMSG_ERROR) {
      const errno = errorCode(msg);
      this.settleIn(b, k, errno === 0 ? NetlinkSession.success(b, k) : { ok: false, error: new NetlinkError(errno, b.contexts[k], extAckMessage(msg)) });
      if (k === b.count - 1) this.endBatch(b, undefined);
    } else if (msg.type !== NLMSG_NOOP && msg.type !== NLMSG_OVERRUN && msg.type !== NLMSG_DONE) {
      b.data ??= new Map();
      const list = b.data.get(k) ?? [];
      list.push({ ...msg, data: Buffer.from(msg.data) });
      b.data.set(k, list);
    }
  }

  private settleIn(b: Batch, k: number, outcome: Outcome): void {
    if (b.settled[k]) return;
    b.settled[k] = 1;
    b.left--;
    b.settle(k, outcome);
  }

  /** The batch's last request was answered (error undefined: the rest succeeded), or it failed as a whole. */
  private endBatch(b: Batch, error: HaError | undefined): void {
    const i = this.batches.indexOf(b);
    if (i === -1) return;
    this.batches.splice(i, 1);
    for (let k = 0; k < b.count && b.left > 0; k++) {
      if (!b.settled[k]) this.settleIn(b, k, error ? { ok: false, error } : NetlinkSession.success(b, k));
    }
    this.release();
    b.done();
  }

  private finish(seq: number, outcome: Outcome): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    this.release();
    p.settle(outcome);
  }

  private failAll(error: HaError): void {
    for (const seq of [...this.pending.keys()]) this.finish(seq, { ok: false, error });
    for (const b of [...this.batches]) this.endBatch(b, error);
  }

  /** Frame a request and register it; returns the bytes to send. */
  private prepare(req: Request, settle: (o: Outcome) => void, ack = true, each?: (msg: NetlinkMessage) => void): Buffer {
    const sock = this.open();
    const dump = isDump(req);
    const seq = this.nextSeq();
    const flags = NLM_F_REQUEST | (req.flags ?? 0) | (dump || !ack ? 0 : NLM_F_ACK);
    const parts = Array.isArray(req.payload) ? req.payload : [req.payload as Uint8Array];
    const bytes = encodeMessage({ type: req.type, flags, seq, pid: 0 }, ...parts);
    if (this.quiet()) sock.keepAlive(true);
    this.pending.set(seq, { dump, messages: [], interrupted: false, context: req.context, settle, each });
    return bytes;
  }

  private transmit(datagram: Buffer[] | Buffer, seqsOf: () => number[]): void {
    this.datagramsSent++;
    // the kernel handles a datagram inside sendmsg: its replies are queued when this returns
    const rc = this.socket!.send(datagram);
    if (rc === 0) return;
    const error = sendError(rc);
    // settled later, not from inside the caller's send loop
    queueMicrotask(() => {
      for (const seq of seqsOf()) this.finish(seq, { ok: false, error });
    });
  }

  /** Send one request; resolves with the data messages received before the ACK (or DONE). */
  request(req: Request): Promise<NetlinkMessage[]> {
    return this.requestWith(req);
  }

  private async requestWith(req: Request, each?: (msg: NetlinkMessage) => void): Promise<NetlinkMessage[]> {
    const outcome = await new Promise<Outcome>((resolve) => {
      const bytes = this.prepare(req, resolve, true, each);
      const seq = bytes.readUInt32LE(8);
      this.transmit(bytes, () => [seq]);
    });
    if (!outcome.ok) throw outcome.error;
    return outcome.messages;
  }

  /** Dump a table (adds NLM_F_DUMP); retried up to 3 times when the kernel reports it changed mid-dump. */
  async dump(req: Request): Promise<NetlinkMessage[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request({ ...req, flags: (req.flags ?? 0) | NLM_F_DUMP });
      } catch (error) {
        if (!(error instanceof DumpInterrupted) || attempt >= 2) throw error;
      }
    }
  }

  /**
   * dump() for a big table read once: each data message is decoded as it arrives, straight from
   * the receive buffer (its data is valid only during the call, so `decode` copies what it keeps),
   * instead of every message being copied and held until the dump ends; the values `decode`
   * returns (undefined ones dropped), in order. A decode that throws fails the dump, once the
   * kernel has finished it (the socket is left with nothing pending). Retried like dump().
   */
  async dumpEach<T>(req: Request, decode: (msg: NetlinkMessage) => T | undefined): Promise<T[]> {
    for (let attempt = 0; ; attempt++) {
      const values: T[] = [];
      let failed = false;
      let failure: unknown;
      const each = (msg: NetlinkMessage): void => {
        if (failed) return;
        try {
          const v = decode(msg);
          if (v !== undefined) values.push(v);
        } catch (error) {
          failed = true;
          failure = error;
        }
      };
      try {
        await this.requestWith({ ...req, flags: (req.flags ?? 0) | NLM_F_DUMP }, each);
      } catch (error) {
        if (!(error instanceof DumpInterrupted) || attempt >= 2) throw error;
        continue;
      }
      if (failed) throw failure;
      return values;
    }
  }

  /**
   * Many dumps at once. The kernel runs one dump per socket at a time (a second one gets EBUSY),
   * so they are spread over this session's socket and a few helper sockets of the same protocol,
   * created on first use and closed with the session. Results come back in request order.
   */
  async dumpMany(requests: Request[], parallel = 8): Promise<NetlinkMessage[][]> {
    const width = Math.max(1, Math.min(parallel, requests.length));
    while (this.helpers.length < width - 1) this.helpers.push(new NetlinkSession(this.protocol, this.transport));
    const workers = [this, ...this.helpers.slice(0, width - 1)];
    const results: NetlinkMessage[][] = new Array(requests.length);
    let next = 0;
    await Promise.all(workers.map(async (w) => {
      while (next < requests.length) {
        const i = next++;
        results[i] = await w.dump(requests[i]!);
      }
    }));
    return results;
  }

  /**
   * Send many requests pipelined: at most `window` in flight, up to `perDatagram` per datagram.
   * Returns one outcome per request, in order; with stopOnError (the default), requests after the
   * first failure are not sent and their outcome is undefined.
   */
  async bulk(requests: Iterable<Request>, options: BulkOptions = {}): Promise<(Outcome | undefined)[]> {
    const window = Math.max(1, Math.min(options.window ?? 256, this.windowLimit()));
    const perDatagram = Math.max(1, Math.min(options.perDatagram ?? 32, window));
    const stopOnError = options.stopOnError ?? true;
    const ackLastOnly = options.ackLastOnly ?? true;
    const shouldStop = options.shouldStop ?? ((): boolean => false);
    const iter = requests[Symbol.iterator]();
    const outcomes: (Outcome | undefined)[] = [];
    let inFlight = 0;
    let exhausted = false;
    let failed = false;

    await new Promise<void>((resolveAll, rejectAll) => {
      const pump = (): void => {
        try {
          // refill only when a whole datagram's worth of the window is free, so that replies
          // arriving one by one do not turn into one datagram per request
          let stopped = false;
          while (!exhausted && !(stopOnError && failed) && (window - inFlight >= perDatagram || inFlight === 0)) {
            if (shouldStop()) { stopped = true; break; }
            const reqs: Request[] = [];
            while (reqs.length < perDatagram && inFlight + reqs.length < window) {
              const next = iter.next();
              if (next.done) { exhausted = true; break; }
              reqs.push(next.value);
            }
            if (reqs.length === 0) break;
            const base = outcomes.length;
            for (let k = 0; k < reqs.length; k++) outcomes.push(undefined);
            inFlight += reqs.length;
            const settle = (k: number, o: Outcome): void => {
              outcomes[base + k] = o;
              inFlight--;
              if (!o.ok) failed = true;
            };
            if (reqs.some(isDump)) this.sendEach(reqs, settle, pump);
            else this.sendBatch(reqs, !ackLastOnly, settle, pump);
          }
          if (inFlight === 0 && (exhausted || stopped || (stopOnError && failed))) resolveAll();
        } catch (error) {
          rejectAll(error);
        }
      };
      pump();
    });
    return outcomes;
  }

  /** A bulk datagram: every request framed straight into one buffer, one Batch for all of them. */
  private sendBatch(reqs: Request[], ackEach: boolean, settle: Batch['settle'], done: () => void): void {
    const sock = this.open();
    const count = reqs.length;
    // consecutive sequence numbers, never 0
    if (this.seq > 0xffffffff - count) this.seq = 0;
    const first = this.seq + 1;
    this.seq += count;
    const lens = new Array<number>(count);
    // read once: a request may make its payload when asked (a restore's route steps do)
    const payloads = new Array<Uint8Array | Uint8Array[]>(count);
    let total = 0;
    for (let k = 0; k < count; k++) {
      const p = reqs[k]!.payload;
      payloads[k] = p;
      let n = NLMSG_HDRLEN;
      if (Array.isArray(p)) for (const part of p) n += part.length;
      else n += (p as Uint8Array).length;
      lens[k] = n;
      total += align4(n);
    }
    const out = Buffer.allocUnsafe(total);
    const contexts = new Array<ErrorContext | undefined>(count);
    let off = 0;
    for (let k = 0; k < count; k++) {
      const r = reqs[k]!;
      const flags = NLM_F_REQUEST | (r.flags ?? 0) | (ackEach || k === count - 1 ? NLM_F_ACK : 0);
      out.writeUInt32LE(lens[k]!, off);
      out.writeUInt16LE(r.type, off + 4);
      out.writeUInt16LE(flags, off + 6);
      out.writeUInt32LE(first + k, off + 8);
      out.writeUInt32LE(0, off + 12);
      let at = off + NLMSG_HDRLEN;
      const p = payloads[k]!;
      if (Array.isArray(p)) {
        for (const part of p) {
          out.set(part, at);
          at += part.length;
        }
      } else {
        out.set(p as Uint8Array, at);
        at += (p as Uint8Array).length;
      }
      const end = off + align4(lens[k]!);
      if (at < end) out.fill(0, at, end);
      off = end;
      contexts[k] = r.context;
    }
    const b: Batch = { first, count, left: count, settled: new Uint8Array(count), contexts, settle, done };
    if (this.quiet()) sock.keepAlive(true);
    this.batches.push(b);
    this.datagramsSent++;
    // the kernel handles a datagram inside sendmsg: its replies are queued when this returns
    const rc = sock.send(out);
    if (rc !== 0) {
      const error = sendError(rc);
      // settled later, not from inside the caller's send loop
      queueMicrotask(() => this.endBatch(b, error));
    }
  }

  /** A bulk datagram holding a dump: framed and matched request by request. */
  private sendEach(reqs: Request[], settle: Batch['settle'], done: () => void): void {
    let left = reqs.length;
    const batch: Buffer[] = [];
    const seqs: number[] = [];
    reqs.forEach((req, k) => {
      const bytes = this.prepare(req, (o) => {
        settle(k, o);
        if (--left === 0) done();
      });
      batch.push(bytes);
      seqs.push(bytes.readUInt32LE(8));
    });
    this.transmit(Buffer.concat(batch), () => seqs);
  }

  /**
   * Join a multicast group and receive its notifications (keeps the process alive until the
   * returned function is called). `onError` hears socket errors: ENOBUFS means notifications
   * were lost and the listener should read the state again.
   */
  subscribe(group: number, onMessage: (msg: NetlinkMessage) => void, onError?: (error: HaError) => void): () => void {
    const sock = this.open();
    sock.addMembership(group);
    const sub: Subscriber = { onMessage, onError };
    this.listeners.add(sub);
    sock.keepAlive(true);
    return () => {
      this.listeners.delete(sub);
      this.release();
    };
  }

  close(): void {
    for (const h of this.helpers.splice(0)) h.close();
    this.failAll(new HaError('netlink session closed'));
    this.socket?.close();
    this.socket = undefined;
    this.onClose?.();
  }
}

interface Subscriber {
  onMessage(msg: NetlinkMessage): void;
  onError?(error: HaError): void;
}

const sendError = (rc: number): HaError => new HaError(`netlink send failed: ${errnoName(-rc)}`, { code: errnoCode(errnoName(-rc)) });

const isDump = (r: Request): boolean => ((r.flags ?? 0) & NLM_F_DUMP) === NLM_F_DUMP;

class DumpInterrupted extends HaError {
  constructor() {
    super('the kernel table changed during the dump; try again');
  }
}

// the default handle's sessions, set by handle.ts (which imports this module)
let defaultSession: (protocol: number) => NetlinkSession = () => {
  throw new Error('netlink: no default handle');
};
let closeDefault: () => void = () => undefined;
export function setDefaultSessions(get: (protocol: number) => NetlinkSession, close: () => void): void {
  defaultSession = get;
  closeDefault = close;
}
