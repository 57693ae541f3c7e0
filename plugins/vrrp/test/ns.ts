/**
 * Network namespaces for the socket-level tests (sockets.test.ts, peers.test.ts), named so-…,
 * with IPv6 DAD off inside before any interface exists (VRRP.md: binding to a link-local address
 * fails for ~1.7 s while DAD runs), and keepalived inside one of them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk } from '@ha/lib/testing';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

export interface Keepalived {
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** keepalived in NS with CONF, its pid files in DIR; stop() ends it and its children by PID. */
export function startKeepalived(ns: Ns, dir: string, conf: string): Keepalived {
  const file = join(dir, 'keepalived.conf');
  writeFileSync(file, conf);
  const pids = ['main', 'vrrp', 'check'].map((n) => join(dir, `${n}.pid`));
  const child = spawn('ip', ['netns', 'exec', ns.name, 'keepalived', '-f', file, '-p', pids[0]!, '-r', pids[1]!, '-c', pids[2]!, '-l', '-D', '-n'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => { log += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { log += b.toString(); });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      // a parent that would not stop: its VRRP child (by its PID file) and itself, by PID
      if (!done) {
        for (const f of pids) {
          if (!existsSync(f)) continue;
          const pid = Number(readFileSync(f, 'utf8').trim());
          if (pid > 0) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        }
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
