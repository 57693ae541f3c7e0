/**
 * VRRP speakers on one LAN of network namespaces (plugins/vrrp/test/lan.ts): how soon the backup
 * takes over, and what running many instances costs. Every figure comes from the wire (tcpdump on
 * the switch) or from /proc, never from sleeps, and each speaker is measured the same way:
 *
 *   (a) the master is killed (SIGKILL, no priority-0 advert): the backup's first advert, measured
 *       from the master's last one, beyond the protocol's bound 3 x interval + skew;
 *   (b) the master stops gracefully (SIGTERM): the backup's first advert, measured from the
 *       priority-0 advert, beyond the skew;
 *       both at advert 1 s (VRRPv2) and 0.1 s (VRRPv3), master priority 100, backup 50;
 *   (c) 100 instances at 1 s (v2) and 10 at 0.1 s (v3) on one node pair: CPU (utime+stime from
 *       /proc/PID/stat of every process of the speaker) and RSS (VmRSS summed), on the master and
 *       on the backup, over two windows: the first once the backup has settled (for ha that still
 *       holds the JIT compiling the hot paths and V8's first memory-reducing collections), and a
 *       steady one HA_BENCH_SETTLE_S later (default 30), what a long-running daemon costs;
 *   (d) from the backup's first advert as master to its first gratuitous ARP (the VIP is added
 *       before it is announced);
 *   (e) ha only: 200 `ha vrrp status --json` at once while master at 0.1 s: how much later than
 *       its interval the worst advert was.
 *
 * Medians over HA_BENCH_RUNS runs (default 5); HA_BENCH_WINDOW_S sets the CPU windows (default 20).
 * HA_BENCH_PARTS picks what runs (default takeover,status,load).
 * A speaker is anything that starts VRRP instances on a LAN node: see SPEAKERS at the end.
 *
 *   npx tsc -b && node dist/bench/vrrp.js
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, isRoot, which } from '@ha/lib/testing';
import { median } from './stats.js';
import type * as LanModule from '../plugins/vrrp/test/lan.js';
import type * as HaNodeModule from '../plugins/vrrp/test/ha-node.js';

type LanNode = LanModule.LanNode;

/** One VRRP instance as every speaker is asked to run it. */
export interface Instance {
  vrid: number;
  priority: number;
  /** seconds */
  advertInt: number;
  version: 2 | 3;
  /** with prefix, e.g. 192.0.2.100/24 */
  vips: string[];
}

/** A running speaker on one node. */
export interface Proc {
  /** every process of the speaker (CPU and memory are summed over them) */
  pids(): number[];
  /** graceful: the speaker sends priority 0 and gives up its VIPs */
  stop(): Promise<void>;
  /** a crash: SIGKILL, nothing is sent */
  kill(): Promise<void>;
}

export interface Speaker {
  name: 'keepalived' | 'ha';
  /** Starts INSTANCES on NODE (inside its namespace) and resolves once they run. */
  start(node: LanNode, instances: Instance[]): Promise<Proc>;
}

const keepalived: Speaker = {
  name: 'keepalived',
  start: (node, instances) => node.lan.keepalived(node, instances),
};

/** ha's agent on the node, the instances in its state file's vrrp section. */
const ha: Speaker = {
  name: 'ha',
  async start(node, instances) {
    const section = {
      instances: Object.fromEntries(instances.map((i) => [`VI_${i.vrid}`, { interface: 'eth0', vrid: i.vrid, priority: i.priority, version: i.version, advertInterval: i.advertInt, vips: i.vips }])),
    };
    const agent = await haNode.startHa(node, section);
    return { pids: () => [agent.proc.pid], stop: () => agent.stop(), kill: () => agent.kill() };
  },
};

// ---------------------------------------------------------------------------------------------

const RUNS = positive('HA_BENCH_RUNS', 5);
const WINDOW_S = positive('HA_BENCH_WINDOW_S', 20);
const SETTLE_S = positive('HA_BENCH_SETTLE_S', 30);
const PARTS = new Set((process.env.HA_BENCH_PARTS ?? 'takeover,status,load').split(',').map((x) => x.trim()));
for (const part of PARTS) {
  if (!['takeover', 'status', 'load'].includes(part)) {
    process.stderr.write(`HA_BENCH_PARTS: unknown part ${part} (takeover, status, load)\n`);
    process.exit(2);
  }
}
const BACKUP_PRIO = 50;
const MASTER_PRIO = 100;
const TIMINGS = [{ advertInt: 1, version: 2 }, { advertInt: 0.1, version: 3 }] as const;
const LOADS = [{ count: 100, advertInt: 1, version: 2 }, { count: 10, advertInt: 0.1, version: 3 }] as const;
let lan: typeof LanModule;
let haNode: typeof HaNodeModule;

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`${name}=${raw}: expected a positive number\n`);
    process.exit(2);
  }
  return n;
}

