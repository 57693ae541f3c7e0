/**
 * ha ipvs against ipvsadm at kube-proxy scale: 10,000 services x 5 real servers, inside one
 * User-Mode Linux boot (IPVS is not in this machine's kernel), whole processes including start-up,
 * interleaved runs, medians. Targets: restore into an empty table >= 3x faster than ipvsadm -R;
 * list and save >= 2x faster than ipvsadm -Ln / -Sn; changing one server with a converging restore
 * >= 10x faster than ipvsadm -C followed by ipvsadm -R.
 *
 *   node dist/bench/ipvs.js [SERVICES] [SERVERS] [RUNS]
 *
 * HA_BENCH_BASELINE=/path/to/another/built/ha also measures that tree in the same boot, interleaved
 * (before/after a change, in one run).
 */
import { join } from 'node:path';
import { ROOT, bootUml } from '@ha/lib/testing';

const [services, servers, runs] = [process.argv[2] ?? '10000', process.argv[3] ?? '5', process.argv[4] ?? '3'];
process.stdout.write(`Booting User-Mode Linux; ${services} services x ${servers} servers, ${runs} runs each (this takes minutes)...\n`);
const minutes = Number(process.env.HA_BENCH_MINUTES ?? 60);
let boot;
try {
  const baseline = process.env.HA_BENCH_BASELINE ? `HA_BENCH_BASELINE=${process.env.HA_BENCH_BASELINE} ` : '';
  boot = await bootUml(`${baseline}${process.execPath} ${join(ROOT, 'dist', 'bench', 'ipvs-driver.js')} ${services} ${servers} ${runs}\n`, { timeoutMs: minutes * 60_000, memory: '2G', keepOnTimeout: true });
} catch (error) {
  process.stderr.write(`${(error as Error).message.split('\n')[0]}\n`);
  process.exit(1);
}
if (boot.rc !== 0 || !boot.files['bench.json']) {
  process.stderr.write(`benchmark did not finish inside UML (rc ${boot.rc}):\n${boot.output.slice(-3000)}\n`);
  const partial = boot.files['partial.json'];
  if (partial) {
    const med = (xs: number[]): number => { const v = [...xs].sort((a, b) => a - b); return v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2; };
    process.stdout.write('partial results (the cases and runs that finished):\n');
    for (const c of JSON.parse(partial) as Array<{ name: string; haMs: number[]; refMs: number[] }>) {
      if (c.haMs.length && c.refMs.length) process.stdout.write(`${c.name}: ha ${med(c.haMs).toFixed(0)} ms (${c.haMs.length} runs), reference ${med(c.refMs).toFixed(0)} ms (${c.refMs.length} runs): ${(med(c.refMs) / med(c.haMs)).toFixed(2)}x\n`);
    }
  }
  process.exit(1);
}
const r = JSON.parse(boot.files['bench.json']) as {
  notes: string[];
  result: Array<{ name: string; haMedianMs: number; refMedianMs: number; speedup: number; target: number; baseMedianMs?: number; baseSpeedup?: number }>;
};
let missed = 0;
for (const c of r.result) {
  const met = c.speedup >= c.target;
  if (!met) missed++;
  process.stdout.write(`${c.name}\n  ha ${c.haMedianMs.toFixed(0)} ms, reference ${c.refMedianMs.toFixed(0)} ms (medians): ${c.speedup.toFixed(2)}x faster (target >= ${c.target}x: ${met ? 'met' : 'MISSED'})\n`);
  if (c.baseMedianMs !== undefined) process.stdout.write(`  baseline ha (HA_BENCH_BASELINE) ${c.baseMedianMs.toFixed(0)} ms: ${c.baseSpeedup!.toFixed(2)}x faster than the reference; this tree takes ${(c.haMedianMs / c.baseMedianMs).toFixed(2)}x the baseline's time\n`);
}
for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
process.exitCode = missed ? 1 : 0;
