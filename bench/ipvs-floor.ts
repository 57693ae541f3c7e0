/**
 * The floor of the IPVS restore benchmark: what the kernel itself costs for the requests
 * `ha ipvs restore` makes. The requests are recorded once from ha's own restore
 * (bench/ipvs-record.ts) and replayed by a minimal C sender (bench/ipvs-floor.c, compiled here on
 * demand with cc -O2). Everything here that touches IPVS runs where IPVS is (inside UML), each
 * measured run in a fresh network namespace: after a big table is cleared the kernel keeps its
 * real servers in a trash list that makes the next restore slower (/work/shared/TESTING.md).
 *
 *   buildFloor()                       compile the sender (on the host, before booting UML: the
 *                                      checkout is read-only inside); returns the binary's path
 *   recordRestore(rules, recording)    ha ipvs restore of `rules` in a fresh namespace, recorded
 *   runFloor(recording)                the replay in a fresh namespace: process time and its own
 *   timedInFreshNetns(cmd)             any command timed the same way (ha, ipvsadm -R)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '@ha/lib/testing';

export const FLOOR_SOURCE = join(ROOT, 'bench', 'ipvs-floor.c');
export const FLOOR_BINARY = join(ROOT, 'dist', 'bench', 'ipvs-floor');
export const RECORDER = join(ROOT, 'dist', 'bench', 'ipvs-record.js');
/**
 * Defaults chosen by measurement in UML (bench/ipvs-floor-check.ts --sweep): from 64 KiB up the
 * send time is flat within the noise (4 KiB datagrams take ~2x, 16 KiB ~1.2x), and the window
 * changes nothing measurable (the kernel handles a datagram inside sendmsg, so its ACK is queued
 * when send returns; the window only groups the reads).
 */
export const FLOOR_DATAGRAM_BYTES = 262_144;
export const FLOOR_WINDOW = 4;

const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * Compile bench/ipvs-floor.c with `cc -O2` into `out` unless it is newer than the source; returns
 * the binary's path.
 */
export function buildFloor(out: string = FLOOR_BINARY): string {
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(FLOOR_SOURCE).mtimeMs) return out;
  mkdirSync(dirname(out), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', out, FLOOR_SOURCE], { stdio: ['ignore', 'inherit', 'inherit'] });
  return out;
}

export interface TimedRun {
  /** The command as a whole process (fork, exec, run, exit), timed by bash's `time` inside the namespace. */
  ms: number;
  stdout: string;
  stderr: string;
  /** md5sum of `ipvsadm -Sn` after the command, when asked for. */
  md5?: string;
}

export interface NetnsOptions {
  /** Read the table afterwards (ipvsadm -Sn | md5sum); not timed. */
  md5?: boolean;
  /** Also keep `ipvsadm -Sn`'s text (for a diff when tables differ). */
  save?: boolean;
  /**
   * Clear the table (ipvsadm -C) before leaving the namespace (default true): not timed, and it
   * keeps the kernel's teardown of a namespace with 60,000 objects from running in the background
   * during the next measurement.
   */
  flush?: boolean;
  /**
   * Wait this long in the new namespace before the command (default 1000 ms, not timed): the
   * kernel tears down the namespaces of earlier runs in the background.
   */
  settleMs?: number;
}

/**
 * Run a simple shell command (its output is redirected; `ipvsadm -R < FILE` is fine, a pipeline
 * is not) in a fresh network namespace (loopback up), timing only the command. Throws with its
 * standard error when it fails.
 */
