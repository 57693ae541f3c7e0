/**
 * Proves the restore benchmark's floor in one User-Mode Linux boot: generates the rules
 * (SERVICES x SERVERS), records ha's restore of them, checks that the table it left equals
 * ipvsadm -R's, then times, alternating, each in a fresh network namespace: the floor's replay
 * of the recording, `ha ipvs restore FILE` and `ipvsadm -R < FILE`, checking each leaves the same
 * table. Prints medians and the ha/floor and ipvsadm/floor ratios.
 *
 *   node dist/bench/ipvs-floor-check.js [SERVICES] [SERVERS] [RUNS] [--sweep] [--no-ipvsadm] [-b BYTES] [-w WINDOW]
 *
 * --sweep first replays the recording once for each datagram size and window in a grid (how
 * the floor changes with them); --no-ipvsadm leaves ipvsadm -R out of the timed runs (it takes
 * ~100 s a run in UML; the recorded table is then compared with one run of it all the same).
 * -b and -w set the floor's datagram size and window for the timed runs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, bootUml } from '@ha/lib/testing';
import {
  FLOOR_DATAGRAM_BYTES, FLOOR_WINDOW, FloorReport, benchRules, buildFloor, recordRestore, runFloor, timedInFreshNetns,
} from './ipvs-floor.js';
import { median } from './stats.js';

const args = process.argv.slice(2);
const flag = (name: string): boolean => {
  const i = args.indexOf(name);
  if (i !== -1) args.splice(i, 1);
  return i !== -1;
};
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  if (i === -1) return fallback;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const inside = flag('--inside');
const sweep = flag('--sweep');
const noIpvsadm = flag('--no-ipvsadm');
const datagramBytes = option('-b', FLOOR_DATAGRAM_BYTES);
const window = option('-w', FLOOR_WINDOW);
const [services, servers, runs] = [Number(args[0] ?? 10000), Number(args[1] ?? 5), Number(args[2] ?? 3)];

interface SweepPoint { datagramBytes: number; window: number; processMs: number; report: FloorReport }
interface Result {
  services: number;
  servers: number;
  record: { messages: number; datagrams: number; bytes: number; familyId: number; ms: number; commandMs: number };
  sweep: SweepPoint[];
  floor: { datagramBytes: number; window: number; processMs: number[]; sendMs: number[]; totalMs: number[]; datagrams: number; largestDatagram: number };
  haMs: number[];
  ipvsadmMs: number[];
  tables: { recorded: string; ipvsadm: string[]; floor: string[]; ha: string[]; same: boolean };
}

if (inside) {
  const out = process.env.OUT ?? '/tmp';
  const say = (line: string): void => { process.stdout.write(`${line}\n`); };
  const rules = '/tmp/floor-check.rules';
  const recording = '/tmp/floor-check.rec';
  writeFileSync(rules, benchRules(services, servers));
  const binary = buildFloor();
  const HA = `${process.execPath} ${join(ROOT, 'bin', 'run.cjs')}`;

  const rec = recordRestore(rules, recording, { md5: true, save: true });
  say(`recorded ha's restore: ${rec.messages} messages in ${rec.datagrams} datagrams, ${rec.bytes} bytes (family id ${rec.familyId}); the process took ${rec.ms.toFixed(0)} ms, the command ${rec.commandMs.toFixed(0)} ms`);
  const result: Result = {
    services, servers,
    record: { messages: rec.messages, datagrams: rec.datagrams, bytes: rec.bytes, familyId: rec.familyId, ms: rec.ms, commandMs: rec.commandMs },
    sweep: [],
    floor: { datagramBytes, window, processMs: [], sendMs: [], totalMs: [], datagrams: 0, largestDatagram: 0 },
    haMs: [], ipvsadmMs: [],
    tables: { recorded: rec.md5!, ipvsadm: [], floor: [], ha: [], same: false },
  };
  const save = (): void => writeFileSync(join(out, 'floor.json'), JSON.stringify(result, null, 2));
  save();

  if (sweep) {
    for (const b of [4096, 16384, 65536, 262144, 1048576, 0]) {
      for (const w of b === 0 ? [1] : [1, 8]) {
        const r = runFloor(recording, { binary, datagramBytes: b, window: w });
        result.sweep.push({ datagramBytes: b, window: w, processMs: r.ms, report: r.report });
        say(`sweep: ${b || 'all'} bytes/datagram (${r.report.datagrams} datagrams), window ${w}: send ${r.report.sendMs.toFixed(0)} ms, process ${r.ms.toFixed(0)} ms`);
        save();
      }
    }
  }

  let refSaved: string | undefined;
  const tools = noIpvsadm ? ['floor', 'ha'] as const : ['floor', 'ha', 'ipvsadm'] as const;
  for (let round = 0; round < runs; round++) {
    // a different tool goes first each round
    const order = tools.map((_, k) => tools[(k + round) % tools.length]!);
    for (const who of order) {
      if (who === 'floor') {
        const r = runFloor(recording, { binary, datagramBytes, window, md5: true });
        result.floor.processMs.push(r.ms);
        result.floor.sendMs.push(r.report.sendMs);
        result.floor.totalMs.push(r.report.totalMs);
        result.floor.datagrams = r.report.datagrams;
        result.floor.largestDatagram = r.report.largestDatagram;
        result.tables.floor.push(r.md5!);
        say(`round ${round + 1}: floor ${r.ms.toFixed(0)} ms (its own: send ${r.report.sendMs.toFixed(0)} ms, main ${r.report.totalMs.toFixed(0)} ms)`);
      } else if (who === 'ha') {
        const r = timedInFreshNetns(`${HA} ipvs restore ${rules}`, { md5: true });
        result.haMs.push(r.ms);
        result.tables.ha.push(r.md5!);
        say(`round ${round + 1}: ha ipvs restore ${r.ms.toFixed(0)} ms`);
      } else {
        const r = timedInFreshNetns(`ipvsadm -R < ${rules}`, { md5: true, save: refSaved === undefined });
        refSaved ??= r.saved;
        result.ipvsadmMs.push(r.ms);
        result.tables.ipvsadm.push(r.md5!);
        say(`round ${round + 1}: ipvsadm -R ${r.ms.toFixed(0)} ms`);
      }
      save();
    }
  }
  if (noIpvsadm) {
    const r = timedInFreshNetns(`ipvsadm -R < ${rules}`, { md5: true, save: true });
    refSaved = r.saved;
    result.tables.ipvsadm.push(r.md5!);
    say(`ipvsadm -R (for its table) ${r.ms.toFixed(0)} ms`);
  }
  const all = [result.tables.recorded, ...result.tables.ipvsadm, ...result.tables.floor, ...result.tables.ha];
  result.tables.same = all.every((m) => m === all[0]);
  if (!result.tables.same) {
    writeFileSync(join(out, 'recorded.save'), rec.saved ?? '');
    writeFileSync(join(out, 'ipvsadm.save'), refSaved ?? '');
  }
  save();
  say(`tables ${result.tables.same ? 'all equal' : 'DIFFER'}`);
  process.exit(result.tables.same ? 0 : 1);
}

// ---- on the host: build the sender, boot UML, run the above inside, report ----
buildFloor();
process.stdout.write(`Booting User-Mode Linux: the floor of ${services}x${servers} restore, ${runs} runs each${sweep ? ', with a sweep' : ''} (this takes minutes)...\n`);
const extra = [sweep ? '--sweep' : '', noIpvsadm ? '--no-ipvsadm' : '', `-b ${datagramBytes} -w ${window}`].filter(Boolean).join(' ');
const boot = await bootUml(`${process.execPath} ${join(ROOT, 'dist', 'bench', 'ipvs-floor-check.js')} --inside ${services} ${servers} ${runs} ${extra}\n`, {
  timeoutMs: Number(process.env.HA_BENCH_MINUTES ?? 60) * 60_000, memory: '2G', keepOnTimeout: true,
});
process.stdout.write(boot.output);
const json = boot.files['floor.json'];
if (!json) {
  process.stderr.write(`no results (rc ${boot.rc}); console tail:\n${boot.console.slice(-2000)}\n`);
  process.exit(1);
}
const r = JSON.parse(json) as Result;
const floorMs = median(r.floor.processMs);
const line = (name: string, xs: number[]): string => (xs.length ? `${name}: median ${median(xs).toFixed(0)} ms of ${xs.map((x) => x.toFixed(0)).join(', ')}` : `${name}: no runs`);
process.stdout.write('\nin UML, each run in a fresh network namespace, whole processes:\n');
process.stdout.write(`${line(`floor (-b ${r.floor.datagramBytes} -w ${r.floor.window}: ${r.floor.datagrams} datagrams, largest ${r.floor.largestDatagram} bytes)`, r.floor.processMs)}\n`);
process.stdout.write(`  its own clock: send to last ACK median ${median(r.floor.sendMs).toFixed(0)} ms, main() ${median(r.floor.totalMs).toFixed(0)} ms\n`);
process.stdout.write(`${line('ha ipvs restore', r.haMs)}${r.haMs.length ? ` = ${(median(r.haMs) / floorMs).toFixed(2)}x the floor` : ''}\n`);
process.stdout.write(`${line('ipvsadm -R', r.ipvsadmMs)}${r.ipvsadmMs.length ? ` = ${(median(r.ipvsadmMs) / floorMs).toFixed(2)}x the floor` : ''}\n`);
process.stdout.write(`tables (ipvsadm -Sn | md5sum) after the recording and every run: ${r.tables.same ? 'all equal' : 'DIFFER'}\n`);
process.exit(boot.rc === 0 && r.tables.same ? 0 : 1);
