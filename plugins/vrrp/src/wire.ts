/**
 * The speaker's edges to the network and the kernel, behind two small interfaces so that the
 * instance runtime (speaker.ts) can be driven in tests without sockets or root:
 *
 * - Wire: adverts out (multicast or to unicast peers), adverts in (dispatched by interface,
 *   family and VRID), gratuitous ARP / unsolicited NA;
 * - VipKernel: adding and removing the VIPs, reading what an interface holds, link state.
 *
 * The real ones share one raw socket per (interface, family, source), however many instances
 * use it, and one announcer (AF_PACKET + ICMPv6) for the whole agent.
 */
import { getSystemErrorName } from 'node:util';
import { HaError } from '@ha/lib';
import { IFA_F_NODAD, addAddress, deleteAddress, listAddresses } from '@ha/lib/netlink';
import { Announcer, VrrpSocket, interfaceInfo } from './sockets.js';
import type { Family, Received } from './types.js';

export type PacketHandler = (payload: Uint8Array, rx: Received) => void;

export interface Endpoint {
  ifname: string;
  ifindex: number;
  family: Family;
  /** Source address for unicast, or the IPv4 source of multicast adverts. */
  source?: string;
  unicast: boolean;
}

export interface Link {
  ifname: string;
  ifindex: number;
  mac?: string;
  up: boolean;
  /** The interface's primary IPv4 address and IPv6 link-local address (the sources of adverts). */
  ipv4?: string;
  ipv6LinkLocal?: string;
}

export interface Wire {
  /**
   * Open (or share) the endpoint; `handler` hears the packets on it whose VRID byte is `vrid`
   * (one instance per VRID, interface and family, so each packet is parsed once). Returns a
   * function that leaves.
   */
  join(endpoint: Endpoint, vrid: number, handler: PacketHandler): () => void;
  send(endpoint: Endpoint, payload: Uint8Array, destination: string): void;
  announce(link: Link, vip: string): void;
  close(): void;
}

export interface VipKernel {
  link(ifname: string): Promise<Link>;
  /** Add, treating "already there" as done. */
  add(link: Link, vip: string, label?: string): Promise<void>;
  /** Remove, treating "not there" as done. */
  remove(link: Link, vip: string): Promise<void>;
  /** Addresses (ADDR/LEN) on the interface now. */
  held(link: Link): Promise<string[]>;
}

const key = (e: Endpoint): string => `${e.ifname}/${e.family}/${e.source ?? ''}/${e.unicast ? 'u' : 'm'}`;

interface Shared {
  socket: VrrpSocket;
  /** By VRID (the payload's second byte). */
  handlers: Map<number, PacketHandler>;
  /** Packets too short to name a VRID, or for a VRID nobody here runs. */
  unclaimed: number;
}

/** The real wire: raw sockets through ha's native addon. */
export class SocketWire implements Wire {
  private readonly sockets = new Map<string, Shared>();
  private announcer?: Announcer;

  constructor(private readonly onError: (error: Error) => void = () => undefined) {}

  join(endpoint: Endpoint, vrid: number, handler: PacketHandler): () => void {
    const k = key(endpoint);
    let shared = this.sockets.get(k);
    if (!shared) {
      const socket = VrrpSocket.open({ family: endpoint.family, ifname: endpoint.ifname, ifindex: endpoint.ifindex, source: endpoint.source, unicast: endpoint.unicast });
      const s: Shared = { socket, handlers: new Map(), unclaimed: 0 };
      socket.onError = this.onError;
      socket.onPacket((payload, rx) => {
        const h = payload.length >= 2 ? s.handlers.get(payload[1]!) : undefined;
        if (h) h(payload, rx);
        else s.unclaimed++;
      });
      shared = s;
      this.sockets.set(k, shared);
    }
    shared.handlers.set(vrid, handler);
    const s = shared;
    return () => {
      if (s.handlers.get(vrid) === handler) s.handlers.delete(vrid);
      if (s.handlers.size === 0) {
        s.socket.close();
        this.sockets.delete(k);
      }
    };
  }

  send(endpoint: Endpoint, payload: Uint8Array, destination: string): void {
    const s = this.sockets.get(key(endpoint));
    if (!s) throw new HaError(`no VRRP socket open on ${endpoint.ifname} (IPv${endpoint.family})`);
    const rc = s.socket.send(payload, destination);
    if (rc < 0) throw new HaError(`sending to ${destination} on ${endpoint.ifname} failed: ${getSystemErrorName(rc)}`);
  }

  announce(link: Link, vip: string): void {
    if (!link.mac) return;
    this.announcer ??= new Announcer();
    const address = vip.split('/')[0]!;
    if (address.includes(':')) this.announcer.na(link.ifindex, address, link.mac);
    else this.announcer.garp(link.ifname, link.ifindex, link.mac, address);
  }

  close(): void {
    for (const s of this.sockets.values()) s.socket.close();
    this.sockets.clear();
    this.announcer?.close();
    this.announcer = undefined;
  }
}

/** The real kernel: rtnetlink through @ha/lib. */
export const netlinkVips: VipKernel = {
  async link(ifname) {
    const info = await interfaceInfo(ifname);
    return { ifname, ifindex: info.ifindex, mac: info.mac, up: info.up, ipv4: info.ipv4[0], ipv6LinkLocal: info.ipv6LinkLocal };
  },
  async add(link, vip, label) {
    try {
      await addAddress(link.ifname, vip, {
        index: link.ifindex, noReadBack: true,
        ...(vip.includes(':') ? { flags: IFA_F_NODAD } : {}),
        ...(label ? { label } : {}),
      });
    } catch (error) {
      if ((error as HaError).code !== 'EEXIST') throw error;
    }
  },
  async remove(link, vip) {
    try {
      await deleteAddress(link.ifname, vip, { index: link.ifindex });
    } catch (error) {
      const code = (error as HaError).code;
      if (code !== 'EADDRNOTAVAIL' && code !== 'ENOENT' && code !== 'ESRCH' && code !== 'ENODEV') throw error;
    }
  },
  async held(link) {
    return (await listAddresses({ index: link.ifindex })).map((a) => `${a.address}/${a.prefixlen}`);
  },
};
