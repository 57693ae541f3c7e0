/**
 * ha ipvs against ipvsadm at kube-proxy scale, 10,000 services x 5 real servers, in two emulated
 * kernels in one invocation (IPVS is not in this machine's kernel, and each emulator distorts in
 * its own way: User-Mode Linux taxes system calls, which ipvsadm makes per line; qemu's TCG taxes
 * JIT-compiled code, which is ha's, so a claim must hold in both). Whole processes including
 * start-up, interleaved runs, each restore in a fresh network namespace, medians; and the floor:
 * the requests ha's restore sends, recorded in the same boot and replayed by a minimal C sender
 * (bench/ipvs-floor.c) as fast as the kernel takes them.
 *
 * Targets: restore into an empty table >= 3x faster than ipvsadm -R in UML and >= 1.5x in TCG;
 * list and save >= 2x faster than ipvsadm -Ln / -Sn in UML and >= 1.2x in TCG; ha's restore
 * within 2x of the floor in both; changing one server with a converging restore >= 10x faster
 * than ipvsadm -C followed by ipvsadm -R.
 *
 *   node dist/bench/ipvs.js [SERVICES] [SERVERS] [RUNS]
 *
 * HA_BENCH_KERNELS=uml,tcg picks the kernels (default both, in that order). HA_BENCH_BASELINE=DIR
 * also measures another built tree (an earlier commit) in the same boots, interleaved.
 * HA_BENCH_MINUTES caps each boot (default 60) and prints the runs that finished.
 */
import { join } from 'node:path';
import { type GuestBoot, ROOT, bootTcg, bootUml } from '@ha/lib/testing';
import { buildFloor } from './ipvs-floor.js';
import { median } from './stats.js';

const [services, servers, runs] = [process.argv[2] ?? '10000', process.argv[3] ?? '5', process.argv[4] ?? '3'];
const minutes = Number(process.env.HA_BENCH_MINUTES ?? 60);
const KERNELS = {
  uml: { label: 'User-Mode Linux', boot: bootUml, targets: { restore: 3, read: 2 } },
  tcg: { label: 'qemu TCG (Debian kernel)', boot: bootTcg, targets: { restore: 1.5, read: 1.2 } },
} as const;
type Kernel = keyof typeof KERNELS;
const chosen = (process.env.HA_BENCH_KERNELS ?? 'uml,tcg').split(',').map((k) => k.trim());
for (const k of chosen) {
  if (!(k in KERNELS)) {
    process.stderr.write(`HA_BENCH_KERNELS: unknown kernel ${k} (uml, tcg)\n`);
    process.exit(2);
  }
}
const FLOOR_TARGET = 2;

interface CaseResult {
  name: string; haMedianMs: number; refMedianMs: number; speedup: number; target: number;
  floorMedianMs?: number; haPerFloor?: number; refPerFloor?: number; baseMedianMs?: number; baseSpeedup?: number;
}

// compiled here: the checkout is read-only inside the guests
buildFloor();
let missed = 0;
const summary: string[] = [];
for (const k of chosen as Kernel[]) {
  const kernel = KERNELS[k];
  process.stdout.write(`\n== ${kernel.label}: ${services} services x ${servers} servers, ${runs} runs each (this takes minutes)\n`);
  let boot: GuestBoot;
  try {
    const baseline = process.env.HA_BENCH_BASELINE ? `HA_BENCH_BASELINE=${process.env.HA_BENCH_BASELINE} ` : '';
    boot = await kernel.boot(`${baseline}${process.execPath} ${join(ROOT, 'dist', 'bench', 'ipvs-driver.js')} ${services} ${servers} ${runs}\n`, { timeoutMs: minutes * 60_000, memory: '2G', keepOnTimeout: true });
  } catch (error) {
    process.stderr.write(`${(error as Error).message.split('\n')[0]}\n`);
    process.exit(1);
  }
  if (boot.rc !== 0 || !boot.files['bench.json']) {
    process.stderr.write(`benchmark did not finish in ${kernel.label} (rc ${boot.rc}):\n${boot.output.slice(-3000)}\n`);
    const partial = boot.files['partial.json'];
    if (partial) {
      process.stdout.write('partial results (the cases and runs that finished):\n');
      for (const c of JSON.parse(partial) as Array<{ name: string; ms: Record<string, number[]> }>) {
        const parts = Object.entries(c.ms).filter(([, v]) => v.length).map(([who, v]) => `${who} ${median(v).toFixed(0)} ms (${v.length} runs)`);
        if (parts.length) process.stdout.write(`${c.name}: ${parts.join(', ')}\n`);
      }
    }
    missed++;
    continue;
  }
  const r = JSON.parse(boot.files['bench.json']) as { kernel: string; notes: string[]; result: CaseResult[] };
  process.stdout.write(`kernel ${r.kernel}\n`);
  for (const c of r.result) {
    const target = c.name.startsWith('restore') ? kernel.targets.restore : c.name.startsWith('change') ? c.target : kernel.targets.read;
    const met = c.speedup >= target;
    if (!met) missed++;
    process.stdout.write(`${c.name}\n  ha ${c.haMedianMs.toFixed(0)} ms, ipvsadm ${c.refMedianMs.toFixed(0)} ms (medians): ${c.speedup.toFixed(2)}x faster (target >= ${target}x: ${met ? 'met' : 'MISSED'})\n`);
    summary.push(`${k} ${c.name.split(' (')[0]}: ${c.speedup.toFixed(2)}x (target ${target}x)`);
    if (c.floorMedianMs !== undefined) {
      const fmet = c.haPerFloor! <= FLOOR_TARGET;
      if (!fmet) missed++;
      process.stdout.write(`  floor (the same requests from a minimal C sender) ${c.floorMedianMs.toFixed(0)} ms: ha takes ${c.haPerFloor!.toFixed(2)}x the floor (target <= ${FLOOR_TARGET}x: ${fmet ? 'met' : 'MISSED'}), ipvsadm ${c.refPerFloor!.toFixed(2)}x\n`);
      summary.push(`${k} restore: ha ${c.haPerFloor!.toFixed(2)}x the floor, ipvsadm ${c.refPerFloor!.toFixed(2)}x`);
    }
    if (c.baseMedianMs !== undefined) process.stdout.write(`  baseline ha (HA_BENCH_BASELINE) ${c.baseMedianMs.toFixed(0)} ms: ${c.baseSpeedup!.toFixed(2)}x faster than ipvsadm; this tree takes ${(c.haMedianMs / c.baseMedianMs).toFixed(2)}x the baseline's time\n`);
  }
  for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
}
process.stdout.write(`\nsummary:\n${summary.map((s) => `  ${s}`).join('\n')}\n`);
process.exitCode = missed ? 1 : 0;