export function timedInFreshNetns(cmd: string, options: NetnsOptions = {}): TimedRun & { saved?: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ha-floor-'));
  try {
    const script = [
      'ip link set lo up || exit 99',
      options.settleMs === 0 ? '' : `sleep ${(options.settleMs ?? 1000) / 1000}`,
      'TIMEFORMAT=%3R',
      `{ time ${cmd} >${dir}/out 2>${dir}/err ; } 2>${dir}/time`,
      'rc=$?',
      '[ $rc = 0 ] || exit $rc',
      options.md5 || options.save ? `ipvsadm -Sn >${dir}/save || exit 98` : '',
      options.md5 ? `md5sum <${dir}/save >${dir}/md5` : '',
      options.flush === false ? '' : 'ipvsadm -C || exit 97',
    ].filter(Boolean).join('\n');
    const r = spawnSync('unshare', ['-n', 'bash', '-c', script], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
    const read = (f: string): string => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
    if (r.status !== 0) {
      const what = r.status === 99 ? 'ip link set lo up' : r.status === 98 ? 'ipvsadm -Sn' : r.status === 97 ? 'ipvsadm -C' : cmd;
      throw new Error(`${what} failed (exit ${r.status ?? r.signal}) in a fresh network namespace: ${(read('err') + r.stderr).trim().slice(-2000)}`);
    }
    return {
      ms: Number(read('time').trim().split('\n').at(-1)) * 1000,
      stdout: read('out'),
      stderr: read('err'),
      ...(options.md5 ? { md5: read('md5').split(' ')[0] } : {}),
      ...(options.save ? { saved: read('save') } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The last line of a command's output, as JSON. */
function lastJson<T>(stdout: string, what: string): T {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what}: no JSON result in its output: ${stdout.slice(-500)}`);
  }
}

export interface RecordResult extends TimedRun {
  messages: number;
  datagrams: number;
  bytes: number;
  familyId: number;
  /** The restore command's own time in the recorder's process (without node's start-up). */
  commandMs: number;
}

/**
 * Record ha's restore of `rulesFile` (ha ipvs restore, in-process, in a fresh namespace) into
 * `outFile`: the requests that change the table, in the format bench/ipvs-record.ts describes.
 */
export function recordRestore(rulesFile: string, outFile: string, options: NetnsOptions = {}): RecordResult & { saved?: string } {
  const run = timedInFreshNetns(`${quote(process.execPath)} ${quote(RECORDER)} ${quote(rulesFile)} ${quote(outFile)}`, options);
  const stats = lastJson<{ messages: number; datagrams: number; bytes: number; familyId: number; ms: number }>(run.stdout, 'ipvs-record');
  return { ...run, messages: stats.messages, datagrams: stats.datagrams, bytes: stats.bytes, familyId: stats.familyId, commandMs: stats.ms };
}

/** What bench/ipvs-floor.c reports of itself (see its header comment). */
export interface FloorReport {
  family: string;
  familyId: number;
  recordedFamilyId: number;
  messages: number;
  bytes: number;
  datagrams: number;
  datagramBytes: number;
  largestDatagram: number;
  window: number;
  readMs: number;
  resolveMs: number;
  /** First send to last ACK. */
  sendMs: number;
  /** All of the sender's main(). */
  totalMs: number;
}

export interface FloorOptions extends NetnsOptions {
  /** The binary (default: buildFloor()'s). */
  binary?: string;
  /** Most bytes per datagram; 0: all in one (default FLOOR_DATAGRAM_BYTES). */
  datagramBytes?: number;
  /** Most datagrams in flight (default FLOOR_WINDOW). */
  window?: number;
}

/**
 * Replay a recording with the floor sender in a fresh namespace. `ms` is the whole process;
 * `report` the sender's own clock (report.sendMs: the kernel's share).
 */
export function runFloor(recording: string, options: FloorOptions = {}): TimedRun & { report: FloorReport; saved?: string } {
  const binary = options.binary ?? buildFloor();
  const args = `-b ${options.datagramBytes ?? FLOOR_DATAGRAM_BYTES} -w ${options.window ?? FLOOR_WINDOW}`;
  const run = timedInFreshNetns(`${quote(binary)} ${args} ${quote(recording)}`, options);
  return { ...run, report: lastJson<FloorReport>(run.stdout, 'ipvs-floor') };
}

/**
 * The benchmark's rules (as bench/ipvs-driver.ts makes them): SERVICES services, 200 VIPs in
 * 192.0.2.0/24 x ports from 10000, SERVERS masquerading real servers each in 198.51.100.0/24 and
 * 203.0.113.0/24.
 */
export function benchRules(services: number, servers: number, weightOf: (svc: number, srv: number) => number = () => 1): string {
  const lines: string[] = [];
  for (let i = 0; i < services; i++) {
    const vip = `192.0.2.${1 + (i % 200)}:${10000 + Math.floor(i / 200)}`;
    lines.push(`-A -t ${vip} -s wrr`);
    for (let j = 0; j < servers; j++) {
      const net = j % 2 === 0 ? '198.51.100' : '203.0.113';
      lines.push(`-a -t ${vip} -r ${net}.${1 + ((i + j * 37) % 250)}:${8000 + j} -m -w ${weightOf(i, j)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
