/**
 * The VRRP wire: raw IP sockets for adverts (IPv4 and IPv6, protocol 112), and the announcements
 * a new master makes (gratuitous ARP over AF_PACKET, unsolicited neighbour advertisements over
 * raw ICMPv6), on ha's own native addon (@ha/native). Packet formats live in packet.ts and
 * frames.ts; this module only opens, configures, sends and receives.
 *
 * Why these options (measured here, /work/shared/VRRP.md):
 * - an IPv4 raw socket is never bound to the interface's address: the kernel would then filter
 *   by that destination and 224.0.0.18 would never arrive. The source is chosen with
 *   IP_MULTICAST_IF (struct ip_mreqn: ifindex and address) and, for unicast, an IP_PKTINFO cmsg;
 * - the kernel's defaults are wrong for VRRP: multicast loop on (our own adverts come back),
 *   multicast TTL / hop limit 1 (RFC 5798 wants 255, and receivers must check it), no IPv6
 *   checksum (IPV6_CHECKSUM offset 6 makes the kernel fill in and verify the VRRPv3 checksum);
 * - SO_BINDTODEVICE: with two interfaces on one bridge an unbound socket sees every advert twice;
 * - the hop limit and destination of each packet come from control messages (IPV6_HOPLIMIT,
 *   IPV6_PKTINFO, IP_PKTINFO) or, for IPv4, from the IP header the raw socket hands us; IP_MINTTL
 *   does not filter raw sockets, so the TTL is reported and checked by the caller;
 * - the default 208 KB receive buffer drops about half of a 20,000-packet burst: the buffer is
 *   sized (1 MiB by default) and the kernel's drop counter (SO_RXQ_OVFL) is reported.
 *
 * Nothing on the receive path throws into the event loop: a packet that cannot be used is
 * counted by reason, and a handler that throws is counted and reported to `onError`.
 */
import { native } from '@ha/native';
import { HaError, UsageError, errnoCode } from '@ha/lib';
import {
  NETLINK_ROUTE, NetlinkHandle, RTM_GETADDR, RTM_GETLINK, RTM_NEWADDR, RTM_NEWLINK, IFA_F_SECONDARY, IFA_F_TENTATIVE,
  WatchedSocket, decodeAddress, decodeLink, defaultHandle, encodeIfAddr, encodeIfInfo, errnoName, formatIp, inNetns, linkAttrs, parseIp,
} from '@ha/lib/netlink';
import { ALL_NODES_V6, garpFrame, parseMac, unsolicitedNa } from './frames.js';
import { VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_PROTOCOL, stripIpv4Header } from './packet.js';
import type { Family, Received } from './types.js';

// ---- constants (linux/socket.h, linux/in.h, linux/in6.h, linux/if_ether.h) ----

const AF_INET = 2;
const AF_INET6 = 10;
const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_BINDTODEVICE = 25;
const SO_RCVBUFFORCE = 33;
const SO_RXQ_OVFL = 40;
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const IPPROTO_ICMPV6 = 58;
const IP_TTL = 2;
const IP_PKTINFO = 8;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IPV6_CHECKSUM = 7;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_JOIN_GROUP = 20;
const IPV6_RECVPKTINFO = 49;
const IPV6_PKTINFO = 50;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const ICMP6_FILTER = 1;
const ETH_P_ARP = 0x0806;
const MSG_CTRUNC = 0x8;
const EAGAIN = 11;
const EINVAL = 22;
const EADDRNOTAVAIL = 99;

/** The offset of the checksum in a VRRPv3 header (IPV6_CHECKSUM). */
const VRRP_CHECKSUM_OFFSET = 6;
/** At most this many packets per readability callback; the poll is level-triggered and comes back. */
const DRAIN_BATCH = 1024;

