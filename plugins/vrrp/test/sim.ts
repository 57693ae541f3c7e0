/**
 * A simulated LAN for the speaker's tests: nodes whose wire hands every advert (encoded and
 * parsed for real) to the other nodes after 0 ms of simulated time, whose kernel is a set of
 * VIPs, on one manual clock. Links can be cut per node, or every packet blocked (split brain).
 */
import { Logger } from '@ha/lib';
import { ManualClock } from '@ha/lib/agent';
import type { Instance } from '../src/model.js';
import { TrackerRegistry } from '../src/priority.js';
import { InstanceRunner } from '../src/speaker.js';
import type { NotifyJob } from '../src/notify.js';
import type { Received } from '../src/types.js';
import type { Endpoint, Link, PacketHandler, VipKernel, Wire } from '../src/wire.js';

export class Lan {
  readonly clock = new ManualClock(0);
  readonly nodes: Node[] = [];
  /** Drop every packet (a cut link between all nodes). */
  blocked = false;
  readonly log: string[] = [];

  node(name: string, address: string): Node {
    const n = new Node(this, name, address);
    this.nodes.push(n);
    return n;
  }

  deliver(from: Node, payload: Uint8Array, destination: string): void {
    if (this.blocked) return;
    const copy = Uint8Array.from(payload);
    for (const n of this.nodes) {
      if (n === from || !n.linkUp || !from.linkUp) continue;
      this.clock.setTimer(0, () => n.receive(copy, { source: from.address, destination, ttl: 255, ifindex: 2 }));
    }
  }
}

export class Node implements Wire, VipKernel {
  readonly vips = new Set<string>();
  readonly notified: string[] = [];
  readonly sent: Array<{ at: number; priority: number }> = [];
  readonly announced: string[] = [];
  handlers = new Set<PacketHandler>();
  linkUp = true;
  readonly registry = new TrackerRegistry();
  runner?: InstanceRunner;

  constructor(private readonly lan: Lan, readonly name: string, readonly address: string) {}

  receive(payload: Uint8Array, rx: Received): void {
    for (const h of this.handlers) h(payload, rx);
  }

  // Wire
  join(_e: Endpoint, _vrid: number, handler: PacketHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  send(_e: Endpoint, payload: Uint8Array, destination: string): void {
    this.sent.push({ at: this.lan.clock.now(), priority: payload[2]! });
    this.lan.deliver(this, payload, destination);
  }

  announce(_link: Link, vip: string): void {
    this.announced.push(vip);
  }

  close(): void {}

  // VipKernel
  async link(ifname: string): Promise<Link> {
    return { ifname, ifindex: 2, mac: '02:00:00:00:00:01', up: true, ipv4: this.address };
  }

  async add(_l: Link, vip: string): Promise<void> {
    this.vips.add(vip);
    this.lan.log.push(`${this.name} +${vip}`);
  }

  async remove(_l: Link, vip: string): Promise<void> {
    this.vips.delete(vip);
    this.lan.log.push(`${this.name} -${vip}`);
  }

  async held(): Promise<string[]> {
    return [...this.vips];
  }

  async start(name: string, cfg: Instance): Promise<InstanceRunner> {
    this.runner = new InstanceRunner(name, cfg, {}, {
      wire: this, kernel: this, clock: this.lan.clock, registry: this.registry,
      logger: new Logger({ write: () => undefined }),
      emit: (type, data) => { if (type === 'transition') this.lan.log.push(`${this.name} ${String(data.to)}`); },
      notify: (_i: string, jobs: NotifyJob[]) => {
        for (const j of jobs) this.notified.push([j.command, ...j.args].join(' '));
        this.lan.log.push(`${this.name} notify ${jobs.map((j) => j.command).join(',')}`);
      },
    });
    await this.runner.start();
    return this.runner;
  }
}


/** Let promise chains (VIP changes) settle, then advance the clock in small steps. */
export async function run(lan: Lan, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    lan.clock.advance(Math.min(step, ms - t));
    await new Promise((r) => setImmediate(r));
  }
}
