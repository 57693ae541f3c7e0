/**
 * A second emulated kernel for the tests and benchmarks: Debian's own kernel (linux-image-amd64,
 * 6.1 on Debian 12) in a qemu guest under TCG, the software CPU (KVM does not work on the machines
 * this project runs on). It is the User-Mode Linux harness (uml.ts) again: a script runs inside as
 * root, with this machine's / as the guest's read-only root (9p), node, the checkout and
 * node_modules at the same paths, the same modules loaded, and its files in $OUT come back through a
 * second, writable 9p share. The two kernels slow down different things (TESTING.md: UML syscalls,
 * TCG fork+exec and JIT code), so a benchmark that matters is run in both.
 *
 * prepareTcgKernel() builds a cache once per kernel version (the package's modules, an uncompressed
 * vmlinux that qemu boots directly, and a busybox initramfs that mounts the 9p shares).
 *
 * Choices measured here: the vmlinux boots ~10 s sooner than the bzImage (whose xz decompression
 * runs under TCG); q35 came up a little sooner than pc; microvm's TSC calibration failed on a busy
 * machine (no HPET or PM timer to calibrate against) and the guest hung. The root share is mounted
 * cache=loose: `node -e 0` took ~0.6 s, against 3-10 s with cache=none or mmap. The guest keeps
 * what it read, so a host file changed during a boot may be seen stale inside.
 */
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type GuestBoot, type GuestBootOptions, runGuest, runScript } from './guest.js';
import { UML_MODULES } from './uml.js';

/** Where prepared kernels live, one directory per kernel version. */
export const TCG_CACHE = '/var/cache/ha-tcg';
export const QEMU = 'qemu-system-x86_64';
/** The Debian package whose dependency names the kernel package to use. */
const META_PACKAGE = 'linux-image-amd64';
/** What the initramfs loads (with their dependencies) to mount the 9p shares, unless built in. */
const INITRD_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'virtio_rng'];
/** The cache's description of itself, written last before the directory is renamed into place. */
const MANIFEST = 'kernel.json';

export interface TcgKernel {
  /** The kernel release, as `uname -r` prints it inside, e.g. 6.1.0-57-amd64. */
  version: string;
  /** The Debian package it came from, and that package's version. */
  package: string;
  packageVersion: string;
  /** The cache directory; `modprobe -d` takes it (it holds lib/modules/<version>). */
  dir: string;
  /** What qemu boots: the uncompressed vmlinux, or the bzImage if that could not be made. */
  kernel: string;
  initrd: string;
  /** The modules the initramfs loads (virtio, 9p and their dependencies), in load order. */
  initrdModules: string[];
}

export interface TcgBootOptions extends GuestBootOptions {
  /** Virtual CPUs (default 1); more than one runs TCG multi-threaded. */
  cpus?: number;
}

const SEARCH_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The full path of a program on PATH (or the usual sbin directories), or undefined. */
function findTool(name: string): string | undefined {
  for (const d of `${process.env.PATH ?? ''}${delimiter}${SEARCH_PATH}`.split(delimiter)) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch { /* not here */ }
  }
  return undefined;
}

function needTool(name: string, pkg: string): string {
  const p = findTool(name);
  if (!p) throw new Error(`${name} is missing: install the Debian package ${pkg} (scripts/install.sh does)`);
  return p;
}