// struct cmsghdr: size_t cmsg_len; int cmsg_level; int cmsg_type; then data, aligned to size_t
const SIZE_T = ['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'].includes(process.arch) ? 8 : 4;
const align = (n: number): number => (n + SIZE_T - 1) & ~(SIZE_T - 1);
const CMSG_HDR = align(SIZE_T + 8);
const CONTROL_SIZE = 256;

// ---- small codecs ----

function ipBytes(text: string, family: Family, what: string): Buffer {
  const ip = parseIp(text);
  if (!ip || ip.family !== (family === 4 ? 'ipv4' : 'ipv6')) throw new UsageError(`${what}: "${text}" is not an IPv${family} address`);
  return ip.bytes;
}

/** struct sockaddr_in (port 0). */
function sockaddrIn(address: Buffer): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  address.copy(b, 4);
  return b;
}

/** struct sockaddr_in6 (port 0) with a scope id (the interface, for link-local and multicast). */
function sockaddrIn6(address: Buffer, scopeId: number): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  address.copy(b, 8);
  b.writeUInt32LE(scopeId, 24);
  return b;
}

/** struct sockaddr_ll for an Ethernet frame on one interface (to the broadcast address). */
function sockaddrLl(ifindex: number, protocol: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16LE(AF_PACKET, 0);
  b.writeUInt16BE(protocol, 2);
  b.writeInt32LE(ifindex, 4);
  b.writeUInt16LE(1, 8); // ARPHRD_ETHER
  b.writeUInt8(6, 11); // sll_halen
  b.fill(0xff, 12, 18);
  return b;
}

/** struct ip_mreqn: group, local address, ifindex. */
function ipMreqn(group: Buffer | undefined, address: Buffer | undefined, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  group?.copy(b, 0);
  address?.copy(b, 4);
  b.writeInt32LE(ifindex, 8);
  return b;
}

/** struct ipv6_mreq: group, ifindex. */
function ipv6Mreq(group: Buffer, ifindex: number): Buffer {
  const b = Buffer.alloc(20);
  group.copy(b, 0);
  b.writeInt32LE(ifindex, 16);
  return b;
}

/** One control message (CMSG_SPACE bytes). */
function cmsg(level: number, type: number, data: Buffer): Buffer {
  const b = Buffer.alloc(align(CMSG_HDR + data.length));
  if (SIZE_T === 8) b.writeBigUInt64LE(BigInt(CMSG_HDR + data.length), 0);
  else b.writeUInt32LE(CMSG_HDR + data.length, 0);
  b.writeInt32LE(level, SIZE_T);
  b.writeInt32LE(type, SIZE_T + 4);
  data.copy(b, CMSG_HDR);
  return b;
}

/** IP_PKTINFO to send with: struct in_pktinfo {ifindex, spec_dst (our source), addr}. */
function inPktinfo(ifindex: number, source: Buffer): Buffer {
  const d = Buffer.alloc(12);
  d.writeInt32LE(ifindex, 0);
  source.copy(d, 4);
  return cmsg(IPPROTO_IP, IP_PKTINFO, d);
}

/** IPV6_PKTINFO to send with: struct in6_pktinfo {addr (our source), ifindex}. */
function in6Pktinfo(ifindex: number, source: Buffer | undefined): Buffer {
  const d = Buffer.alloc(20);
  source?.copy(d, 0);
  d.writeInt32LE(ifindex, 16);
  return cmsg(IPPROTO_IPV6, IPV6_PKTINFO, d);
}

interface ControlMessage {
  level: number;
  type: number;
  data: Buffer;
}

/** The control messages of a received datagram (a malformed tail ends the walk). */
function* controlMessages(control: Buffer): Generator<ControlMessage> {
  let at = 0;
  while (at + CMSG_HDR <= control.length) {
    const length = SIZE_T === 8 ? Number(control.readBigUInt64LE(at)) : control.readUInt32LE(at);
    if (length < CMSG_HDR || at + length > control.length) return;
    yield { level: control.readInt32LE(at + SIZE_T), type: control.readInt32LE(at + SIZE_T + 4), data: control.subarray(at + CMSG_HDR, at + length) };
    at += align(length);
  }
}

