/**
 * Notification scripts, run in transition order, one at a time per instance (keepalived runs
 * them fire-and-forget, so they overtake each other). For one transition: the state's script
 * (notify_master / _backup / _fault / _stop, no arguments), then the generic one with
 * `INSTANCE <name> <STATE> <priority>` appended (keepalived's arguments, so existing scripts
 * work). Each runs with /bin/sh -c as an unprivileged user by default, with a timeout (SIGTERM,
 * then SIGKILL two seconds later); a queue never blocks the adverts, which do not wait for it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import type { Notify } from './model.js';

export interface NotifyJob {
  /** The command as configured. */
  command: string;
  /** Appended arguments (the generic script's INSTANCE name STATE priority). */
  args: string[];
}

export interface NotifyResult {
  command: string;
  args: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  ms: number;
}

export interface RunAs { uid?: number; gid?: number }

/** uid and gid of a user from /etc/passwd ("root" or unknown users: as we are, said by the caller). */
export function lookupUser(name: string, passwd = '/etc/passwd'): RunAs | undefined {
  if (name === 'root') return {};
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** The jobs of one instance transition, in keepalived's order. */
export function transitionJobs(kind: 'INSTANCE' | 'GROUP', name: string, state: string, priority: number, notify: Notify | undefined): NotifyJob[] {
  if (!notify) return [];
  const jobs: NotifyJob[] = [];
  const specific = state === 'MASTER' ? notify.master : state === 'BACKUP' ? notify.backup : state === 'FAULT' ? notify.fault : state === 'STOP' ? notify.stop : undefined;
  if (specific) jobs.push({ command: specific, args: [] });
  if (notify.any) jobs.push({ command: notify.any, args: [kind, name, state, String(priority)] });
  return jobs;
}

/**
 * How to run a command line: /bin/sh -c, and when the agent runs at a raised priority (ha agent
 * run --nice), through nice(1) back to priority 0, so a script never competes with the adverts.
 */
export function shellCommand(line: string): [string, string[]] {
  let prio = 0;
  try {
    prio = getPriority();
  } catch { /* as we are */ }
  return prio < 0 ? ['nice', ['-n', String(-prio), '/bin/sh', '-c', line]] : ['/bin/sh', ['-c', line]];
}

/** Quote an argument for /bin/sh. */
const shellQuote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

/** Runs jobs one after another; `push` never waits. */
export class NotifyQueue {
  private readonly queue: NotifyJob[] = [];
  private running = false;
  /** At most this many waiting jobs; older ones are dropped beyond it (and counted). */
  static readonly LIMIT = 1000;
  dropped = 0;

  constructor(
    private readonly options: { timeoutMs: number; runAs: RunAs; onDone: (r: NotifyResult) => void; env?: NodeJS.ProcessEnv },
  ) {}

  push(...jobs: NotifyJob[]): void {
    for (const j of jobs) {
      if (this.queue.length >= NotifyQueue.LIMIT) {
        this.queue.shift();
        this.dropped++;
      }
      this.queue.push(j);
    }
    if (!this.running) void this.drain();
  }

  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length) await this.runOne(this.queue.shift()!);
    this.running = false;
  }

  private runOne(job: NotifyJob): Promise<void> {
    const started = performance.now();
    const line = [job.command, ...job.args.map(shellQuote)].join(' ');
    return new Promise((resolve) => {
      let timedOut = false;
      let child;
      try {
        const [file, argv] = shellCommand(line);
        child = spawn(file, argv, {
          stdio: 'ignore', detached: true, env: this.options.env ?? { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
          ...(this.options.runAs.uid !== undefined ? { uid: this.options.runAs.uid } : {}),
          ...(this.options.runAs.gid !== undefined ? { gid: this.options.runAs.gid } : {}),
        });
      } catch (error) {
        this.options.onDone({ command: job.command, args: job.args, exitCode: null, signal: String((error as Error).message), timedOut: false, ms: 0 });
        resolve();
        return;
      }
      const kill = (sig: NodeJS.Signals): void => {
        try {
          process.kill(-child.pid!, sig);
        } catch { /* gone */ }
      };
      const term = setTimeout(() => {
        timedOut = true;
        kill('SIGTERM');
      }, this.options.timeoutMs);
      const hard = setTimeout(() => kill('SIGKILL'), this.options.timeoutMs + 2000);
      let finished = false;
      const done = (exitCode: number | null, signal: string | null): void => {
        if (finished) return;
        finished = true;
        clearTimeout(term);
        clearTimeout(hard);
        this.options.onDone({ command: job.command, args: job.args, exitCode, signal, timedOut, ms: Math.round(performance.now() - started) });
        resolve();
      };
      child.once('error', (e) => done(null, e.message));
      child.once('exit', (code, signal) => done(code, signal));
    });
  }
}
