/**
 * Faults around save and restore, on the host with the test-only plugin (test/fixtures/plugin-demo,
 * whose "kernel" is a file and whose changes can be slowed down): signals midway, locks held by
 * live and dead processes, state files that are symbolic links, read-only media, and input that
 * is not a plain file or has no end. The same classes against the real kernel (IPVS in User-Mode
 * Linux) are in plugins/ipvs/test/faults.uml.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, baseEnv, demoPluginDataDir, ha, haRun, needsRoot, oneLine, tempDir } from '@ha/lib/testing';

let dir: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let kernel: string;
let runDir: string;

before(() => {
  dir = tempDir('faults');
  kernel = join(dir.path, 'kernel.json');
  runDir = join(dir.path, 'run');
  env = { HA_DATA_DIR: demoPluginDataDir(dir.path), HA_DEMO_KERNEL: kernel, HA_RUN_DIR: runDir };
});
after(() => dir.remove());

const setKernel = (items: Record<string, number>): void => writeFileSync(kernel, JSON.stringify({ items, extra: {} }));
const kernelItems = (): Record<string, number> => (JSON.parse(readFileSync(kernel, 'utf8')) as { items: Record<string, number> }).items;
const items = (n: number, value: number, prefix = 'i'): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, value]));
const locks = (): string[] => (existsSync(join(runDir, 'lock')) ? readdirSync(join(runDir, 'lock')) : []);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolve once the kernel lock of a section exists: the command has started changing things. */
async function lockAppears(section: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (locks().some((f) => f.startsWith(`${section}.`))) return;
    await sleep(2);
  }
  throw new Error(`the ${section} lock never appeared`);
}

test('SIGINT or SIGTERM midway through a restore: stop, undo (or finish when that is shorter), one line, exit 128+n, no lock left', async () => {
  const before = items(60, 1, 'old');
  const file = join(dir.path, 'signal.json');
  const want = items(60, 2, 'new');
  writeFileSync(file, JSON.stringify({ version: 1, demo: { items: want } }));
  const seen = new Set<string>();
  for (let run = 0; run < 16; run++) {
    setKernel(before);
    const signal = run % 2 ? 'SIGTERM' : 'SIGINT';
    // 120 changes of 10 ms each: signals land all over the run
    const { child, done } = haRun(['restore', file], { env: { ...env, HA_DEMO_STEP_MS: '10' } });
    await lockAppears('demo');
    await sleep(Math.floor(Math.random() * 1300));
    child.kill(signal);
    const r = await done;
    const now = kernelItems();
    if (r.code === 0) {
      // the signal came after the last change: nothing to stop (and nothing said)
      assert.deepEqual(now, want);
      assert.equal(r.stderr.trim(), '');
      seen.add('completed');
    } else {
      const line = oneLine(r.stderr);
      assert.equal(r.code, signal === 'SIGINT' ? 130 : 143, line);
      if (/is as it was|nothing had been changed|before any change to the kernel/.test(line)) {
        assert.deepEqual(now, before, `${line}: the kernel is as before`);
        seen.add('undone');
      } else if (/now matches what was asked|after every change was made/.test(line)) {
        assert.deepEqual(now, want, `${line}: the kernel is as the file says`);
        seen.add('finished');
      } else {
        assert.fail(`unexpected line: ${line}`);
      }
      assert.match(line, new RegExp(`^ha: interrupted by ${signal}`));
    }
    assert.deepEqual(locks(), [], 'no lock is left');
  }
  assert.ok(seen.has('undone') && seen.has('finished'), `both outcomes were seen: ${[...seen].join(', ')}`);
});

test('a second signal while undoing is ignored with a line, and the undo completes', async () => {
  const before = items(40, 1, 'old');
  setKernel(before);
  const file = join(dir.path, 'twice.json');
  writeFileSync(file, JSON.stringify({ version: 1, demo: { items: items(40, 2, 'new') } }));
  const { child, done } = haRun(['restore', file], { env: { ...env, HA_DEMO_STEP_MS: '20' } });
  await lockAppears('demo');
  // 80 changes of 20 ms: a signal after about 20 leaves 60, so ha undoes the 20, slowly
  await sleep(450);
  child.kill('SIGINT');
  await sleep(100);
  child.kill('SIGTERM');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0]!, /^ha: SIGTERM ignored: the kernel is being put back in a consistent state, which must finish$/);
  assert.match(lines[1]!, /^ha: interrupted by SIGINT after \d+ of 80 change\(s\): undid them; the kernel is as it was$/);
  assert.deepEqual(kernelItems(), before);
  assert.deepEqual(locks(), []);
});

