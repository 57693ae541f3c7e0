/**
 * Start-up cost for scripted use: wall time of `ha --version` against `node -e 0` on the same
 * machine in the same run, interleaved so that machine noise hits both alike. Prints the medians
 * and their ratio. Target: ratio at most 1.5 (exit 1 when missed).
 *
 *   node dist/bench/startup.js [runs]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '@ha/lib/testing';
import { median } from './stats.js';

const runs = Number(process.argv[2] ?? 31);
const TARGET = 1.5;

function time(cmd: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const node = [process.execPath, '-e', '0'];
const ha = [process.execPath, join(ROOT, 'bin', 'run.cjs'), '--version'];
// warm the page cache once for both
time(node);
time(ha);
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < runs; i++) {
  a.push(time(node));
  b.push(time(ha));
}
const mNode = median(a);
const mHa = median(b);
const ratio = mHa / mNode;
console.log(`runs: ${runs} each, interleaved`);
console.log(`node -e 0:      median ${mNode.toFixed(1)} ms (min ${Math.min(...a).toFixed(1)}, max ${Math.max(...a).toFixed(1)})`);
console.log(`ha --version:   median ${mHa.toFixed(1)} ms (min ${Math.min(...b).toFixed(1)}, max ${Math.max(...b).toFixed(1)})`);
console.log(`ratio: ${ratio.toFixed(2)} (target <= ${TARGET}: ${ratio <= TARGET ? 'met' : 'MISSED'})`);
process.exitCode = ratio <= TARGET ? 0 : 1;
