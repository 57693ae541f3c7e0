/**
 * ha restore of a state file holding many routes vs ip -batch of the same routes, whole processes
 * (start-up included), each into a fresh empty network namespace on this machine's kernel, runs
 * interleaved (the order alternates), medians. Target: ha restore <= 1.0x the time of ip -batch.
 *
 * Two tables: IPv6 /64s under 2001:db8::/32 through one gateway on a veth, and IPv4 /32s under
 * 10.0.0.0/8 through one gateway, each destination at three metrics. They are made with ip -batch
 * in a namespace and saved with ha save, so the state file is what ha writes. Every run is checked:
 * both namespaces end up with every route, and ha diff finds nothing left to do.
 *
 *   node dist/bench/route.js [ROUTES] [RUNS] [ipv6,ipv4]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, baseEnv } from '@ha/lib/testing';
import { median } from './stats.js';

const routes = Number(process.argv[2] ?? 100000);
const runs = Number(process.argv[3] ?? 5);
const families = (process.argv[4] ?? 'ipv6,ipv4').split(',') as Array<'ipv6' | 'ipv4'>;
for (const f of families) {
  if (f !== 'ipv6' && f !== 'ipv4') {
    process.stderr.write(`unknown family ${f} (ipv6, ipv4)\n`);
    process.exit(2);
  }
}
const TARGET = 1.0;
const prefix = `ha-bench-${process.pid.toString(36)}`;
const made = new Set<string>();
const dir = mkdtempSync(join(tmpdir(), 'ha-bench-route-'));

function sh(cmd: string[], options: { quiet?: boolean } = {}): { ms: number; stdout: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd[0]!, cmd.slice(1), {
    encoding: 'utf8', env: baseEnv(), maxBuffer: 1 << 30,
    stdio: ['ignore', options.quiet ? 'ignore' : 'pipe', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited ${r.status}: ${(r.stderr ?? '').trim().slice(0, 500)}`);
  return { ms, stdout: r.stdout ?? '' };
}

/** A fresh namespace with one veth up and the gateway's network on it: no routes of ours. */
function namespace(label: string): string {
  const ns = `${prefix}-${label}`;
  sh(['ip', 'netns', 'add', ns]);
  made.add(ns);
  sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  sh(['ip', '-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
  sh(['ip', '-n', ns, 'link', 'set', 'v0', 'up']);
  sh(['ip', '-n', ns, 'link', 'set', 'v1', 'up']);
  sh(['ip', '-n', ns, 'addr', 'add', '2001:db8:ffff::1/64', 'dev', 'v0', 'nodad']);
  sh(['ip', '-n', ns, 'addr', 'add', '203.0.113.1/24', 'dev', 'v0']);
  return ns;
}

function destroy(ns: string): void {
  spawnSync('ip', ['netns', 'del', ns]);
  made.delete(ns);
}

function routeCount(ns: string, family: 'ipv6' | 'ipv4'): number {
  const text = sh(['ip', '-n', ns, family === 'ipv6' ? '-6' : '-4', 'route', 'show', 'proto', 'boot']).stdout;
  return text.split('\n').filter((l) => (family === 'ipv6' ? l.startsWith('2001:db8:') && !l.startsWith('2001:db8:ffff::') : l.startsWith('10.'))).length;
}

function measure(family: 'ipv6' | 'ipv4'): boolean {
  const batch = join(dir, `${family}.batch`);
  const state = join(dir, `${family}.json`);
  const lines: string[] = [];
  for (let i = 0; i < routes; i++) {
    if (family === 'ipv6') lines.push(`route add 2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64 via 2001:db8:ffff::2`);
    else {
      const a = Math.floor(i / 3);
      lines.push(`route add 10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}/32 via 203.0.113.2 metric ${100 * (1 + (i % 3))}`);
    }
  }
  writeFileSync(batch, `${lines.join('\n')}\n`);

  process.stdout.write(`\n${routes} ${family === 'ipv6' ? 'IPv6 /64 routes' : 'IPv4 /32 routes over three metrics'}; making them with ip -batch and saving them with ha save...\n`);
  const source = namespace('source');
  sh(['ip', '-n', source, '-batch', batch]);
  sh(['ip', 'netns', 'exec', source, process.execPath, BIN, 'save', '--state', state], { quiet: true });
  destroy(source);
  const saved = JSON.parse(readFileSync(state, 'utf8')) as { routes: { routes: unknown[] } };
  if (saved.routes.routes.length !== routes) throw new Error(`ha save wrote ${saved.routes.routes.length} routes, expected ${routes}`);
  process.stdout.write(`state file: ${(readFileSync(state).length / 1e6).toFixed(1)} MB\n`);

  const haMs: number[] = [];
  const ipMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? ['ha', 'ip'] : ['ip', 'ha'];
    for (const tool of order) {
      const ns = namespace(`${tool}${run}`);
      try {
        if (tool === 'ha') {
          haMs.push(sh(['ip', 'netns', 'exec', ns, process.execPath, BIN, 'restore', '--state', state], { quiet: true }).ms);
          if (run === 0) {
            const diff = sh(['ip', 'netns', 'exec', ns, process.execPath, BIN, 'diff', '--state', state, '--json']).stdout;
            const changes = (JSON.parse(diff) as { sections: Array<{ changes: unknown[] }> }).sections.reduce((n, s) => n + s.changes.length, 0);
            if (changes !== 0) throw new Error(`after ha restore, ha diff still finds ${changes} change(s)`);
          }
        } else {
          ipMs.push(sh(['ip', 'netns', 'exec', ns, 'ip', '-batch', batch], { quiet: true }).ms);
        }
        const n = routeCount(ns, family);
        if (n !== routes) throw new Error(`${tool}: ${n} routes in the namespace after the run, expected ${routes}`);
      } finally {
        destroy(ns);
      }
    }
    process.stdout.write(`run ${run + 1}/${runs}: ha restore ${haMs.at(-1)!.toFixed(0)} ms, ip -batch ${ipMs.at(-1)!.toFixed(0)} ms\n`);
  }
  const ha = median(haMs);
  const ip = median(ipMs);
  const ratio = ha / ip;
  const met = ratio <= TARGET;
  process.stdout.write(`ha restore of ${routes} ${family} routes vs ip -batch, whole processes, medians of ${runs} runs:\n`);
  process.stdout.write(`  ha restore ${ha.toFixed(0)} ms, ip -batch ${ip.toFixed(0)} ms: ${ratio.toFixed(2)}x the time of ip -batch (target <= ${TARGET}x: ${met ? 'met' : 'MISSED'})\n`);
  return met;
}

function main(): number {
  let missed = 0;
  for (const f of families) if (!measure(f)) missed++;
  return missed ? 1 : 0;
}

const cleanup = (): void => {
  for (const ns of [...made]) destroy(ns);
  rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => { cleanup(); process.exit(130); });
try {
  process.exitCode = main();
} catch (error) {
  process.stderr.write(`benchmark failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  cleanup();
}