test('a signal before anything changes ends at once, saying nothing was changed', async () => {
  setKernel({ a: 1 });
  const file = join(dir.path, 'early.json');
  writeFileSync(file, JSON.stringify({ version: 1, demo: { items: { a: 2 } } }));
  // planning is slow here: capture of the current state happens in plan(), after the lock
  const { child, done } = haRun(['save', '--state', join(dir.path, 'early-save.json')], { env: { ...env, HA_DEMO_SLOW_MS: '3000' } });
  await lockAppears('demo');
  child.kill('SIGTERM');
  const r = await done;
  assert.equal(r.code, 143);
  assert.equal(oneLine(r.stderr), 'ha: interrupted by SIGTERM before any change to the kernel; nothing was changed');
  assert.equal(existsSync(join(dir.path, 'early-save.json')), false);
  assert.deepEqual(locks(), []);
});

test('a lock file naming a live process that holds no lock, and one left by a killed ha, block nothing', async () => {
  setKernel({ a: 1 });
  const file = join(dir.path, 'locks.json');
  // PID 1 is alive, and is not ha: a PID file lock would have waited for it forever
  mkdirSync(join(runDir, 'lock'), { recursive: true });
  const netns = `net${statSync('/proc/self/ns/net').ino}`;
  writeFileSync(join(runDir, 'lock', `demo.${netns}.lock`), JSON.stringify({ pid: 1, since: '2020-01-01T00:00:00.000Z' }));
  writeFileSync(`${file}.lock`, '1\n');
  let started = Date.now();
  let r = ha(['save', '--state', file], { env: { ...env, HA_LOCK_TIMEOUT: '5' } });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 4000, 'no waiting for PID 1');
  // an ha killed while it held both locks
  const { child, done } = haRun(['save', '--state', file], { env: { ...env, HA_DEMO_SLOW_MS: '5000' } });
  await lockAppears('demo');
  child.kill('SIGKILL');
  await done;
  started = Date.now();
  r = ha(['save', '--state', file], { env: { ...env, HA_LOCK_TIMEOUT: '5' } });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 4000, 'the dead holder\'s lock was released by the kernel');
});

test('a live holder: a second ha waits and says who; given up after HA_LOCK_TIMEOUT, naming the holder', async () => {
  setKernel({ a: 1 });
  const file = join(dir.path, 'held.json');
  mkdirSync(dir.path, { recursive: true });
  // flock(1) holds the state file's lock, as another process would
  const holder = spawn('flock', ['-x', `${file}.lock`, 'sleep', '30'], { stdio: 'ignore' });
  try {
    await sleep(300);
    const r = ha(['save', '--state', file], { env: { ...env, HA_LOCK_TIMEOUT: '1' } });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, /^ha: waiting for state file .*held\.json: locked by pid \d+ \(flock -x .*held\.json\.lock sleep 30\)$/);
    assert.match(lines[1]!, /^ha: state file .*held\.json is locked by pid \d+ \(flock -x .*sleep 30\); gave up waiting/);
  } finally {
    holder.kill('SIGKILL');
  }
});

test('a state file that is a symbolic link is written through: the link stays, its target changes', () => {
  setKernel({ a: 7 });
  const real = join(dir.path, 'real');
  mkdirSync(real, { recursive: true });
  const target = join(real, 'state.json');
  const link = join(dir.path, 'link.json');
  writeFileSync(target, JSON.stringify({ version: 1, demo: { items: { a: 1 } } }));
  symlinkSync('real/state.json', link);
  const r = ha(['save', '--state', link], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  assert.equal(readlinkSync(link), 'real/state.json');
  assert.deepEqual((JSON.parse(readFileSync(target, 'utf8')) as { demo: unknown }).demo, { items: { a: 7 } });
  assert.equal(statSync(target).mode & 0o777, 0o600);
  // a dangling link: the target is created
  const dangling = join(dir.path, 'dangling.json');
  symlinkSync('real/new.json', dangling);
  assert.equal(ha(['save', '--state', dangling], { env }).code, 0);
  assert.ok(existsSync(join(real, 'new.json')));
  // a link loop is refused, naming it
  const loopA = join(dir.path, 'loop-a.json');
  symlinkSync('loop-b.json', loopA);
  symlinkSync('loop-a.json', join(dir.path, 'loop-b.json'));
  const loop = ha(['save', '--state', loopA], { env });
  assert.equal(loop.code, 2);
  assert.match(oneLine(loop.stderr), /symlink loop/);
});

test('a state file on read-only media: validate, diff and restore --dry-run need no lock and no writable folder', { skip: needsRoot }, () => {
  setKernel({ a: 1 });
  const ro = join(dir.path, 'ro');
  mkdirSync(ro, { recursive: true });
  writeFileSync(join(ro, 'state.json'), JSON.stringify({ version: 1, demo: { items: { a: 2 } } }));
  const e = baseEnv(env);
  // a mount namespace of its own, in which the folder is a read-only bind mount
  const script = `mount --bind ${ro} ${ro} && mount -o remount,bind,ro ${ro} && for c in "state validate" diff "restore --dry-run"; do "${process.execPath}" "${BIN}" $c ${ro}/state.json >/dev/null || exit 9; done; "${process.execPath}" "${BIN}" save --state ${ro}/state.json`;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { env: e, encoding: 'utf8' });
  assert.equal(r.status, 1, `reading works, writing fails: ${r.stderr}`);
  assert.match(oneLine(r.stderr), /read-only file system/);
});

