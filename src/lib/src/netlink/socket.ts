/**
 * A netlink socket on ha's own native addon (@ha/native): socket, options, send, and a receive
 * loop driven by the event loop.
 *
 * Why not the `netlink` npm package's socket, which ha used first: its native receive path turns
 * a socket error (EPOLLERR, which the kernel raises when a netlink receive queue overruns) into a
 * C++ exception thrown out of a libuv callback, which aborts the process ("terminate called after
 * throwing an instance of 'Napi::Error'"). A second `ha ipvs restore` running at the same time
 * made every request fail, the error replies overran the queue, and the process died with
 * nothing undone. It also cannot set socket options (extended ACKs) or open a socket in another
 * network namespace. Here a socket error is reported to the session (ENOBUFS: replies were lost,
 * subscribers must resync) and the socket carries on.
 */
import { closeSync, openSync } from 'node:fs';
import { native } from '@ha/native';
import { HaError, UnavailableError, errnoCode } from '../errors.js';
import { errnoName } from './errno.js';
import { WatchedSocket } from './watched.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
const SOL_NETLINK = 270;
const NETLINK_ADD_MEMBERSHIP = 1;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const EAGAIN = 11;

export interface NetlinkSocketOptions {
  /**
   * Open the socket inside this network namespace: a namespace file such as /run/netns/NAME
   * (what `ip netns add` makes) or /proc/PID/ns/net. Default: the process's own.
   */
  netns?: string;
  /** Receive buffer wanted, in bytes (default 8 MiB; forced past rmem_max when we may). */
  receiveBuffer?: number;
}

/** Run `fn` with this thread inside the network namespace at `path` (a socket made there stays there). */
export function inNetns<T>(path: string, fn: () => T): T {
  const { setns } = native();
  let target: number;
  let home: number;
  try {
    target = openSync(path, 'r');
  } catch (error) {
    throw new HaError(`network namespace ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such namespace' : (error as Error).message}`, { code: 'ENONETNS' });
  }
  try {
    home = openSync('/proc/thread-self/ns/net', 'r');
  } catch (error) {
    closeSync(target);
    throw new HaError(`cannot open this thread's network namespace: ${(error as Error).message}`);
  }
  try {
    const rc = setns(target);
    if (rc < 0) throw new HaError(`cannot enter network namespace ${path}: ${errnoName(-rc)}`, { code: errnoCode(errnoName(-rc)) });
    try {
      return fn();
    } finally {
      // coming back cannot be skipped: everything else this process opens would land in `path`
      const back = setns(home);
      if (back < 0) throw new HaError(`cannot return from network namespace ${path}: ${errnoName(-back)}`);
    }
  } finally {
    closeSync(home);
    closeSync(target);
  }
}

export class NetlinkSocket extends WatchedSocket {
  readonly protocol: number;
  /** The receive buffer the kernel granted (bytes of queued replies it will hold). */
  readonly receiveBuffer: number;
  /** Called with each datagram from the kernel; the buffer is reused after the call returns. */
  onDatagram: (datagram: Buffer) => void = () => undefined;
  /** Called with a socket error (errno), e.g. ENOBUFS when the receive queue overran. */
  onError: (errno: number) => void = () => undefined;
  private readonly buffer = Buffer.allocUnsafe(65_536);

  constructor(protocol: number, options: NetlinkSocketOptions = {}) {
    const n = native();
    const make = (): number => n.socket(AF_NETLINK, SOCK_RAW, protocol);
    const fd = options.netns ? inNetns(options.netns, make) : make();
    if (fd < 0) throw new UnavailableError(`cannot open a netlink socket (protocol ${protocol}): ${errnoName(-fd)}`);
    super(fd);
    this.protocol = protocol;
    try {
      // sockaddr_nl with port 0: the kernel picks a unique port for us
      const addr = Buffer.alloc(12);
      addr.writeUInt16LE(AF_NETLINK, 0);
      const rc = n.bind(fd, addr);
      if (rc < 0) throw new UnavailableError(`cannot bind a netlink socket (protocol ${protocol}): ${errnoName(-rc)}`);
      // the error text the kernel can give (extended ACK), and errors that do not echo the
      // whole request back: a failed restore of thousands of requests then queues little
      n.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
      n.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
      const want = options.receiveBuffer ?? 8 * 1024 * 1024;
      if (n.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, want) < 0) n.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, want);
      if (n.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, 1024 * 1024) < 0) n.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, 1024 * 1024);
      const got = n.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, 4);
      this.receiveBuffer = typeof got === 'number' ? 212_992 : got.readInt32LE(0);
      this.startWatch(`netlink socket (protocol ${protocol})`);
    } catch (error) {
      n.close(fd);
      throw error;
    }
  }

  /** Send one datagram: 0, or -errno. */
  send(datagram: Buffer | Buffer[]): number {
    if (this.closed) return -9; // EBADF
    const rc = native().sendmsg(this.fd, datagram, null, null);
    return rc < 0 ? rc : 0;
  }

  addMembership(group: number): void {
    const rc = native().setsockopt(this.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group);
    if (rc < 0) throw new HaError(`cannot join netlink group ${group}: ${errnoName(-rc)}`, { code: errnoCode(errnoName(-rc)) });
  }

  /** Drain the socket; never throws into the native layer (a failing handler is reported, not fatal). */
  protected readable(status: number): void {
    if (status < 0) this.report(-status);
    const n = native();
    for (let i = 0; i < 4096 && !this.closed; i++) {
      const r = n.recvNetlink(this.fd, this.buffer);
      if (typeof r === 'number') {
        if (-r === EAGAIN) return;
        this.report(-r);
        if (-r !== 105 /* ENOBUFS: queued data follows */) return;
        continue;
      }
      const [length, real, port] = r;
      if (port !== 0) continue; // only the kernel speaks to us
      if (real > length) {
        this.report(90); // EMSGSIZE: a datagram larger than our buffer was cut
        continue;
      }
      try {
        this.onDatagram(this.buffer.subarray(0, length));
      } catch (error) {
        // a bug in a handler must not take the socket (or the process) down with it
        queueMicrotask(() => { throw error; });
      }
    }
  }

  private report(errno: number): void {
    try {
      this.onError(errno);
    } catch (error) {
      queueMicrotask(() => { throw error; });
    }
  }
}
