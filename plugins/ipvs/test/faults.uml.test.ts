/**
 * Faults against the real kernel (User-Mode Linux, IPVS), with a 3,000-service table:
 * - SIGINT and SIGTERM at random points of `ha ipvs restore` and `ha restore`: every time the table
 *   is exactly as before (ipvsadm -Sn) or exactly as the file says, one line says which, and no
 *   lock is left;
 * - two and three restores at once (ipvs restores of different files, and full restores): none
 *   aborts, none interleaves, the table is one of the files exactly;
 * - kill -9 of a restore, then a new restore: it does not wait for a stale lock, and converges.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ha, haRun } from '@ha/lib/testing';

/**
 * Each run has a network namespace of its own: a fresh IPVS table (no trash of real servers that
 * earlier runs deleted, which slows every later restore) that starts as the "before" table.
 */
let ns = '';
let nsCount = 0;
const inNs = (): string[] => ['ip', 'netns', 'exec', ns];
const ipvsadm = (...args: string[]): string => execFileSync('ip', ['netns', 'exec', ns, 'ipvsadm', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const table = (): string => ipvsadm('-Sn');
let dir: string;
let runDir: string;
let env: NodeJS.ProcessEnv;
type Name = 'before' | 'a' | 'b' | 'small-a' | 'small-b';
const files: Record<Name, string> = { before: '', a: '', b: '', 'small-a': '', 'small-b': '' };
const texts: Record<Name, string> = { before: '', a: '', b: '', 'small-a': '', 'small-b': '' };
const tables: Record<Name, string> = { before: '', a: '', b: '', 'small-a': '', 'small-b': '' };
let stateA: string;

/** `count` services of `servers` real servers each, addresses from `base` (a second octet). */
function rules(base: number, count: number, weight: number, servers = 1): string {
  let s = '';
  for (let i = 0; i < count; i++) {
    const vip = `10.${base}.${(i >> 8) & 255}.${i & 255}`;
    s += `-A -t ${vip}:80 -s wrr\n`;
    for (let k = 1; k <= servers; k++) s += `-a -t ${vip}:80 -r 192.0.2.${k}:80 -g -w ${k === 1 ? weight : 1}\n`;
  }
  return s;
}

const lockFiles = (): string[] => (existsSync(join(runDir, 'lock')) ? readdirSync(join(runDir, 'lock')) : []);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function lockAppears(): Promise<void> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    if (lockFiles().some((f) => f.startsWith('ipvs.'))) return;
    await sleep(2);
  }
  throw new Error('the ipvs lock never appeared');
}

/** A new namespace holding the "before" table (loaded by ipvsadm -R: quick, and not ha). */
function reset(): void {
  if (ns) spawnSync('ip', ['netns', 'del', ns]);
  ns = `hafault${process.pid}x${nsCount++}`;
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['netns', 'exec', ns, 'ipvsadm', '-R'], { input: texts.before });
  if (tables.before) assert.equal(table(), tables.before);
}

before(() => {
  dir = mkdtempSync('/tmp/ha-faults-');
  runDir = join(dir, 'run');
  env = { HA_RUN_DIR: runDir };
  // the signalled restores: 3,000 services; the concurrent ones: 1,000, so that 20 runs of two or
  // three restores take minutes, not tens of them
  Object.assign(texts, { before: rules(1, 50, 3, 2), a: rules(2, 3000, 1), b: rules(3, 3000, 2), 'small-a': rules(4, 1000, 1, 2), 'small-b': rules(5, 1000, 2, 2) });
  for (const k of Object.keys(texts) as Name[]) {
    files[k] = join(dir, `${k}.rules`);
    writeFileSync(files[k], texts[k]);
  }
  // what each file makes, as ipvsadm itself reads it back
  reset();
  tables.before = table();
  for (const k of ['a', 'b', 'small-a', 'small-b'] as const) {
    reset();
    const r = ha(['ipvs', 'restore', files[k]], { env, wrap: inNs() });
    assert.equal(r.code, 0, r.stderr);
    tables[k] = table();
  }
  // state files (their ipvs sections) for "a" and "small-a"
  for (const [k, file] of [['a', 'state-a.json'], ['small-a', 'state-small-a.json']] as const) {
    reset();
    assert.equal(ha(['ipvs', 'restore', files[k]], { env, wrap: inNs() }).code, 0);
    assert.equal(ha(['save', '--state', join(dir, 'whole.json'), '--force'], { env, wrap: inNs() }).code, 0);
    const whole = JSON.parse(readFileSync(join(dir, 'whole.json'), 'utf8')) as { ipvs: unknown };
    writeFileSync(join(dir, file), JSON.stringify({ version: 1, ipvs: whole.ipvs }));
  }
  stateA = join(dir, 'state-a.json');
});

