/**
 * Runs inside an emulated kernel (User-Mode Linux or the qemu TCG guest) for bench/ipvs.ts: ha
 * ipvs against ipvsadm and against the floor (bench/ipvs-floor.c replaying the requests ha's
 * restore sends, recorded in this boot), whole processes including start-up, interleaved, each
 * restore in a fresh network namespace of its own (after a big table is cleared the kernel keeps
 * its real servers in a trash list that slows the next restore down). Writes JSON to $OUT.
 *
 *   node dist/bench/ipvs-driver.js SERVICES SERVERS RUNS
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '@ha/lib/testing';
import { FLOOR_BINARY, benchRules, recordRestore, runFloor, timedInFreshNetns } from './ipvs-floor.js';
import { median } from './stats.js';

const [services, servers, runs] = [Number(process.argv[2] ?? 10000), Number(process.argv[3] ?? 5), Number(process.argv[4] ?? 3)];
const out = process.env.OUT ?? '/tmp';
const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
const HA = `${q(process.execPath)} ${q(join(ROOT, 'bin', 'run.cjs'))}`;
/** Another ha tree (HA_BENCH_BASELINE=/path: an earlier commit, built) measured in the same boot, interleaved. */
const BASE = process.env.HA_BENCH_BASELINE ? `${q(process.execPath)} ${q(join(process.env.HA_BENCH_BASELINE, 'bin', 'run.cjs'))}` : undefined;
const dir = mkdtempSync(join(tmpdir(), 'ha-bench-ipvs-'));
const fileA = join(dir, 'a.rules');
const fileB = join(dir, 'b.rules');
const recording = join(dir, 'restore.rec');
writeFileSync(fileA, benchRules(services, servers));
writeFileSync(fileB, benchRules(services, servers, (i, j) => (i === Math.floor(services / 2) && j === 2 ? 7 : 1)));

type Who = 'ha' | 'ref' | 'base' | 'floor';
interface Case { name: string; target: number; ms: Record<Who, number[]> }
const cases: Case[] = [];
const notes: string[] = [];
const newCase = (name: string, target: number): Case => {
  const c: Case = { name, target, ms: { ha: [], ref: [], base: [], floor: [] } };
  cases.push(c);
  return c;
};
const progress = (c: Case, who: Who, run: number, ms: number): void => {
  process.stdout.write(`${c.name}: ${who} run ${run + 1}: ${ms.toFixed(0)} ms\n`);
  writeFileSync(join(out, 'partial.json'), JSON.stringify(cases));
};
/** ha, then ipvsadm, then (when asked) the baseline, in an order that alternates run by run. */
const order = (run: number, withFloor: boolean): Who[] => {
  const o: Who[] = run % 2 === 0 ? ['ha', 'ref'] : ['ref', 'ha'];
  if (BASE) o.splice(1, 0, 'base');
  if (withFloor) o.splice(run % 2 === 0 ? o.length : 0, 0, 'floor');
  return o;
};

// ---- restore into an empty table: ha, ipvsadm -R and the floor, each in a fresh namespace ----
const rec = recordRestore(fileA, recording, { md5: true });
notes.push(`recorded ha's restore: ${rec.messages} requests in ${rec.datagrams} datagrams (${(rec.bytes / 1024).toFixed(0)} KiB)`);
const restore = newCase(`restore ${services}x${servers} into an empty table`, 3);
const md5s: Partial<Record<Who, string>> = {};
for (let run = 0; run < runs; run++) {
  for (const who of order(run, true)) {
    const check = run === 0;
    const r = who === 'floor'
      ? runFloor(recording, { binary: FLOOR_BINARY, md5: check })
      : timedInFreshNetns(who === 'ref' ? `ipvsadm -R < ${q(fileA)}` : `${who === 'ha' ? HA : BASE!} ipvs restore ${q(fileA)}`, { md5: check });
    if (check) md5s[who] = r.md5;
    restore.ms[who].push(r.ms);
    progress(restore, who, run, r.ms);
  }
}
// what Node.js alone costs here, for the floor's sake: starting and exiting, nothing run
{
  const node: number[] = [];
  for (let run = 0; run < runs; run++) node.push(timedInFreshNetns(`${q(process.execPath)} -e 0`, { settleMs: 0, flush: false }).ms);
  const floor = median(restore.ms.floor);
  notes.push(`Node.js alone (node -e 0) took ${median(node).toFixed(0)} ms (median of ${runs}): ${(median(node) / floor).toFixed(2)}x the floor`);
}
const same = Object.values(md5s).every((m) => m === md5s.ref);
notes.push(`after each restore the table (ipvsadm -Sn) ${same ? 'equals' : 'DIFFERS FROM'} ipvsadm -R's${same ? '' : `: ${JSON.stringify(md5s)}`}; the recorder's own restore left ${rec.md5 === md5s.ref ? 'the same' : 'ANOTHER'} table`);

