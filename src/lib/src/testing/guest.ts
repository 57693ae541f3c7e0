/**
 * What the emulated kernels of the tests have in common (User-Mode Linux in uml.ts, a qemu TCG guest
 * in tcg.ts): a shell script runs inside as root, leaves files in $OUT, and they come back here. The
 * guest runs in a process group of its own, stopped by its leader's PID on timeout.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export interface GuestBootOptions {
  /** Stop the guest after this long (default 20 minutes). */
  timeoutMs?: number;
  /** Guest memory, e.g. '1G'. */
  memory?: string;
  /** On timeout return what came back (rc 124 if the script wrote none) instead of throwing. */
  keepOnTimeout?: boolean;
}

export interface GuestBoot {
  /** Exit status of the script inside, or null if it never wrote one. */
  rc: number | null;
  /** What the script printed (stdout and stderr). */
  output: string;
  console: string;
  modprobe: string;
  /** Files the script left in $OUT (/run/out inside), by name. */
  files: Record<string, string>;
}

/**
 * The end of a guest's init, once its modules are loaded: loopback up, the script run in the
 * checkout with its output and exit status in $OUT (/run/out), then synced, unmounted (the
 * last lines are not lost) and powered off.
 */
export function runScript(dir: string): string {
  return `ip link set lo up
cd ${ROOT}
sh ${join(dir, 'script.sh')} >/run/out/output.log 2>&1
echo $? >/run/out/rc
sync
umount /run/out
poweroff -f
`;
}

/**
 * Run a guest (`command args`, detached) until it exits or the timeout, then read the files of
 * `out` and remove `dir`. `consoleFile`, if given, is where the guest's console went (read after
 * the guest's own stdout and stderr). `name` names the kernel in errors.
 */
export async function runGuest(name: string, command: string, args: string[], dir: string, out: string, options: GuestBootOptions & { consoleFile?: string }): Promise<GuestBoot> {
  const consoleLog: Buffer[] = [];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.on('data', (b: Buffer) => consoleLog.push(b));
  child.stderr.on('data', (b: Buffer) => consoleLog.push(b));
  const timeoutMs = options.timeoutMs ?? 20 * 60_000;
  let timedOut = false;
  let exited: number | null;
  try {
    exited = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        timedOut = true;
        // the guest runs in a process group of its own (detached): stop that group, by its leader's PID
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
      }, timeoutMs);
      child.on('error', (e) => { clearTimeout(timer); reject(e); });
      child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const files: Record<string, string> = {};
  for (const f of readdirSync(out)) files[f] = readFileSync(join(out, f), 'utf8');
  const rcText = (files.rc ?? '').trim();
  let consoleText = Buffer.concat(consoleLog).toString('utf8');
  if (options.consoleFile && existsSync(options.consoleFile)) consoleText += readFileSync(options.consoleFile, 'utf8');
  const boot: GuestBoot = {
    rc: rcText === '' ? null : Number(rcText),
    output: files['output.log'] ?? '',
    console: consoleText,
    modprobe: files['modprobe.log'] ?? '',
    files,
  };
  rmSync(dir, { recursive: true, force: true });
  if (timedOut && options.keepOnTimeout) return { ...boot, rc: boot.rc ?? 124 };
  if (timedOut) throw new Error(`${name} did not finish within ${timeoutMs / 1000} s; console tail:\n${boot.console.slice(-2000)}`);
  if (boot.rc === null) throw new Error(`${name} exited (${exited}) without running the script; console tail:\n${boot.console.slice(-3000)}`);
  return boot;
}
