/**
 * Runs inside User-Mode Linux for bench/ipvs.ts: ha ipvs against ipvsadm on the same kernel, in
 * the same boot, interleaved, whole processes including start-up. Writes JSON results to $OUT.
 *
 *   node dist/bench/ipvs-driver.js SERVICES SERVERS RUNS
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@ha/lib/testing';

const [services, servers, runs] = [Number(process.argv[2] ?? 10000), Number(process.argv[3] ?? 5), Number(process.argv[4] ?? 3)];
const out = process.env.OUT ?? '/tmp';
const HA = `${process.execPath} ${join(ROOT, 'bin', 'run.js')}`;
/** Another ha tree (HA_BENCH_BASELINE=/path: an earlier commit, built) measured in the same boot, interleaved. */
const BASE = process.env.HA_BENCH_BASELINE ? `${process.execPath} ${join(process.env.HA_BENCH_BASELINE, 'bin', 'run.js')}` : undefined;
const dir = '/tmp';

/** 10,000 services: 200 VIPs in 192.0.2.0/24 × 50 ports; servers in 198.51.100.0/24 and 203.0.113.0/24. */
function rules(weightOf: (svc: number, srv: number) => number): string {
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

const fileA = join(dir, 'bench-a.rules');
const fileB = join(dir, 'bench-b.rules');
writeFileSync(fileA, rules(() => 1));
writeFileSync(fileB, rules((i, j) => (i === Math.floor(services / 2) && j === 2 ? 7 : 1)));

function sh(cmd: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Case { name: string; ha: string; ref: string; prep?: string; haMs: number[]; refMs: number[]; baseMs: number[]; target: number }
const cases: Case[] = [
  { name: `restore ${services}x${servers} into an empty table`, ha: `${HA} ipvs restore ${fileA}`, ref: `ipvsadm -R < ${fileA}`, prep: 'ipvsadm -C', haMs: [], refMs: [], baseMs: [], target: 3 },
  { name: 'list (ha ipvs list vs ipvsadm -Ln)', ha: `${HA} ipvs list > /dev/null`, ref: 'ipvsadm -Ln > /dev/null', haMs: [], refMs: [], baseMs: [], target: 2 },
  { name: 'list --format ipvsadm (same output as ipvsadm -Ln)', ha: `${HA} ipvs list --format ipvsadm > /dev/null`, ref: 'ipvsadm -Ln > /dev/null', haMs: [], refMs: [], baseMs: [], target: 2 },
  { name: 'save (ha ipvs save vs ipvsadm -Sn)', ha: `${HA} ipvs save > /dev/null`, ref: 'ipvsadm -Sn > /dev/null', haMs: [], refMs: [], baseMs: [], target: 2 },
  { name: 'change 1 server (converging restore vs ipvsadm -C + -R)', ha: `${HA} ipvs restore ${fileB}`, ref: `ipvsadm -C && ipvsadm -R < ${fileB}`, prep: `${HA} ipvs restore ${fileA}`, haMs: [], refMs: [], baseMs: [], target: 10 },
];

const notes: string[] = [];
for (const c of cases) {
  for (let r = 0; r < runs; r++) {
    const order: Array<'ha' | 'ref' | 'base'> = r % 2 === 0 ? ['ha', 'ref'] : ['ref', 'ha'];
    if (BASE) order.splice(1, 0, 'base');
    for (const who of order) {
      // cases without preparation read the table the first case left (checked equal to ipvsadm's)
      if (c.prep) sh(c.prep);
      const cmd = who === 'ha' ? c.ha : who === 'ref' ? c.ref : c.ha.replace(HA, BASE!);
      const ms = sh(cmd);
      (who === 'ha' ? c.haMs : who === 'ref' ? c.refMs : c.baseMs).push(ms);
      // progress, and the results so far, in case the run is cut short
      process.stdout.write(`${c.name}: ${who === 'ha' ? 'ha' : who === 'ref' ? 'reference' : 'baseline ha'} run ${r + 1}: ${ms.toFixed(0)} ms\n`);
      writeFileSync(join(out, 'partial.json'), JSON.stringify(cases.map(({ name, haMs, refMs }) => ({ name, haMs, refMs }))));
    }
  }
  if (c.name.startsWith('restore')) {
    const same = execFileSync('sh', ['-c', `ipvsadm -Sn | md5sum`], { encoding: 'utf8' });
    execFileSync('sh', ['-c', `ipvsadm -C && ipvsadm -R < ${fileA}`]);
    notes.push(`after ha ipvs restore the table ${same === execFileSync('sh', ['-c', 'ipvsadm -Sn | md5sum'], { encoding: 'utf8' }) ? 'equals' : 'DIFFERS FROM'} ipvsadm -R's`);
  }
}
const result = cases.map((c) => ({
  name: c.name, runs, haMedianMs: median(c.haMs), refMedianMs: median(c.refMs), speedup: median(c.refMs) / median(c.haMs), target: c.target, haMs: c.haMs, refMs: c.refMs,
  ...(c.baseMs.length ? { baseMedianMs: median(c.baseMs), baseSpeedup: median(c.refMs) / median(c.baseMs), baseMs: c.baseMs } : {}),
}));
writeFileSync(join(out, 'bench.json'), JSON.stringify({ services, servers, notes, result }, null, 2));