const skew = (prio: number, interval: number, version: number): number => ((256 - prio) / 256) * (version === 3 ? interval : 1);
const ms = (s: number): string => `${(s * 1000).toFixed(1)} ms`;
const spread = (xs: number[]): string => `${ms(median(xs))} (${ms(Math.min(...xs))} … ${ms(Math.max(...xs))})`;

function instance(priority: number, advertInt: number, version: 2 | 3, vrid = 10, vip = '192.0.2.100/24'): Instance {
  return { vrid, priority, advertInt, version, vips: [vip] };
}

/** After a crash the VIPs a speaker left behind go too, as they would with the machine. */
function clearVips(node: LanNode): void {
  for (const a of node.addresses()) {
    if (node.vips().includes(a.local)) node.ns.ip('addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', node.ifname);
  }
}

/** Starts the master and waits until it holds the role on the wire: two of its adverts after the backup's last. */
async function masterUp(speaker: Speaker, cap: LanModule.Capture, m: LanNode, b: LanNode, inst: Instance): Promise<Proc> {
  const t0 = lan.now();
  const proc = await speaker.start(m, [inst]);
  const timeout = (10 * inst.advertInt + 10) * 1000;
  await lan.waitFor(() => {
    const lastBackup = cap.vrrp({ from: b, since: t0 }).at(-1)?.t ?? t0;
    return cap.vrrp({ from: m, since: lastBackup, prio: inst.priority }).length >= 2;
  }, timeout, `${speaker.name} on ${m.name} master`);
  return proc;
}

interface Timing { kill: number[]; stop: number[]; announce: number[] }

/** (a) and (b): RUNS crashes and RUNS graceful stops of the master, the backup running throughout. */
async function failover(speaker: Speaker, advertInt: number, version: 2 | 3): Promise<Timing> {
  const net = await lan.Lan.create({ nodes: ['m', 'b'] });
  const out: Timing = { kill: [], stop: [], announce: [] };
  try {
    const [m, b] = [net.node('m'), net.node('b')];
    const cap = await net.capture('hub', lan.FILTER.all, { verbose: false });
    const backup = await speaker.start(b, [instance(BACKUP_PRIO, advertInt, version)]);
    const down = 3 * advertInt + skew(BACKUP_PRIO, advertInt, version);
    const wait = (down + 5) * 1000;
    for (let run = 0; run < RUNS; run++) {
      let master = await masterUp(speaker, cap, m, b, instance(MASTER_PRIO, advertInt, version));
      const tKill = lan.now();
      await master.kill();
      clearVips(m);
      const first = await cap.advert({ from: b, since: tKill }, wait);
      const last = cap.vrrp({ from: m, until: tKill }).at(-1)!;
      if (cap.vrrp({ from: m, since: tKill + 0.01 }).length) throw new Error(`${speaker.name} advertised after SIGKILL`);
      out.kill.push(first.t - last.t - down);
      // (d) becoming master: its first advert to its first gratuitous ARP (sent once the VIP is on)
      const garp = await cap.waitFor((p) => p.kind === 'arp' && b.sent(p) && p.t >= first.t, 2000, `${speaker.name}: gratuitous ARP`);
      out.announce.push(garp.t - first.t);

      master = await masterUp(speaker, cap, m, b, instance(MASTER_PRIO, advertInt, version));
      const tStop = lan.now();
      await master.stop();
      const zero = await cap.advert({ from: m, prio: 0, since: tStop }, wait);
      const next = await cap.advert({ from: b, since: zero.t }, wait);
      out.stop.push(next.t - zero.t - skew(BACKUP_PRIO, advertInt, version));
      cap.clear();
    }
    await backup.stop();
  } finally {
    await net.destroy();
  }
  return out;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime+stime in seconds, summed over PIDS. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLK_TCK;
}

/** VmRSS in MiB, summed over PIDS. */
function rssMiB(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) kb += Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0);
  return kb / 1024;
}

class Disturbed extends Error {}

interface Load { cpuMaster: number; cpuBackup: number; steadyMaster: number; steadyBackup: number; rssMaster: number; rssBackup: number; pps: number }