// ---- reading a full table: one namespace filled once, every reader in turn ----
const readers: Array<{ name: string; target: number; ha: string; ref: string }> = [
  { name: 'list (ha ipvs list vs ipvsadm -Ln)', target: 2, ha: 'ipvs list', ref: 'ipvsadm -Ln' },
  { name: 'list --format ipvsadm (same output as ipvsadm -Ln)', target: 2, ha: 'ipvs list --format ipvsadm', ref: 'ipvsadm -Ln' },
  { name: 'save (ha ipvs save vs ipvsadm -Sn)', target: 2, ha: 'ipvs save', ref: 'ipvsadm -Sn' },
];
{
  const lines = [`ip link set lo up`, `${HA} ipvs restore ${q(fileA)} >/dev/null || exit 90`, 'TIMEFORMAT=%3R'];
  const readCases = readers.map((x) => ({ x, c: newCase(x.name, x.target) }));
  for (let run = 0; run < runs; run++) {
    for (const [n, { x }] of readCases.entries()) {
      for (const who of order(run, false)) {
        const cmd = who === 'ref' ? x.ref : `${who === 'ha' ? HA : BASE!} ${x.ha}`;
        lines.push(`{ time ${cmd} >/dev/null ; } 2>>${dir}/times || exit 91`, `echo ${n} ${who} ${run} >>${dir}/who`);
      }
    }
  }
  const r = spawnSync('unshare', ['-n', 'bash', '-c', lines.join('\n')], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the read cases failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  const times = readFileSync(join(dir, 'times'), 'utf8').trim().split('\n').map((t) => Number(t) * 1000);
  readFileSync(join(dir, 'who'), 'utf8').trim().split('\n').forEach((line, i) => {
    const [n, who, run] = line.split(' ') as [string, Who, string];
    const c = readCases[Number(n)]!.c;
    c.ms[who].push(times[i]!);
    progress(c, who, Number(run), times[i]!);
  });
}

// ---- changing one server: ha's converging restore against ipvsadm -C and -R, on a full table ----
{
  const change = newCase('change 1 server (converging restore vs ipvsadm -C + -R)', 10);
  const fill = `${HA} ipvs restore ${q(fileA)} >/dev/null`;
  for (let run = 0; run < runs; run++) {
    for (const who of order(run, false)) {
      const cmd = who === 'ref' ? `ipvsadm -C && ipvsadm -R < ${q(fileB)}` : `${who === 'ha' ? HA : BASE!} ipvs restore ${q(fileB)}`;
      // `time` takes a pipeline, and `a && b` is a list: braces, so that both are timed
      const r = timedInFreshNetns(`bash -c ${q(`${fill} && TIMEFORMAT=%3R && { time { ${cmd} ; } >/dev/null ; } 2>${dir}/change`)}`, { settleMs: 0 });
      const ms = Number(readFileSync(join(dir, 'change'), 'utf8').trim()) * 1000;
      if (!Number.isFinite(ms)) throw new Error(`change 1 server: no time for ${who}: ${r.stderr}`);
      change.ms[who].push(ms);
      progress(change, who, run, ms);
    }
  }
}

const floorMs = median(restore.ms.floor);
const result = cases.map((c) => {
  const ha = median(c.ms.ha);
  const ref = median(c.ms.ref);
  return {
    name: c.name, runs, target: c.target, haMedianMs: ha, refMedianMs: ref, speedup: ref / ha, haMs: c.ms.ha, refMs: c.ms.ref,
    ...(c.ms.floor.length ? { floorMedianMs: floorMs, floorMs: c.ms.floor, haPerFloor: ha / floorMs, refPerFloor: ref / floorMs } : {}),
    ...(c.ms.base.length ? { baseMedianMs: median(c.ms.base), baseSpeedup: ref / median(c.ms.base), baseMs: c.ms.base } : {}),
  };
});
const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
writeFileSync(join(out, 'bench.json'), JSON.stringify({ kernel, services, servers, notes, result }, null, 2));
rmSync(dir, { recursive: true, force: true });
