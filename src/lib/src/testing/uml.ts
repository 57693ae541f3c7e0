/**
 * User-Mode Linux: a Linux 6.1 kernel with IPVS and bonding that runs as an ordinary process
 * (Debian package user-mode-linux). It is booted once per test run with this machine's filesystem
 * as its read-only root (hostfs), so node, the checkout and node_modules are visible at the same
 * paths. Results come back through a writable hostfs folder under /var/tmp (the console can lose
 * the last lines at power-off, and /tmp inside is a fresh tmpfs).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';
import { type GuestBoot, type GuestBootOptions, runGuest, runScript } from './guest.js';

export const UML_KERNEL = '/usr/bin/linux.uml';
export const UML_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_lc', 'ip_vs_wlc', 'ip_vs_sh', 'ip_vs_lblc', 'ip_vs_lblcr', 'ip_vs_dh', 'ip_vs_sed', 'ip_vs_nq', 'ip_vs_fo', 'ip_vs_ovf', 'ip_vs_mh', 'ip_vs_pe_sip', 'bonding', 'dummy', 'veth', 'ipip', 'bridge'];

export interface UmlEvent {
  name: string;
  nesting: number;
  file?: string;
  passed: boolean;
  skip?: string;
  ms?: number;
  error?: string;
}

export interface UmlRun {
  /** Exit status of the command inside, or null if it never wrote one. */
  rc: number | null;
  events: UmlEvent[];
  output: string;
  console: string;
  modprobe: string;
}

/** What a UML boot gives back (the same shape as every guest's: see guest.ts). */
export type UmlBoot = GuestBoot;

/**
 * Boot UML once and run a shell script inside it (as PID 1's child, root, with IPVS, bonding,
 * dummy, veth and ipip modules loaded). The script can leave files in $OUT. Throws (never skips)
 * when the kernel cannot be started: a harness that cannot start is a failure.
 */
export async function bootUml(script: string, options: GuestBootOptions = {}): Promise<UmlBoot> {
  if (!existsSync(UML_KERNEL)) throw new Error(`${UML_KERNEL} is missing: install the Debian package user-mode-linux (the README's commands do)`);
  const dir = mkdtempSync('/var/tmp/ha-uml-');
  const out = join(dir, 'out');
  const init = join(dir, 'init.sh');
  mkdirSync(out);
  writeFileSync(join(dir, 'script.sh'), script);
  writeFileSync(init, `#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root NO_COLOR=1 HA_IN_UML=1 OUT=/run/out
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/out && mount -t hostfs none /run/out -o ${out}
mkdir -p /run/m/lib && ln -s /usr/lib/uml/modules /run/m/lib/modules
for m in ${UML_MODULES.join(' ')}; do modprobe -d /run/m $m >>/run/out/modprobe.log 2>&1 || echo "modprobe $m failed" >>/run/out/modprobe.log; done
${runScript(dir)}`, { mode: 0o755 });

  return runGuest('User-Mode Linux', UML_KERNEL, [
    `mem=${options.memory ?? '1G'}`, 'root=/dev/root', 'rootfstype=hostfs', 'rootflags=/', 'ro', `init=${init}`,
    'con=null', 'con0=fd:0,fd:1',
  ], dir, out, options);
}

/** Boot UML once and run `node --test` on the given compiled test files inside it. */
export async function runTestsInUml(files: string[], options: { timeoutMs?: number } = {}): Promise<UmlRun> {
  const reporter = join(ROOT, 'src', 'lib', 'dist', 'src', 'testing', 'json-reporter.js');
  const quoted = files.map((f) => `'${f.replaceAll("'", "'\\''")}'`).join(' ');
  const boot = await bootUml(`node --test --test-reporter=${reporter} --test-reporter-destination=$OUT/events.jsonl ${quoted}\n`, options);
  return {
    rc: boot.rc,
    events: (boot.files['events.jsonl'] ?? '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as UmlEvent),
    output: boot.output,
    console: boot.console,
    modprobe: boot.modprobe,
  };
}

/** Compiled test files meant to run inside UML (`*.uml.test.js`) under the root and every plugin. */
export function umlTestFiles(): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.uml.test.js')) found.push(p);
    }
  };
  walk(join(ROOT, 'dist', 'test'));
  const plugins = join(ROOT, 'plugins');
  if (existsSync(plugins)) for (const p of readdirSync(plugins)) walk(join(plugins, p, 'dist', 'test'));
  // HA_UML_ONLY=substring runs only the matching files (for working on one of them)
  const only = process.env.HA_UML_ONLY;
  return found.filter((f) => !only || f.includes(only)).sort();
}