/** (c): COUNT instances on a node pair, the master holding every VIP; CPU over the window and RSS at its end. */
async function load(speaker: Speaker, count: number, advertInt: number, version: 2 | 3): Promise<Load> {
  const net = await lan.Lan.create({ nodes: ['m', 'b'] });
  try {
    const [m, b] = [net.node('m'), net.node('b')];
    const vips = Array.from({ length: count }, (_, i) => `198.51.100.${i + 1}`);
    const set = (prio: number): Instance[] => vips.map((v, i) => instance(prio, advertInt, version, i + 1, `${v}/32`));
    const master = await speaker.start(m, set(MASTER_PRIO));
    await lan.waitFor(() => m.vips().length === count, (4 * advertInt + 10) * 1000, `${speaker.name}: ${count} VIPs on the master`);
    const backup = await speaker.start(b, set(BACKUP_PRIO));
    // the backup's instances have settled as backups once its master-down time has passed
    await new Promise((r) => setTimeout(r, (3 * advertInt + 1) * 1000 + 1000));
    if (m.vips().length !== count || b.vips().length !== 0) throw new Error(`${speaker.name}: master holds ${m.vips().length}/${count} VIPs, backup ${b.vips().length}`);
    const cap = await net.capture('hub', lan.FILTER.all, { verbose: false });
    const [pm, pb] = [master.pids(), backup.pids()];
    const first = await cpuWindow(pm, pb);
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    const steady = await cpuWindow(pm, pb);
    const result: Load = {
      cpuMaster: first.master,
      cpuBackup: first.backup,
      steadyMaster: steady.master,
      steadyBackup: steady.backup,
      rssMaster: rssMiB(pm),
      rssBackup: rssMiB(pb),
      pps: cap.vrrp({ from: m, since: lan.now() - steady.wall }).length / steady.wall,
    };
    if (cap.vrrp({ from: b }).length > 0) throw new Disturbed(`${speaker.name}: the backup advertised during the window`);
    await cap.stop();
    await backup.stop();
    await master.stop();
    return result;
  } finally {
    await net.destroy();
  }
}

/** CPU of the master's and the backup's processes over WINDOW_S, % of one core. */
async function cpuWindow(pm: number[], pb: number[]): Promise<{ master: number; backup: number; wall: number }> {
  const t0 = process.hrtime.bigint();
  const [m0, b0] = [cpuSeconds(pm), cpuSeconds(pb)];
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const [m1, b1] = [cpuSeconds(pm), cpuSeconds(pb)];
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return { master: ((m1 - m0) / wall) * 100, backup: ((b1 - b0) / wall) * 100, wall };
}

/** (e): the master's advert lateness while 200 `ha vrrp status --json` run at once, per run the worst. */
async function statusBurst(): Promise<number[]> {
  const out: number[] = [];
  const net = await lan.Lan.create({ nodes: ['m'] });
  try {
    const m = net.node('m');
    const agent = await haNode.startHa(m, { instances: { VI_1: { interface: 'eth0', vrid: 1, priority: 200, version: 3, advertInterval: 0.1, vips: ['192.0.2.100/24'] } } });
    await agent.waitState('VI_1', 'MASTER', 10_000);
    const cap = await net.capture('hub', lan.FILTER.vrrp, { verbose: false });
    // the witness must not be starved by the load it watches: tcpdump and this process above the
    // clients (which are put back at priority 0), or the capture, not the agent, drops adverts
    spawnSync('renice', ['-n', '-15', '-p', String(cap.proc.pid), String(process.pid)]);
    for (let run = 0; run < RUNS; run++) {
      cap.clear();
      const t0 = lan.now();
      const shell = `for i in $(seq 200); do ${process.execPath} ${join(ROOT, 'bin', 'run.cjs')} vrrp status --json --socket ${agent.socket} >/dev/null & done; wait`;
      const code = await new Promise<number | null>((resolve) => {
        const c = spawn('ip', ['netns', 'exec', m.ns.name, 'nice', '-n', '15', 'sh', '-c', shell], { stdio: 'ignore' });
        c.on('exit', (status) => resolve(status));
      });
      if (code !== 0) throw new Error(`status burst exited ${code}`);
      await new Promise((res) => setTimeout(res, 300));
      const times = cap.vrrp({ from: m, since: t0 }).map((p) => p.t);
      const gaps = times.slice(1).map((t, k) => t - times[k]! - 0.1);
      out.push(Math.max(0, ...gaps));
    }
    await cap.stop();
    await agent.stop();
  } finally {
    await net.destroy();
  }
  return out;
}