after(() => {
  if (ns) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

/** How long applying takes here, from the lock to the end: the window the signals fall in. */
async function applyTime(args: string[]): Promise<number> {
  reset();
  const { done } = haRun(args, { env, wrap: inNs() });
  await lockAppears();
  const t0 = Date.now();
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  return Date.now() - t0;
}

for (const [label, args, target] of [
  ['ha ipvs restore', () => ['ipvs', 'restore', files.a], 'a'],
  ['ha restore', () => ['restore', stateA], 'a'],
] as const) {
  test(`SIGINT and SIGTERM at random points of ${label} (3,000 services): as before or as the file says, a line says which, no lock left`, { timeout: 30 * 60_000 }, async () => {
    const window = await applyTime(args());
    const outcomes: Record<string, number> = {};
    const runs = label === 'ha restore' ? 10 : 20;
    for (let run = 0; run < runs * 2; run++) {
      const signal = run % 2 ? 'SIGTERM' : 'SIGINT';
      reset();
      const { child, done } = haRun(args(), { env, wrap: inNs() });
      await lockAppears();
      await sleep(Math.floor(Math.random() * window));
      child.kill(signal);
      const r = await done;
      const lines = r.stderr.split('\n').filter(Boolean);
      const now = table();
      let outcome: string;
      if (r.code === 0 || (r.code === null && r.signal === signal && /Applied \d+ change/.test(r.stdout))) {
        // done before the signal came (or it came as the process was exiting, when Node no
        // longer handles signals: the work was complete and said so)
        outcome = 'completed';
        assert.equal(now, tables[target]);
      } else {
        assert.equal(r.code, signal === 'SIGINT' ? 130 : 143, `exit ${r.code} ${r.signal ?? ''}: ${r.stderr} ${r.stdout}`);
        assert.equal(lines.length, 1, r.stderr);
        const line = lines[0]!;
        assert.match(line, new RegExp(`^ha: interrupted by ${signal}`), line);
        if (/is as it was|nothing had been changed|before any change to the kernel/.test(line)) {
          outcome = 'undone';
          assert.ok(now === tables.before, `${line}: the table is exactly as before`);
        } else if (/now matches what was asked|after every change was made/.test(line)) {
          outcome = 'finished';
          assert.ok(now === tables[target], `${line}: the table is exactly as the file says`);
        } else {
          assert.fail(`unexpected: ${line}`);
        }
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      assert.deepEqual(lockFiles(), [], 'no lock left');
    }
    assert.ok((outcomes.undone ?? 0) > 0, `some runs were undone: ${JSON.stringify(outcomes)}`);
  });
}

test('two and three restores at once (1,000 services each), 20 runs: none aborts, none interleaves, the table is one file exactly', { timeout: 30 * 60_000 }, async () => {
  const kinds = [
    () => ['ipvs', 'restore', files['small-a']],
    () => ['ipvs', 'restore', files['small-b']],
    () => ['restore', join(dir, 'state-small-a.json')],
  ];
  for (let run = 0; run < 20; run++) {
    reset();
    const n = run % 2 ? 3 : 2;
    const chosen = Array.from({ length: n }, (_, i) => kinds[(run + i) % kinds.length]!());
    const results = await Promise.all(chosen.map((args) => haRun(args, { env, wrap: inNs() }).done));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `${chosen[i]!.join(' ')}: exit ${r.code} ${r.signal ?? ''}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /terminate called|Napi::Error|Aborted/);
    });
    const now = table();
    assert.ok(now === tables['small-a'] || now === tables['small-b'], `run ${run}: the table is file a or file b exactly, not a mix`);
    assert.deepEqual(lockFiles(), []);
  }
});

test('kill -9 of a restore, then a new restore: it does not wait for a stale lock, and converges', { timeout: 10 * 60_000 }, async () => {
  for (let run = 0; run < 3; run++) {
    reset();
    const { child, done } = haRun(['ipvs', 'restore', files.a], { env, wrap: inNs() });
    await lockAppears();
    await sleep(200 + run * 300);
    child.kill('SIGKILL');
    await done;
    const r = ha(['ipvs', 'restore', files.a], { env: { ...env, HA_LOCK_TIMEOUT: '0' }, wrap: inNs() });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /waiting|locked/);
    assert.equal(table(), tables.a);
  }
});
