/**
 * Network namespaces on the host kernel for tests: per-run unique names, removed by the test that
 * made them (also when it fails). Nothing here touches the machine's own interfaces or routes.
 */
import { SpawnSyncReturns, spawnSync } from 'node:child_process';

export const isRoot = process.getuid?.() === 0;

/** For `test(name, {skip: needsRoot}, …)`: skipped only when not root (CI runs as root). */
export const needsRoot: string | false = isRoot ? false : 'needs root to create network namespaces and boot User-Mode Linux; run the tests as root (CI does)';

let counter = 0;
const runId = `${process.pid.toString(36)}${Date.now().toString(36).slice(-3)}`;

export function run(cmd: string[], input?: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', input: input ?? '', timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

export function runOk(cmd: string[]): string {
  const r = run(cmd);
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

export class Netns {
  readonly name: string;
  private constructor(name: string) {
    this.name = name;
  }

  static create(label = 'ns'): Netns {
    const name = `ha-t${runId}-${++counter}-${label}`;
    runOk(['ip', 'netns', 'add', name]);
    const ns = new Netns(name);
    ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /** The argv prefix that runs a command inside this namespace. */
  get wrap(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  exec(cmd: string[], input?: string): SpawnSyncReturns<string> {
    return run([...this.wrap, ...cmd], input);
  }

  ip(...args: string[]): string {
    return runOk(['ip', '-n', this.name, ...args]);
  }

  /** `ip -j …` parsed. */
  ipJson<T = unknown>(...args: string[]): T {
    return JSON.parse(runOk(['ip', '-j', '-n', this.name, ...args]) || '[]') as T;
  }

  destroy(): void {
    // deleting the namespace removes every interface inside it
    run(['ip', 'netns', 'del', this.name]);
  }
}

/** A short unique interface name (at most 15 characters). */
export function ifname(label: string): string {
  return `h${(++counter).toString(36)}${label}`.slice(0, 15);
}
