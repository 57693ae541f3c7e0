/**
 * ha ipvs against ipvsadm at kube-proxy scale: 10,000 services x 5 real servers, inside one
 * User-Mode Linux boot (IPVS is not in this machine's kernel), whole processes including start-up,
 * interleaved runs, medians. Targets: restore into an empty table >= 3x faster than ipvsadm -R;
 * list and save >= 2x faster than ipvsadm -Ln / -Sn; changing one server with a converging restore
 * >= 10x faster than ipvsadm -C followed by ipvsadm -R.
 *
 *   node dist/bench/ipvs.js [SERVICES] [SERVERS] [RUNS]
 */
import { join } from 'node:path';
import { ROOT, bootUml } from '@ha/lib/testing';

const [services, servers, runs] = [process.argv[2] ?? '10000', process.argv[3] ?? '5', process.argv[4] ?? '3'];
process.stdout.write(`Booting User-Mode Linux; ${services} services x ${servers} servers, ${runs} runs each (this takes minutes)...\n`);
const boot = await bootUml(`${process.execPath} ${join(ROOT, 'dist', 'bench', 'ipvs-driver.js')} ${services} ${servers} ${runs}\n`, { timeoutMs: 60 * 60_000, memory: '2G' });
if (boot.rc !== 0 || !boot.files['bench.json']) {
  process.stderr.write(`benchmark failed inside UML (rc ${boot.rc}):\n${boot.output.slice(-3000)}\n`);
  process.exit(1);
}
const r = JSON.parse(boot.files['bench.json']) as {
  notes: string[];
  result: Array<{ name: string; haMedianMs: number; refMedianMs: number; speedup: number; target: number }>;
};
let missed = 0;
for (const c of r.result) {
  const met = c.speedup >= c.target;
  if (!met) missed++;
  process.stdout.write(`${c.name}\n  ha ${c.haMedianMs.toFixed(0)} ms, reference ${c.refMedianMs.toFixed(0)} ms (medians): ${c.speedup.toFixed(2)}x faster (target >= ${c.target}x: ${met ? 'met' : 'MISSED'})\n`);
}
for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
process.exitCode = missed ? 1 : 0;