const hostile: Array<[string, () => string, RegExp]> = [
  ['/dev/zero', () => '/dev/zero', /is a character device, not a regular file/],
  ['a FIFO', () => { const p = join(dir.path, 'fifo'); if (!existsSync(p)) spawnSync('mkfifo', [p]); return p; }, /is a FIFO, not a regular file/],
  ['a directory', () => dir.path, /is a directory, not a regular file/],
  ['a symlink loop', () => { const p = join(dir.path, 'loop1'); if (!existsSync(join(dir.path, 'loop2'))) { symlinkSync('loop2', p); symlinkSync('loop1', join(dir.path, 'loop2')); } return p; }, /symlink loop/],
  ['a 1 GB line', () => { const p = join(dir.path, 'huge'); if (!existsSync(p)) spawnSync('truncate', ['-s', '1G', p]); return p; }, /is larger than 64 MiB/],
];

/** Peak memory (KiB) and time of one run, from /usr/bin/time. */
function measured(args: string[], input?: { file: string }): { code: number | null; stderr: string; kib: number; ms: number } {
  const started = Date.now();
  const shell = `/usr/bin/time -q -f 'MAXRSS %M' "${process.execPath}" "${BIN}" ${args.map((a) => `'${a}'`).join(' ')}${input ? ` < '${input.file}'` : ''}`;
  const r = spawnSync('sh', ['-c', shell], { env: baseEnv(env), encoding: 'utf8', timeout: 20_000 });
  const ms = Date.now() - started;
  const m = /MAXRSS (\d+)/.exec(r.stderr);
  const code = r.status;
  return { code, stderr: r.stderr.replace(/MAXRSS \d+\n?/, ''), kib: m ? Number(m[1]) : Number.NaN, ms };
}

for (const [label, path, expected] of hostile) {
  test(`input without bounds is refused at once, exit 2, under 200 MB: ${label} as state file and as rules file`, () => {
    const p = path();
    for (const args of [['state', 'validate', p], ['restore', '--dry-run', p], ['ipvs', 'restore', '--dry-run', p]]) {
      const r = measured(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLine(r.stderr), args[0] === 'ipvs' ? new RegExp(expected.source.replace('64 MiB', '256 MiB')) : expected, args.join(' '));
      assert.ok(r.ms < 2000, `${args.join(' ')} took ${r.ms} ms`);
      assert.ok(r.kib < 200 * 1024, `${args.join(' ')} used ${r.kib} KiB`);
    }
  });
}

test('standard input without end (/dev/zero, one 1 GB line) is refused at the first too-long line', () => {
  const huge = join(dir.path, 'huge-stdin');
  spawnSync('truncate', ['-s', '1G', huge]);
  for (const file of ['/dev/zero', huge]) {
    const r = measured(['ipvs', 'restore', '--dry-run'], { file });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(oneLine(r.stderr), 'ha: stdin: line 1 is longer than 4096 characters');
    assert.ok(r.ms < 2000, `took ${r.ms} ms`);
    assert.ok(r.kib < 200 * 1024, `used ${r.kib} KiB`);
  }
});

test('a state file with duplicate keys, a __proto__ key or a byte-order mark', () => {
  setKernel({ a: 1 });
  const cases: Array<[string, string, number, RegExp | undefined]> = [
    ['dup', '{"version": 1, "demo": {"items": {"a": 1, "a": 2}}}', 2, /duplicate key "a" \(JSON keeps only the last one\) at line 1 column 43/],
    ['dup-section', '{"version": 1, "demo": {"items": {}}, "demo": {"items": {"x": 1}}}', 2, /duplicate key "demo"/],
    ['proto', '{"version": 1, "demo": {"items": {"__proto__": 1}}}', 2, /the key "__proto__" is not allowed at line 1/],
    ['bom', '\ufeff{"version": 1, "demo": {"items": {"a": 1}}}', 0, undefined],
    ['null', '{"version": 1, "demo": {"items": {"a": null}}}', 2, /\$\.demo\.items\.a: expected integer, got null$/],
  ];
  for (const [name, text, code, expected] of cases) {
    const file = join(dir.path, `${name}.json`);
    writeFileSync(file, text);
    const r = ha(['state', 'validate', file], { env });
    assert.equal(r.code, code, `${name}: ${r.stderr}`);
    if (expected) assert.match(oneLine(r.stderr), expected, name);
  }
});
