/**
 * The test network: a host with two uplinks (and a third, for three-gateway groups) to two gateway
 * namespaces, which both forward to an "internet" namespace holding the destination addresses.
 * Everything lives in namespaces this file makes; nothing touches the machine's own network.
 *
 *   host ha0 198.51.100.2/24 2001:db8:a::2/64  ---  ga0 198.51.100.1 2001:db8:a::1  gwA  gi0 203.0.113.1/30 2001:db8:1a::1 --- ia0  inet
 *   host hb0 192.0.2.2/24    2001:db8:b::2/64  ---  gb0 192.0.2.1    2001:db8:b::1  gwB  gi0 203.0.113.5/30 2001:db8:1b::1 --- ib0  (lo: 203.0.113.100,
 *   host hc0 203.0.113.130/26 2001:db8:c::2/64 --- gc0 203.0.113.129 2001:db8:c::1 gwB                                            2001:db8:ff::100)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Netns, ROOT, Run, ha } from '@ha/lib/testing';

export const DEST4 = '203.0.113.100';
export const DEST6 = '2001:db8:ff::100';
export const GW = {
  a4: '198.51.100.1', b4: '192.0.2.1', c4: '203.0.113.129',
  a6: '2001:db8:a::1', b6: '2001:db8:b::1', c6: '2001:db8:c::1',
};

export class Topology {
  readonly host: Netns;
  readonly gwA: Netns;
  readonly gwB: Netns;
  readonly inet: Netns;
  private readonly all: Netns[] = [];

  constructor() {
    try {
      this.host = this.ns('host');
      this.gwA = this.ns('gwa');
      this.gwB = this.ns('gwb');
      this.inet = this.ns('inet');
      this.link(this.host, 'ha0', ['198.51.100.2/24', '2001:db8:a::2/64'], this.gwA, 'ga0', ['198.51.100.1/24', '2001:db8:a::1/64']);
      this.link(this.host, 'hb0', ['192.0.2.2/24', '2001:db8:b::2/64'], this.gwB, 'gb0', ['192.0.2.1/24', '2001:db8:b::1/64']);
      this.link(this.host, 'hc0', ['203.0.113.130/26', '2001:db8:c::2/64'], this.gwB, 'gc0', ['203.0.113.129/26', '2001:db8:c::1/64']);
      this.link(this.gwA, 'gi0', ['203.0.113.1/30', '2001:db8:1a::1/64'], this.inet, 'ia0', ['203.0.113.2/30', '2001:db8:1a::2/64']);
      this.link(this.gwB, 'gi0', ['203.0.113.5/30', '2001:db8:1b::1/64'], this.inet, 'ib0', ['203.0.113.6/30', '2001:db8:1b::2/64']);
      this.inet.ip('addr', 'add', `${DEST4}/32`, 'dev', 'lo');
      this.inet.ip('addr', 'add', `${DEST6}/128`, 'dev', 'lo', 'nodad');
      for (const [gw, up, v4, v6] of [[this.gwA, 'ia0', '203.0.113.2', '2001:db8:1a::2'], [this.gwB, 'ib0', '203.0.113.6', '2001:db8:1b::2']] as const) {
        this.sysctl(gw, 'net.ipv4.ip_forward', '1');
        this.sysctl(gw, 'net.ipv6.conf.all.forwarding', '1');
        gw.ip('route', 'add', `${DEST4}/32`, 'via', v4);
        gw.ip('-6', 'route', 'add', `${DEST6}/128`, 'via', v6);
        this.neighbour(gw, 'gi0', this.inet, up, v4, v6);
      }
      this.inet.ip('route', 'add', '198.51.100.0/24', 'via', '203.0.113.1');
      this.inet.ip('route', 'add', '192.0.2.0/24', 'via', '203.0.113.5');
      this.inet.ip('route', 'add', '203.0.113.128/26', 'via', '203.0.113.5');
      for (const [net, via] of [['2001:db8:a::/64', '2001:db8:1a::1'], ['2001:db8:b::/64', '2001:db8:1b::1'], ['2001:db8:c::/64', '2001:db8:1b::1']]) this.inet.ip('-6', 'route', 'add', net!, 'via', via!);
      // the host knows its gateways' link addresses: no first packets queued or lost to ARP/ND
      this.neighbour(this.host, 'ha0', this.gwA, 'ga0', GW.a4, GW.a6);
      this.neighbour(this.host, 'hb0', this.gwB, 'gb0', GW.b4, GW.b6);
      this.neighbour(this.host, 'hc0', this.gwB, 'gc0', GW.c4, GW.c6);
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  private ns(label: string): Netns {
    const n = Netns.create(label);
    this.all.push(n);
    return n;
  }

  private link(a: Netns, an: string, aAddrs: string[], b: Netns, bn: string, bAddrs: string[]): void {
    a.ip('link', 'add', an, 'type', 'veth', 'peer', 'name', bn, 'netns', b.name);
    for (const [n, ifn, addrs] of [[a, an, aAddrs], [b, bn, bAddrs]] as const) {
      for (const ad of addrs) n.ip('addr', 'add', ad, 'dev', ifn, ...(ad.includes(':') ? ['nodad'] : []));
      n.ip('link', 'set', ifn, 'up');
    }
  }

  private neighbour(n: Netns, dev: string, peer: Netns, peerDev: string, v4: string, v6: string): void {
    const [link] = peer.ipJson<Array<{ address: string }>>('link', 'show', peerDev);
    n.ip('neigh', 'replace', v4, 'lladdr', link!.address, 'dev', dev, 'nud', 'permanent');
    n.ip('-6', 'neigh', 'replace', v6, 'lladdr', link!.address, 'dev', dev, 'nud', 'permanent');
  }

  sysctl(n: Netns, key: string, value: string): void {
    const r = n.exec(['sysctl', '-qw', `${key}=${value}`]);
    if (r.status !== 0) throw new Error(`sysctl ${key}=${value} in ${n.name}: ${r.stderr}`);
  }

  /** Packets received by each gateway from the host, per uplink. */
  counters(): { a: number; b: number; c: number } {
    const rx = (n: Netns, dev: string): number => n.ipJson<Array<{ stats64: { rx: { packets: number } } }>>('-s', 'link', 'show', dev)[0]!.stats64.rx.packets;
    return { a: rx(this.gwA, 'ga0'), b: rx(this.gwB, 'gb0'), c: rx(this.gwB, 'gc0') };
  }

  /** Packets the internet namespace received through each gateway. */
  delivered(): number {
    const rx = (dev: string): number => this.inet.ipJson<Array<{ stats64: { rx: { packets: number } } }>>('-s', 'link', 'show', dev)[0]!.stats64.rx.packets;
    return rx('ia0') + rx('ib0');
  }

  /** Send FLOWS UDP flows (one destination port each) from the host; returns the counter deltas. */
  send(dest: string, firstPort: number, flows: number, perFlow = 1, sport?: number): { a: number; b: number; c: number; delivered: number; sent: number } {
    const before = this.counters();
    const inBefore = this.delivered();
    const r = spawnSync('ip', ['netns', 'exec', this.host.name, process.execPath, join(ROOT, 'plugins', 'route', 'dist', 'test', 'udp-flows.js'),
      dest, String(firstPort), String(flows), String(perFlow), ...(sport ? [String(sport)] : [])], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`udp-flows failed: ${r.stderr}`);
    // let the gateways forward what is queued before reading the counters
    spawnSync('sleep', ['0.3']);
    const after = this.counters();
    return { a: after.a - before.a, b: after.b - before.b, c: after.c - before.c, delivered: this.delivered() - inBefore, sent: Number(r.stdout.trim()) };
  }

  ha(args: string[]): Run {
    return ha(args, { wrap: this.host.wrap });
  }

  destroy(): void {
    for (const n of this.all.splice(0)) n.destroy();
  }
}
