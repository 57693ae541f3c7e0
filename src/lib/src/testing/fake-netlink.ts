/**
 * A fake kernel for netlink tests without root (in the spirit of mdlayher/netlink's nltest): a
 * NetlinkHandle whose sockets hand every request to a function of the test, which answers it
 * with data messages, an ACK or an error; the fake frames the replies as the kernel does (sequence
 * numbers, NLM_F_MULTI and NLMSG_DONE for dumps, NLMSG_ERROR with the request's header) and
 * delivers them asynchronously. Generic netlink families registered with `family()` are answered
 * by the controller. Plan/apply logic and API calls can then be checked request by request;
 * `notify()` broadcasts to sockets that joined a multicast group and `overrun()` makes their
 * receive queue overflow (ENOBUFS), for subscribers' resync paths.
 */
import { GENL_ID_CTRL, CTRL_CMD_GETFAMILY, ctrlAttrs, genlHeader } from '../netlink/genl.js';
import { NetlinkHandle } from '../netlink/handle.js';
import {
  NETLINK_GENERIC, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI, NetlinkMessage, encodeMessage, parseMessages,
} from '../netlink/message.js';
import type { Transport } from '../netlink/session.js';

export interface FakeRequest extends NetlinkMessage {
  protocol: number;
}

/** What the fake kernel answers to one request (nothing: just the ACK it asked for). */
export interface FakeAnswer {
  /** Data messages (a GET's reply, a dump's entries). */
  replies?: Array<{ type: number; data: Buffer }>;
  /** An errno (positive): the request fails with it. */
  error?: number;
  /** An extended ACK message for the error. */
  extAck?: string;
  /** Answer nothing at all (a reply that never comes, for timeouts and overruns). */
  silent?: boolean;
}

export type FakeResponder = (request: FakeRequest) => FakeAnswer | undefined;

const NLMSGERR_ATTR_MSG = 1;
const NLM_F_ACK_TLVS = 0x200;
const NLM_F_CAPPED = 0x100;

export class FakeKernel {
  /** Every request received, in order (controller lookups included). */
  readonly requests: FakeRequest[] = [];
  private readonly families = new Map<string, { id: number; version: number }>();
  private readonly transports = new Set<FakeTransport>();

  constructor(private readonly respond: FakeResponder = () => undefined) {}

  /** Register a generic netlink family for the controller to resolve. */
  family(name: string, id: number, version = 1): this {
    this.families.set(name, { id, version });
    return this;
  }

  /** A handle whose sockets talk to this fake kernel. */
  handle(): NetlinkHandle {
    return new NetlinkHandle({ transport: (protocol) => new FakeTransport(this, protocol) });
  }

  /** The requests of one type (and protocol), controller lookups left out. */
  sent(type?: number): FakeRequest[] {
    return this.requests.filter((r) => r.type !== GENL_ID_CTRL || r.protocol !== NETLINK_GENERIC).filter((r) => type === undefined || r.type === type);
  }

  /** Broadcast a notification to the sockets of `protocol` that joined `group`. */
  notify(protocol: number, group: number, msg: { type: number; data: Buffer }): void {
    const datagram = encodeMessage({ type: msg.type, flags: 0, seq: 0, pid: 0 }, msg.data);
    for (const t of this.transports) if (t.protocol === protocol && t.groups.has(group)) t.deliver(datagram);
  }

  /** The receive queue of every socket of `protocol` overflows: each hears ENOBUFS. */
  overrun(protocol: number): void {
    for (const t of this.transports) if (t.protocol === protocol) t.fail(105);
  }

  /** Open sockets of this fake kernel (a test can check that all were closed). */
  get openSockets(): number {
    return this.transports.size;
  }

  /** @internal */
  attach(t: FakeTransport): void {
    this.transports.add(t);
  }

  /** @internal */
  detach(t: FakeTransport): void {
    this.transports.delete(t);
  }