function permissionHint(errno: number): string {
  const name = errnoName(errno);
  return name === 'EPERM' || name === 'EACCES' ? `${name} (raw sockets need CAP_NET_RAW: are you root?)` : name;
}

/** A socket made in `netns` (a namespace file) or here. */
function openSocket(domain: number, type: number, protocol: number, netns: string | undefined, what: string): number {
  const make = (): number => native().socket(domain, type, protocol);
  const fd = netns ? inNetns(netns, make) : make();
  if (fd < 0) throw new HaError(`cannot open ${what}: ${permissionHint(-fd)}`, { code: errnoCode(errnoName(-fd)) });
  return fd;
}

// ---- VRRP sockets ----

export interface VrrpSocketOptions {
  family: Family;
  /** The interface (SO_BINDTODEVICE). */
  ifname: string;
  ifindex: number;
  /**
   * The source of our adverts. IPv4: an address of the interface (default: the kernel picks the
   * interface's primary address, never a /32 VIP added later). IPv6: multicast adverts leave from
   * the link-local address whatever this says; it is used for unicast.
   */
  source?: string;
  /** Unicast peers only: the multicast group is not joined. */
  unicast?: boolean;
  /** Receive buffer wanted, bytes (default 1 MiB; forced past rmem_max when we may). */
  rcvbuf?: number;
  /** Open the socket inside this network namespace (/run/netns/NAME, /proc/PID/ns/net). */
  netns?: string;
}

/** Why the socket layer dropped a received packet before it reached the handler. */
export type SocketDropReason =
  | 'overflow' // the kernel's receive queue was full (SO_RXQ_OVFL: the kernel's own count)
  | 'truncated' // larger than our buffer, or its control messages were cut (MSG_CTRUNC)
  | 'bad_ip_header' // IPv4: the header cannot be read (stripIpv4Header said why)
  | 'not_vrrp' // IPv4: another protocol in the header
  | 'no_pktinfo' // no usable IP_PKTINFO / IPV6_PKTINFO: destination unknown
  | 'no_hoplimit' // IPv6: no IPV6_HOPLIMIT
  | 'bad_source' // the sender's address cannot be read
  | 'wrong_interface' // arrived on another interface than ours
  | 'receive_error'; // recvmsg failed (other than EAGAIN)

export const SOCKET_DROP_REASONS: readonly SocketDropReason[] = [
  'overflow', 'truncated', 'bad_ip_header', 'not_vrrp', 'no_pktinfo', 'no_hoplimit', 'bad_source', 'wrong_interface', 'receive_error',
];

export interface SocketCounters {
  /** Packets handed to the handler. */
  received: number;
  /** Packets dropped before the handler, by reason. */
  dropped: Record<SocketDropReason, number>;
  /** Handler calls that threw (reported to onError, the socket goes on). */
  handlerErrors: number;
  sent: number;
  /** Sends that failed (the errno is the send's return value). */
  sendErrors: number;
}

export class VrrpSocket extends WatchedSocket {
  readonly family: Family;
  readonly ifname: string;
  readonly ifindex: number;
  /** The address we send from, when it is known (IPv4: given or picked by the kernel: undefined). */
  readonly source?: string;
  readonly unicast: boolean;
  /** The receive buffer the kernel granted, bytes. */
  readonly receiveBuffer: number;
  readonly counters: SocketCounters = {
    received: 0,
    dropped: Object.fromEntries(SOCKET_DROP_REASONS.map((r) => [r, 0])) as Record<SocketDropReason, number>,
    handlerErrors: 0,
    sent: 0,
    sendErrors: 0,
  };
  /** Called with what a handler threw, or an unexpected receive error; must not throw (it is guarded). */
  onError: (error: Error) => void = () => undefined;

