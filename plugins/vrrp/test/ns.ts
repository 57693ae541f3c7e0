/**
 * Network namespaces for the socket-level tests (sockets.test.ts, peers.test.ts): named so-…,
 * IPv6 DAD off inside before any interface exists (VRRP.md: binding to a link-local address fails
 * for ~1.7 s while DAD runs).
 */
import { run, runOk } from '@ha/lib/testing';

const runId = `${process.pid.toString(36)}${Date.now().toString(36).slice(-3)}`;
let counter = 0;

export class Ns {
  private constructor(readonly name: string) {}
  static create(label: string): Ns {
    const ns = new Ns(`so-${runId}-${++counter}-${label}`);
    runOk(['ip', 'netns', 'add', ns.name]);
    runOk(['ip', 'netns', 'exec', ns.name, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }
  get path(): string {
    return `/run/netns/${this.name}`;
  }
  get wrap(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }
  ip(...args: string[]): string {
    return runOk(['ip', '-n', this.name, ...args]);
  }
  exec(...cmd: string[]): string {
    return runOk(['ip', 'netns', 'exec', this.name, ...cmd]);
  }
  destroy(): void {
    run(['ip', 'netns', 'del', this.name]);
  }
}