  /** @internal: the reply datagram to one request. */
  answer(req: FakeRequest): Buffer[] {
    this.requests.push(req);
    const a = req.protocol === NETLINK_GENERIC && req.type === GENL_ID_CTRL ? this.controller(req) : this.respond(req) ?? {};
    const out: Buffer[] = [];
    if (a.silent) return out;
    const dump = (req.flags & NLM_F_DUMP) === NLM_F_DUMP;
    for (const r of a.replies ?? []) out.push(encodeMessage({ type: r.type, flags: dump ? NLM_F_MULTI : 0, seq: req.seq, pid: 0 }, r.data));
    if (a.error) {
      // the error as the kernel writes it with capped ACKs: -errno, the request's header, then the TLVs
      const head = Buffer.alloc(20);
      head.writeInt32LE(-a.error, 0);
      encodeMessage({ type: req.type, flags: req.flags, seq: req.seq, pid: 0 }).copy(head, 4, 0, 16);
      head.writeUInt32LE(16, 4);
      let tlv = Buffer.alloc(0);
      if (a.extAck) {
        const text = Buffer.from(`${a.extAck}\0`, 'utf8');
        tlv = Buffer.alloc(4 + ((text.length + 3) & ~3));
        tlv.writeUInt16LE(4 + text.length, 0);
        tlv.writeUInt16LE(NLMSGERR_ATTR_MSG, 2);
        text.copy(tlv, 4);
      }
      out.push(encodeMessage({ type: NLMSG_ERROR, flags: NLM_F_CAPPED | (a.extAck ? NLM_F_ACK_TLVS : 0), seq: req.seq, pid: 0 }, head, tlv));
    } else if (dump) {
      out.push(encodeMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: req.seq, pid: 0 }, Buffer.alloc(4)));
    } else if (req.flags & NLM_F_ACK) {
      const head = Buffer.alloc(20);
      encodeMessage({ type: req.type, flags: req.flags, seq: req.seq, pid: 0 }).copy(head, 4, 0, 16);
      head.writeUInt32LE(16, 4);
      out.push(encodeMessage({ type: NLMSG_ERROR, flags: NLM_F_CAPPED, seq: req.seq, pid: 0 }, head));
    }
    return out;
  }

  private controller(req: FakeRequest): FakeAnswer {
    const a = ctrlAttrs.decode(req.data.subarray(4));
    const f = a.familyName === undefined ? undefined : this.families.get(a.familyName);
    if (!f || (req.data[0] !== CTRL_CMD_GETFAMILY)) return { error: 2 };
    return { replies: [{ type: GENL_ID_CTRL, data: Buffer.concat([genlHeader(1 /* CTRL_CMD_NEWFAMILY */, 2), ctrlAttrs.encode({ familyId: f.id, familyName: a.familyName, version: f.version, hdrSize: 0, maxAttr: 0 })]) }] };
  }
}

class FakeTransport implements Transport {
  readonly receiveBuffer = 8 * 1024 * 1024;
  onDatagram: (datagram: Buffer) => void = () => undefined;
  onError: (errno: number) => void = () => undefined;
  readonly groups = new Set<number>();
  private closed = false;
  private kept = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly kernel: FakeKernel, readonly protocol: number) {
    kernel.attach(this);
  }

  send(datagram: Buffer | Buffer[]): number {
    if (this.closed) return -9;
    const bytes = Array.isArray(datagram) ? Buffer.concat(datagram) : datagram;
    // the kernel handles a datagram's messages in order, each answered in its own reply
    const replies: Buffer[] = [];
    for (const m of parseMessages(bytes)) replies.push(...this.kernel.answer({ ...m, data: Buffer.from(m.data), protocol: this.protocol }));
    if (replies.length) {
      setImmediate(() => {
        if (!this.closed) this.onDatagram(Buffer.concat(replies));
      });
    }
    return 0;
  }

  addMembership(group: number): void {
    this.groups.add(group);
  }

  /** @internal */
  deliver(datagram: Buffer): void {
    setImmediate(() => {
      if (!this.closed) this.onDatagram(datagram);
    });
  }

  /** @internal */
  fail(errno: number): void {
    setImmediate(() => {
      if (!this.closed) this.onError(errno);
    });
  }

  keepAlive(on: boolean): void {
    // a pending request keeps the event loop alive, as a real socket's watch does
    if (on && !this.kept) {
      this.kept = true;
      this.timer = setInterval(() => undefined, 1 << 30);
    } else if (!on && this.kept) {
      this.kept = false;
      clearInterval(this.timer);
    }
  }

  close(): void {
    this.closed = true;
    this.keepAlive(false);
    this.kernel.detach(this);
  }
}