  private handler?: (payload: Uint8Array, rx: Received) => void;
  private readonly buffer = Buffer.allocUnsafe(65_536);
  private readonly sourceBytes?: Buffer;
  /** The last SO_RXQ_OVFL value: the kernel's count of packets dropped on this socket. */
  private kernelDrops = 0;

  private constructor(fd: number, o: VrrpSocketOptions, receiveBuffer: number, sourceBytes: Buffer | undefined) {
    super(fd);
    this.family = o.family;
    this.ifname = o.ifname;
    this.ifindex = o.ifindex;
    this.source = o.source;
    this.unicast = Boolean(o.unicast);
    this.receiveBuffer = receiveBuffer;
    this.sourceBytes = sourceBytes;
  }

  /** Open and configure the socket of one (interface, family); throws a one-line HaError. */
  static open(o: VrrpSocketOptions): VrrpSocket {
    if (o.family !== 4 && o.family !== 6) throw new UsageError(`address family ${String(o.family)}: 4 or 6`);
    if (!Number.isInteger(o.ifindex) || o.ifindex <= 0) throw new UsageError(`interface ${o.ifname}: bad interface index ${o.ifindex}`);
    const source = o.source === undefined ? undefined : ipBytes(o.source, o.family, 'VRRP source');
    const n = native();
    const fd = openSocket(o.family === 4 ? AF_INET : AF_INET6, SOCK_RAW, VRRP_PROTOCOL, o.netns, `a raw IPv${o.family} socket for VRRP on ${o.ifname}`);
    const set = (level: number, name: number, value: number | Buffer, what: string): void => {
      const rc = n.setsockopt(fd, level, name, value);
      if (rc < 0) {
        throw new HaError(`VRRP socket on ${o.ifname}: cannot set ${what}: ${rc === -19 ? 'no such interface (ENODEV)' : permissionHint(-rc)}`, { code: errnoCode(errnoName(-rc)) });
      }
    };
    try {
      set(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${o.ifname}\0`), 'SO_BINDTODEVICE');
      const want = o.rcvbuf ?? 1024 * 1024;
      if (n.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, want) < 0) n.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, want);
      const got = n.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, 4);
      const granted = typeof got === 'number' ? 0 : got.readInt32LE(0);
      // the drop counter is a bonus: a kernel without it still receives
      n.setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, 1);
      if (o.family === 4) {
        set(IPPROTO_IP, IP_MULTICAST_IF, ipMreqn(undefined, source, o.ifindex), 'IP_MULTICAST_IF');
        set(IPPROTO_IP, IP_MULTICAST_TTL, 255, 'IP_MULTICAST_TTL');
        set(IPPROTO_IP, IP_TTL, 255, 'IP_TTL');
        set(IPPROTO_IP, IP_MULTICAST_LOOP, 0, 'IP_MULTICAST_LOOP');
        set(IPPROTO_IP, IP_PKTINFO, 1, 'IP_PKTINFO');
        if (!o.unicast) set(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreqn(ipBytes(VRRP_GROUP_V4, 4, 'group'), undefined, o.ifindex), `IP_ADD_MEMBERSHIP ${VRRP_GROUP_V4}`);
      } else {
        set(IPPROTO_IPV6, IPV6_MULTICAST_IF, o.ifindex, 'IPV6_MULTICAST_IF');
        set(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255, 'IPV6_MULTICAST_HOPS');
        set(IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255, 'IPV6_UNICAST_HOPS');
        set(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, 'IPV6_MULTICAST_LOOP');
        set(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, 'IPV6_RECVHOPLIMIT');
        set(IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, 'IPV6_RECVPKTINFO');
        set(IPPROTO_IPV6, IPV6_CHECKSUM, VRRP_CHECKSUM_OFFSET, 'IPV6_CHECKSUM');
        if (!o.unicast) set(IPPROTO_IPV6, IPV6_JOIN_GROUP, ipv6Mreq(ipBytes(VRRP_GROUP_V6, 6, 'group'), o.ifindex), `IPV6_JOIN_GROUP ${VRRP_GROUP_V6}`);
      }
      return new VrrpSocket(fd, o, granted, source);
    } catch (error) {
      n.close(fd);
      throw error;
    }
  }

  /**
   * Send one VRRP payload (as encodeAdvert made it) to `destination`: the group or a unicast
   * peer. Returns the bytes sent, or -errno (-EAGAIN when the socket buffer is full); never throws
   * for a network condition.
   */
  /** sockaddr and control message per destination, made once (an advert goes out every interval). */
  private readonly targets = new Map<string, { address: Buffer; control: Buffer | null }>();

  send(payload: Uint8Array, destination: string): number {
    if (this.closed) return -9; // EBADF
    let target = this.targets.get(destination);
    if (!target) {
      const ip = parseIp(destination);
      if (!ip || ip.family !== (this.family === 4 ? 'ipv4' : 'ipv6')) throw new UsageError(`VRRP destination: "${destination}" is not an IPv${this.family} address`);
      let address: Buffer;
      let control: Buffer | null = null;
      if (this.family === 4) {
        address = sockaddrIn(ip.bytes);
        // a unicast advert's source: IP_MULTICAST_IF only covers multicast
        if (this.sourceBytes && ip.bytes[0]! < 224) control = inPktinfo(this.ifindex, this.sourceBytes);
      } else {
        address = sockaddrIn6(ip.bytes, this.ifindex);
        if (this.sourceBytes && ip.bytes[0] !== 0xff) control = in6Pktinfo(this.ifindex, this.sourceBytes);
      }
      target = { address, control };
      if (this.targets.size < 256) this.targets.set(destination, target);
    }
    const rc = native().sendmsg(this.fd, payload, target.address, target.control);
    if (rc < 0) this.counters.sendErrors++;
    else this.counters.sent++;
    return rc;
  }

  /**
   * Receive: `handler(payload, rx)` for each packet, from now on. The payload is the VRRP part
   * (the IPv4 header removed), a copy the handler may keep.
   */
  onPacket(handler: (payload: Uint8Array, rx: Received) => void): void {
    this.handler = handler;
    this.startWatch(`VRRP socket on ${this.ifname}`);
  }

  /** Drain the socket. Catches everything: nothing from here may reach the native callback. */
  protected readable(status: number): void {
    try {
      if (status < 0) this.report(new HaError(`VRRP socket on ${this.ifname}: ${errnoName(-status)}`));
      const n = native();
      for (let i = 0; i < DRAIN_BATCH && !this.closed; i++) {
        const r = n.recvmsg(this.fd, this.buffer, CONTROL_SIZE);
        if (typeof r === 'number') {
          if (-r !== EAGAIN) {
            this.counters.dropped.receive_error++;
            this.report(new HaError(`VRRP socket on ${this.ifname}: receive failed: ${errnoName(-r)}`));
          }
          return;
        }
        this.one(r[0], r[1], r[2], r[3], r[4]);
      }
    } catch (error) {
      this.report(error);
    }
  }

  /** One datagram: checked, decoded, handed on; or counted. */
  private one(length: number, real: number, address: Buffer, control: Buffer, flags: number): void {
    let hopLimit: number | undefined;
    let destination: string | undefined;
    let ifindex: number | undefined;
    for (const c of controlMessages(control)) {
      if (c.level === SOL_SOCKET && c.type === SO_RXQ_OVFL && c.data.length >= 4) {
        const drops = c.data.readUInt32LE(0);
        // the kernel's count since the socket was made (it wraps at 2^32)
        this.counters.dropped.overflow += (drops - this.kernelDrops + 0x1_0000_0000) % 0x1_0000_0000;
        this.kernelDrops = drops;
      } else if (this.family === 4 && c.level === IPPROTO_IP && c.type === IP_PKTINFO && c.data.length >= 12) {
        ifindex = c.data.readInt32LE(0);
        destination = formatIp(c.data, 8, 4);
      } else if (this.family === 6 && c.level === IPPROTO_IPV6 && c.type === IPV6_PKTINFO && c.data.length >= 20) {
        destination = formatIp(c.data, 0, 16);
        ifindex = c.data.readInt32LE(16);
      } else if (this.family === 6 && c.level === IPPROTO_IPV6 && c.type === IPV6_HOPLIMIT && c.data.length >= 4) {
        hopLimit = c.data.readInt32LE(0);
      }
    }
    const drop = (reason: SocketDropReason): void => { this.counters.dropped[reason]++; };
    if (real > length || (flags & MSG_CTRUNC) !== 0) return drop('truncated');
    if (destination === undefined || ifindex === undefined) return drop('no_pktinfo');
    if (ifindex !== this.ifindex) return drop('wrong_interface');
    let payload: Uint8Array;
    let rx: Received;
    if (this.family === 4) {
      const h = stripIpv4Header(this.buffer.subarray(0, length));
      if ('reason' in h) return drop('bad_ip_header');
      if (h.protocol !== VRRP_PROTOCOL) return drop('not_vrrp');
      payload = Uint8Array.prototype.slice.call(h.payload);
      rx = { source: h.source, destination, ttl: h.ttl, ifindex };
    } else {
      if (hopLimit === undefined) return drop('no_hoplimit');
      if (address.length < 24 || address.readUInt16LE(0) !== AF_INET6) return drop('bad_source');
      payload = Uint8Array.prototype.slice.call(this.buffer, 0, length);
      rx = { source: formatIp(address, 8, 16), destination, ttl: hopLimit, ifindex };
    }
    this.counters.received++;
    try {
      this.handler?.(payload, rx);
    } catch (error) {
      this.counters.handlerErrors++;
      this.report(error);
    }
  }

  private report(error: unknown): void {
    try {
      this.onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // the error handler failed too: the counters still tell
    }
  }
}

// ---- announcements ----

export interface AnnouncerOptions {
  /** Open the sockets inside this network namespace. */
  netns?: string;
}

/**
 * Gratuitous ARP and unsolicited neighbour advertisements for the VIPs of a new master. The two
 * sockets are opened on first use and serve every interface; neither receives anything (the
 * AF_PACKET socket has no protocol, the ICMPv6 one filters every type out).
 */
export class Announcer {
  private packetFd?: number;
  private icmpFd?: number;
  private closed = false;

  constructor(private readonly options: AnnouncerOptions = {}) {}

  /**
   * One gratuitous ARP (request, sender = target = vip, to the broadcast address) for an IPv4
   * VIP, from `mac` on the interface. Returns the bytes sent or -errno.
   */
  garp(ifname: string, ifindex: number, mac: string | Uint8Array, vip: string): number {
    if (this.closed) return -9;
    const frame = garpFrame(typeof mac === 'string' ? parseMac(mac) : mac, vip);
    if (this.packetFd === undefined) {
      // protocol 0: this socket only sends, the kernel queues nothing for it
      const fd = openSocket(AF_PACKET, SOCK_RAW, 0, this.options.netns, `a packet socket for gratuitous ARP on ${ifname}`);
      this.packetFd = fd;
    }
    return native().sendmsg(this.packetFd, frame, sockaddrLl(ifindex, ETH_P_ARP), null);
  }

  /**
   * One unsolicited neighbour advertisement (override flag, to ff02::1, hop limit 255) for an
   * IPv6 VIP, from the VIP itself as keepalived does; when the kernel refuses that source (the
   * VIP is not, or not yet, a usable address here), from the kernel's choice (the link-local
   * address). Returns the bytes sent or -errno.
   */
  na(ifindex: number, vip: string, mac: string | Uint8Array): number {
    if (this.closed) return -9;
    const message = unsolicitedNa(vip, typeof mac === 'string' ? parseMac(mac) : mac);
    const n = native();
    if (this.icmpFd === undefined) {
      const fd = openSocket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, this.options.netns, 'a raw ICMPv6 socket for neighbour advertisements');
      // receive nothing: every bit of struct icmp6_filter set blocks that type
      n.setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, Buffer.alloc(32, 0xff));
      n.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
      n.setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255);
      n.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
      this.icmpFd = fd;
    }
    const fd = this.icmpFd;
    const set = n.setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
    if (set < 0) return set;
    const destination = sockaddrIn6(ipBytes(ALL_NODES_V6, 6, 'all-nodes group'), ifindex);
    const rc = n.sendmsg(fd, message, destination, in6Pktinfo(ifindex, ipBytes(vip, 6, 'VIP')));
    if (rc === -EADDRNOTAVAIL || rc === -EINVAL) return n.sendmsg(fd, message, destination, in6Pktinfo(ifindex, undefined));
    return rc;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.packetFd !== undefined) native().close(this.packetFd);
    if (this.icmpFd !== undefined) native().close(this.icmpFd);
    this.packetFd = undefined;
    this.icmpFd = undefined;
  }
}

// ---- interfaces ----

export interface InterfaceInfo {
  name: string;
  ifindex: number;
  /** The hardware address, "aa:bb:cc:dd:ee:ff" (undefined for interfaces without one). */
  mac?: string;
  up: boolean;
  /** IPv4 addresses, primary ones first, as the kernel lists them (without prefix length). */
  ipv4: string[];
  /** The first usable (not tentative) IPv6 link-local address: where IPv6 adverts come from. */
  ipv6LinkLocal?: string;
  /** Other (global) IPv6 addresses. */
  ipv6: string[];
}

/**
 * An interface's index, MAC and addresses, from rtnetlink (in `netns` when given: /sys shows the
 * namespace of whoever mounted it, not ours). A missing interface is a UsageError naming it.
 */
export async function interfaceInfo(ifname: string, options: { netns?: string } = {}): Promise<InterfaceInfo> {
  const own = options.netns ? new NetlinkHandle({ netns: options.netns }) : undefined;
  const session = (own ?? defaultHandle()).session(NETLINK_ROUTE);
  try {
    let msgs;
    try {
      msgs = await session.request({
        type: RTM_GETLINK,
        payload: [encodeIfInfo(), linkAttrs.encode({ name: ifname })],
        context: { object: `interface ${ifname}` },
      });
    } catch (error) {
      if ((error as { errnoName?: string }).errnoName === 'ENODEV') throw new UsageError(`interface ${ifname} does not exist`);
      throw error;
    }
    const m = msgs.find((x) => x.type === RTM_NEWLINK);
    if (!m) throw new UsageError(`interface ${ifname} does not exist`);
    const link = decodeLink(m);
    const addrs = await session.dump({ type: RTM_GETADDR, payload: encodeIfAddr({ family: 0 }), context: { object: `addresses of ${ifname}` } });
    const mine = addrs.filter((x) => x.type === RTM_NEWADDR).map(decodeAddress).filter((a) => a !== undefined && a.index === link.index);
    const v4 = mine.filter((a) => a!.family === 'ipv4');
    const v6 = mine.filter((a) => a!.family === 'ipv6' && (a!.flags & IFA_F_TENTATIVE) === 0);
    const linkLocal = (a: string): boolean => {
      const b = parseIp(a)?.bytes;
      return b !== undefined && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80; // fe80::/10
    };
    return {
      name: link.name,
      ifindex: link.index,
      mac: link.address,
      up: link.up,
      ipv4: [...v4.filter((a) => (a!.flags & IFA_F_SECONDARY) === 0), ...v4.filter((a) => (a!.flags & IFA_F_SECONDARY) !== 0)].map((a) => a!.address),
      ipv6LinkLocal: v6.find((a) => linkLocal(a!.address))?.address,
      ipv6: v6.filter((a) => !linkLocal(a!.address)).map((a) => a!.address),
    };
  } finally {
    own?.close();
  }
}