/** Run a program; resolves with its stdout, or rejects naming it and its last line of stderr. */
function run(cmd: string, args: string[], options: { cwd?: string; input?: Buffer; stdoutFile?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const fd = options.stdoutFile ? openSync(options.stdoutFile, 'w') : undefined;
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: [options.input ? 'pipe' : 'ignore', fd ?? 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (options.input) child.stdin!.end(options.input);
    const done = (e?: Error): void => {
      if (fd !== undefined) closeSync(fd);
      if (e) reject(e);
      else resolve(Buffer.concat(out).toString('utf8'));
    };
    child.on('error', (e) => done(e));
    child.on('close', (code, signal) => {
      if (code === 0) return done();
      const last = Buffer.concat(err).toString('utf8').trim().split('\n').filter((l) => !l.startsWith('W: ')).at(-1) ?? '';
      done(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code})${last ? `: ${last}` : ''}`));
    });
  });
}

/** The kernel package linux-image-amd64 depends on in the apt lists (its candidate version). */
async function kernelPackage(): Promise<string | undefined> {
  let text: string;
  try {
    text = await run(needTool('apt-cache', 'apt'), ['depends', META_PACKAGE]);
  } catch {
    return undefined;
  }
  return /^\s*Depends:\s*(linux-image-\d\S*)\s*$/m.exec(text)?.[1];
}

function readManifest(dir: string): TcgKernel | undefined {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) return undefined;
  const m = JSON.parse(readFileSync(file, 'utf8')) as Omit<TcgKernel, 'dir'>;
  return { ...m, dir, kernel: join(dir, m.kernel), initrd: join(dir, m.initrd) };
}

/**
 * Remove build directories left by a prepareTcgKernel that was killed (its PID is gone). Each is
 * first renamed, which only one of several cleaners at once can do, and which makes a program the
 * killed build had started (dpkg-deb may still be writing) fail instead of refilling it.
 */
function removeStaleBuilds(): void {
  for (const e of readdirSync(TCG_CACHE)) {
    const m = /^\.build-(\d+)-/.exec(e);
    let stale = e.startsWith('.stale-') ? join(TCG_CACHE, e) : undefined;
    if (m) {
      try {
        process.kill(Number(m[1]), 0);
        continue;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue;
      }
      stale = join(TCG_CACHE, `.stale-${e.slice('.build-'.length)}`);
      try { renameSync(join(TCG_CACHE, e), stale); } catch { continue; }
    }
    if (stale) try { rmSync(stale, { recursive: true, force: true }); } catch { /* still being written or removed: next time */ }
  }
}

/** The payload of a bzImage (the compressed vmlinux), from its boot protocol header (2.08+). */
function bzImagePayload(bz: Buffer): Buffer {
  if (bz.toString('latin1', 0x202, 0x206) !== 'HdrS' || bz.readUInt16LE(0x206) < 0x208) throw new Error('not a bzImage of boot protocol 2.08 or newer');
  const setupSectors = bz[0x1f1] || 4;
  const start = (setupSectors + 1) * 512 + bz.readUInt32LE(0x248);
  return bz.subarray(start, start + bz.readUInt32LE(0x24c));
}

/**
 * Write the uncompressed vmlinux inside a bzImage to `file`; false if it is not xz-compressed (qemu
 * then boots the bzImage, which decompresses itself, slowly under TCG).
 */
async function extractVmlinux(bzImage: string, file: string): Promise<boolean> {
  const payload = bzImagePayload(readFileSync(bzImage));
  // Debian's kernels are xz; the build appends the uncompressed size after the stream: read the stream only
  if (payload.subarray(0, 6).toString('hex') !== 'fd377a585a00') return false;
  await run(needTool('xz', 'xz-utils'), ['-dc', '--single-stream'], { input: payload, stdoutFile: file });
  const elf = readFileSync(file).subarray(0, 4);
  if (elf.toString('latin1') !== '\x7fELF') throw new Error(`${bzImage}: what its payload decompressed to is not an ELF file`);
  return true;
}

/** True if the ELF file has no program interpreter (runs without a libc next to it). */
function isStatic(file: string): boolean {
  const b = readFileSync(file);
  if (b.toString('latin1', 0, 4) !== '\x7fELF' || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
  return true;
}

/** The modules `want` needs, dependencies first, as paths under the modules directory; built-ins left out. */
function moduleLoadOrder(modulesDir: string, want: string[]): string[] {
  const norm = (n: string): string => n.replaceAll('-', '_');
  const nameOf = (path: string): string => norm(path.split('/').at(-1)!.replace(/\.ko(\.\w+)?$/, ''));
  const builtin = new Set(readFileSync(join(modulesDir, 'modules.builtin'), 'utf8').split('\n').filter(Boolean).map(nameOf));
  const deps = new Map<string, { path: string; deps: string[] }>();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const [path, rest] = line.split(':');
    if (!path || rest === undefined) continue;
    deps.set(nameOf(path), { path, deps: rest.trim().split(/\s+/).filter(Boolean).map(nameOf) });
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name) || builtin.has(name)) return;
    seen.add(name);
    const m = deps.get(name);
    if (!m) throw new Error(`module ${name} is neither in modules.dep nor built in`);
    for (const d of m.deps) visit(d);
    order.push(m.path);
  };
  for (const w of want) visit(norm(w));
  return order;
}

/** The initramfs's /init: mount the shares and the tmpfs the guest's init expects, then switch to it. */
function initramfsInit(modules: string[]): string {
  return `#!/bin/busybox sh
# PID 1 of the initramfs made by ha's prepareTcgKernel (src/lib/src/testing/tcg.ts): this machine's /
# over 9p read-only, /run and /tmp as tmpfs, /run/out the writable share, then the script's init
# (ha.init= on the kernel command line) runs as PID 1 on that root
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in ${modules.join(' ')}; do $B insmod /lib/modules/$m.ko || echo "initramfs: insmod $m failed"; done
o=trans=virtio,version=9p2000.L,msize=512000
$B mount -t 9p -o $o,ro,cache=loose root /newroot || echo "initramfs: cannot mount 9p tag root"
$B mount -t tmpfs tmpfs /newroot/run
$B mount -t tmpfs tmpfs /newroot/tmp
$B mkdir /newroot/run/out
$B mount -t 9p -o $o out /newroot/run/out || echo "initramfs: cannot mount 9p tag out"
init=
for a in $($B cat /proc/cmdline); do case $a in ha.init=*) init=\${a#ha.init=};; esac; done
$B mount --move /dev /newroot/dev
$B mount --move /sys /newroot/sys
$B mount --move /proc /newroot/proc
exec $B switch_root /newroot /bin/sh "$init"
`;
}

/** Build the initramfs (busybox, the 9p and virtio modules, /init) as a newc cpio archive. */
async function buildInitramfs(build: string, version: string, file: string): Promise<string[]> {
  const busybox = findTool('busybox');
  if (!busybox || !isStatic(busybox)) throw new Error(`${busybox ?? 'busybox'} is ${busybox ? 'not statically linked' : 'missing'}: install the Debian package busybox-static (scripts/install.sh does)`);
  const modulesDir = join(build, 'lib', 'modules', version);
  const order = moduleLoadOrder(modulesDir, INITRD_MODULES);
  const stage = join(build, 'initramfs');
  for (const d of ['bin', 'lib/modules', 'proc', 'sys', 'dev', 'newroot']) mkdirSync(join(stage, d), { recursive: true });
  copyFileSync(busybox, join(stage, 'bin', 'busybox'));
  chmodSync(join(stage, 'bin', 'busybox'), 0o755);
  const names: string[] = [];
  for (const path of order) {
    const name = path.split('/').at(-1)!.replace(/\.ko$/, '');
    copyFileSync(join(modulesDir, path), join(stage, 'lib', 'modules', `${name}.ko`));
    names.push(name);
  }
  writeFileSync(join(stage, 'init'), initramfsInit(names), { mode: 0o755 });
  const list: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(stage, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      list.push(r);
      if (e.isDirectory()) walk(r);
    }
  };
  walk('');
  await run(busybox, ['cpio', '-o', '-H', 'newc'], { cwd: stage, input: Buffer.from(`${list.join('\n')}\n`), stdoutFile: file });
  rmSync(stage, { recursive: true, force: true });
  return names;
}

/** Download, unpack and prepare one kernel package into `build` (a directory of the cache). */
async function buildKernel(build: string, pkg: string): Promise<void> {
  const aptGet = needTool('apt-get', 'apt');
  const dpkgDeb = needTool('dpkg-deb', 'dpkg');
  const depmod = needTool('depmod', 'kmod');
  needTool('xz', 'xz-utils');
  const version = pkg.slice('linux-image-'.length);
  // as root apt would hand the download to its _apt user, which cannot write here: it needs no sandbox
  await run(aptGet, ['-q', '-o', 'APT::Sandbox::User=root', 'download', pkg], { cwd: build })
    .catch((e: Error) => { throw new Error(`cannot download the Debian package ${pkg}: ${e.message}`); });
  const deb = readdirSync(build).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb file`);
  const packageVersion = (await run(dpkgDeb, ['-f', join(build, deb), 'Version'])).trim();
  const unpacked = join(build, 'pkg');
  await run(dpkgDeb, ['-x', join(build, deb), unpacked]);
  rmSync(join(build, deb));
  const modules = [join(unpacked, 'lib', 'modules', version), join(unpacked, 'usr', 'lib', 'modules', version)].find((d) => existsSync(d));
  if (!modules) throw new Error(`${pkg} has no lib/modules/${version}`);
  mkdirSync(join(build, 'lib', 'modules'), { recursive: true });
  renameSync(modules, join(build, 'lib', 'modules', version));
  const bzImage = join(unpacked, 'boot', `vmlinuz-${version}`);
  const config = join(unpacked, 'boot', `config-${version}`);
  if (!existsSync(bzImage)) throw new Error(`${pkg} has no boot/vmlinuz-${version}`);
  copyFileSync(config, join(build, `config-${version}`));
  await run(depmod, ['-b', build, version]);
  // qemu boots an uncompressed vmlinux directly (PVH entry point, CONFIG_PVH) and skips the
  // bzImage's own decompression, which takes seconds under TCG
  const pvh = /^CONFIG_PVH=y$/m.test(readFileSync(config, 'utf8'));
  let kernel = 'vmlinux';
  if (!pvh || !(await extractVmlinux(bzImage, join(build, kernel)))) {
    kernel = `vmlinuz-${version}`;
    rmSync(join(build, 'vmlinux'), { force: true });
    copyFileSync(bzImage, join(build, kernel));
  }
  rmSync(unpacked, { recursive: true, force: true });
  const initrdModules = await buildInitramfs(build, version, join(build, 'initrd.cpio'));
  writeFileSync(join(build, MANIFEST), `${JSON.stringify({ version, package: pkg, packageVersion, kernel, initrd: 'initrd.cpio', initrdModules }, null, 2)}\n`);
}

let prepared: Promise<TcgKernel> | undefined;

/**
 * The kernel for bootTcg, built into TCG_CACHE/<version> the first time: the package that
 * linux-image-amd64 depends on (apt-get download), its modules with depmod's files, an uncompressed
 * vmlinux and a busybox initramfs. The build goes to a temporary directory renamed into place when
 * complete, so an interrupted build never leaves a half cache; two builds at once are harmless (the
 * second finds the first's). Without apt lists, the newest kernel already in the cache is used.
 */
export function prepareTcgKernel(): Promise<TcgKernel> {
  prepared ??= prepare();
  prepared.catch(() => { prepared = undefined; });
  return prepared;
}

async function prepare(): Promise<TcgKernel> {
  mkdirSync(TCG_CACHE, { recursive: true });
  removeStaleBuilds();
  const pkg = await kernelPackage();
  if (!pkg) {
    const cached = readdirSync(TCG_CACHE).filter((d) => !d.startsWith('.')).map((d) => readManifest(join(TCG_CACHE, d)))
      .filter((k): k is TcgKernel => k !== undefined).sort((a, b) => statSync(b.dir).mtimeMs - statSync(a.dir).mtimeMs);
    if (cached[0]) return cached[0];
    throw new Error(`no Debian package ${META_PACKAGE} in the apt lists (run apt-get update; this needs Debian's package mirror)`);
  }
  const dir = join(TCG_CACHE, pkg.slice('linux-image-'.length));
  const ready = readManifest(dir);
  if (ready) return ready;
  if (existsSync(dir)) throw new Error(`${dir} is not a complete kernel cache (no ${MANIFEST}): remove it`);
  const build = mkdtempSync(join(TCG_CACHE, `.build-${process.pid}-`));
  try {
    chmodSync(build, 0o755);
    await buildKernel(build, pkg);
    try {
      renameSync(build, dir);
    } catch (e) {
      // another build got there first: use its cache
      if (!['EEXIST', 'ENOTEMPTY'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    }
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
  const k = readManifest(dir);
  if (!k) throw new Error(`${dir}: ${MANIFEST} is missing after the build`);
  return k;
}

/**
 * Boot Debian's kernel under qemu (TCG) once and run a shell script inside it, like bootUml: as the
 * child of PID 1, root, cwd the checkout, $OUT (/run/out) a writable share whose files come back,
 * PATH, HOME and NO_COLOR=1 set, HA_IN_TCG=1, UML_MODULES loaded, lo up, /run and /tmp tmpfs.
 * Throws (never skips) when the guest cannot be started: a harness that cannot start is a failure.
 */
export async function bootTcg(script: string, options: TcgBootOptions = {}): Promise<GuestBoot> {
  const qemu = needTool(QEMU, 'qemu-system-x86');
  const kernel = await prepareTcgKernel();
  const dir = mkdtempSync('/var/tmp/ha-tcg-');
  const out = join(dir, 'out');
  const init = join(dir, 'init.sh');
  const consoleFile = join(dir, 'console.log');
  const modprobe = (m: string): string => `modprobe -d ${kernel.dir} ${m}`;
  mkdirSync(out);
  writeFileSync(join(dir, 'script.sh'), script);
  // the initramfs mounted /proc, /sys, /dev, /run, /tmp and /run/out already; one modprobe for all
  // the modules (each program started costs ~0.1 s under TCG), one by one only to say which failed
  writeFileSync(init, `#!/bin/sh
export PATH=${SEARCH_PATH} HOME=/root NO_COLOR=1 HA_IN_TCG=1 OUT=/run/out
${modprobe(`-a ${UML_MODULES.join(' ')}`)} >>/run/out/modprobe.log 2>&1 ||
  for m in ${UML_MODULES.join(' ')}; do ${modprobe('$m')} >>/run/out/modprobe.log 2>&1 || echo "modprobe $m failed" >>/run/out/modprobe.log; done
${runScript(dir)}`, { mode: 0o755 });

  const cpus = options.cpus ?? 1;
  const share = (id: string, path: string, extra: string): string[] => [
    '-fsdev', `local,id=${id},path=${path},security_model=none,multidevs=remap${extra}`,
    '-device', `virtio-9p-pci,fsdev=${id},mount_tag=${id}`,
  ];
  return runGuest('qemu (TCG)', qemu, [
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-machine', 'q35', '-accel', cpus > 1 ? 'tcg,thread=multi' : 'tcg', '-cpu', 'max',
    '-smp', String(cpus), '-m', options.memory ?? '2G',
    '-kernel', kernel.kernel, '-initrd', kernel.initrd,
    // tsc=reliable: without it the guest falls back to an emulated clock and every time read is
    // slow; panic=-1 with -no-reboot: a guest whose init dies exits instead of hanging
    '-append', `console=ttyS0 quiet tsc=reliable panic=-1 ha.init=${init}`,
    '-serial', `file:${consoleFile}`,
    ...share('root', '/', ',readonly=on'),
    ...share('out', out, ''),
    '-device', 'virtio-rng-pci',
  ], dir, out, { ...options, consoleFile });
}