function table(title: string, head: string[], rows: string[][]): void {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  console.log(`\n${title}\n${line(head)}\n${width.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
}

async function main(speakers: Speaker[]): Promise<void> {
  if (!isRoot) throw new Error('needs root: it creates network namespaces');
  for (const tool of ['keepalived', 'tcpdump']) if (!which(tool)) throw new Error(`needs ${tool} (apt-get install -y ${tool})`);
  lan = (await import(pathToFileURL(join(ROOT, 'plugins', 'vrrp', 'dist', 'test', 'lan.js')).href)) as typeof LanModule;
  haNode = (await import(pathToFileURL(join(ROOT, 'plugins', 'vrrp', 'dist', 'test', 'ha-node.js')).href)) as typeof HaNodeModule;
  const started = Date.now();
  console.log(`VRRP bench: ${speakers.map((s) => s.name).join(', ')}; ${RUNS} runs, medians (min … max); CPU window ${WINDOW_S} s`);

  const timingRows: string[][] = [];
  for (const s of PARTS.has('takeover') ? speakers : []) {
    for (const { advertInt, version } of TIMINGS) {
      const t = await failover(s, advertInt, version);
      const bound = 3 * advertInt + skew(BACKUP_PRIO, advertInt, version);
      timingRows.push([s.name, `${advertInt} s v${version}`, `${bound.toFixed(4)} s`, spread(t.kill), `${skew(BACKUP_PRIO, advertInt, version).toFixed(4)} s`, spread(t.stop), spread(t.announce)]);
      console.log(`  ${s.name} ${advertInt} s: kill ${t.kill.map(ms).join(', ')}; stop ${t.stop.map(ms).join(', ')}`);
    }
  }
  if (timingRows.length) table('Takeover by the backup (priority 50), beyond the protocol bound; first advert as master to first gratuitous ARP', ['speaker', 'advert', 'kill bound', 'kill: beyond', 'stop bound', 'stop: beyond', 'advert -> GARP'], timingRows);

  if (PARTS.has('status') && speakers.some((x) => x.name === 'ha')) {
    const late = await statusBurst();
    console.log(`\n200 parallel \`ha vrrp status --json\` while master at 0.1 s (v3): adverts later than their interval by at most ${ms(median(late))} (runs: ${late.map(ms).join(', ')}; target <= 10 ms)`);
  }

  const loadRows: string[][] = [];
  for (const s of PARTS.has('load') ? speakers : []) {
    for (const { count, advertInt, version } of LOADS) {
      const runs: Load[] = [];
      for (let i = 0, retries = 0; i < RUNS; i++) {
        try {
          runs.push(await load(s, count, advertInt, version));
        } catch (error) {
          // a backup that advertised means the machine starved a speaker: that run measured
          // nothing; it is said and run again, at most twice per configuration
          if (!(error instanceof Disturbed) || ++retries > 2) throw error;
          console.log(`  ${s.name} ${count} x ${advertInt} s: run ${i + 1} disturbed (${error.message}); running it again`);
          i--;
        }
      }
      const med = (k: keyof Load): number => median(runs.map((r) => r[k]));
      const pc = (k: keyof Load): string => `${med(k).toFixed(2)} %`;
      loadRows.push([s.name, `${count} x ${advertInt} s v${version}`, med('pps').toFixed(1), pc('cpuMaster'), pc('cpuBackup'), pc('steadyMaster'), pc('steadyBackup'), `${med('rssMaster').toFixed(1)} MiB`, `${med('rssBackup').toFixed(1)} MiB`]);
      const each = (k: keyof Load): string => runs.map((r) => r[k].toFixed(2)).join(', ');
      console.log(`  ${s.name} ${count} x ${advertInt} s: CPU master ${each('cpuMaster')} %, steady ${each('steadyMaster')} %; backup ${each('cpuBackup')} %, steady ${each('steadyBackup')} %`);
    }
  }
  if (loadRows.length) table(`Cost of many instances on one node pair (CPU over ${WINDOW_S} s, % of one core: the first window once settled, and the steady one ${SETTLE_S} s later; RSS of every process)`, ['speaker', 'instances', 'adverts/s', 'CPU master', 'CPU backup', 'steady master', 'steady backup', 'RSS master', 'RSS backup'], loadRows);
  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * The speakers measured, each on both nodes of its own LANs, one after the other in the same run:
 * HA_BENCH_SPEAKERS (default keepalived,ha).
 */
const SPEAKERS: Speaker[] = (process.env.HA_BENCH_SPEAKERS ?? 'keepalived,ha').split(',').map((n) => {
  const sp = [keepalived, ha].find((x) => x.name === n.trim());
  if (!sp) throw new Error(`HA_BENCH_SPEAKERS: unknown speaker ${n} (keepalived, ha)`);
  return sp;
});

main(SPEAKERS).catch((error: unknown) => {
  process.stderr.write(`bench vrrp: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
