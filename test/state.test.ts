/**
 * The state file and the plugin contract, proven with the test-only plugin in
 * test/fixtures/plugin-demo (linked the way a third-party plugin is): save, diff, restore with
 * undo, validation errors that name the JSON path, atomic writes under SIGKILL.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { demoPluginDataDir, ha, haSpawn, oneLine, tempDir } from '@ha/lib/testing';

let dir: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let kernel: string;
let state: string;

before(() => {
  dir = tempDir('state');
  kernel = join(dir.path, 'kernel.json');
  state = join(dir.path, 'state.json');
  env = { HA_DATA_DIR: demoPluginDataDir(dir.path), HA_DEMO_KERNEL: kernel };
});
after(() => dir.remove());

const setKernel = (items: Record<string, number>, extra: Record<string, number> = {}): void => writeFileSync(kernel, JSON.stringify({ items, extra }));
const getKernel = (): { items: Record<string, number>; extra: Record<string, number> } => JSON.parse(readFileSync(kernel, 'utf8'));
const hash = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
const json = (s: string): any => JSON.parse(s);

test('save captures every section, writes mode 0600, reports per section', () => {
  setKernel({ a: 1, b: 2 }, { x: 9 });
  const r = ha(['save', '--state', state, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const out = json(r.stdout);
  assert.equal(out.file, state);
  assert.equal(out.version, 1);
  assert.deepEqual(out.sections.filter((s: { name: string }) => s.name.startsWith('demo')), [
    { name: 'demo', plugin: 'ha-plugin-demo', status: 'saved' },
    { name: 'demo-extra', plugin: 'ha-plugin-demo', status: 'saved' },
  ]);
  // the bundled ipvs plugin takes part too; this machine's kernel has no IPVS, so it is skipped, saying why
  const ipvs = out.sections.find((s: { name: string }) => s.name === 'ipvs');
  assert.ok(ipvs, 'the ipvs section is reported');
  if (ipvs.status === 'skipped') assert.match(ipvs.reason, /IPVS is not available in this kernel: load it with "modprobe ip_vs"/);
  const saved = json(readFileSync(state, 'utf8'));
  assert.deepEqual(saved.demo, { items: { a: 1, b: 2 } });
  assert.deepEqual(saved['demo-extra'], { items: { x: 9 } });
  assert.equal(statSync(state).mode & 0o777, 0o600);
  assert.ok(!existsSync(`${state}.lock`), 'lock released');
});

test('HA_STATE names the file when --state is not given', () => {
  const other = join(dir.path, 'via-env.json');
  const r = ha(['save'], { env: { ...env, HA_STATE: other } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Saved ${other}`));
  assert.ok(existsSync(other));
});

test('a section whose kernel support is missing is skipped with the reason and kept as it was', () => {
  setKernel({ a: 5 }, { x: 1 });
  const r = ha(['save', '--state', state, '--json'], { env: { ...env, HA_DEMO_UNAVAILABLE: '1' } });
  assert.equal(r.code, 0, r.stderr);
  const out = json(r.stdout);
  assert.deepEqual(out.sections.find((s: { name: string }) => s.name === 'demo-extra'), {
    name: 'demo-extra', plugin: 'ha-plugin-demo', status: 'skipped',
    reason: 'the demo-extra feature is not in this kernel (set HA_DEMO_UNAVAILABLE=0)',
  });
  const saved = json(readFileSync(state, 'utf8'));
  assert.deepEqual(saved.demo, { items: { a: 5 } });
  assert.deepEqual(saved['demo-extra'], { items: { x: 9 } }, 'previous content kept');
  const human = ha(['save', '--state', state], { env: { ...env, HA_DEMO_UNAVAILABLE: '1' } });
  assert.match(human.stdout, /demo-extra\s+skipped\s+the demo-extra feature is not in this kernel/);
});

test('diff lists the changes restore would make; --exit-code exits 1 on differences', () => {
  writeFileSync(state, JSON.stringify({ version: 1, demo: { items: { a: 5, c: 3 } } }));
  setKernel({ a: 1, b: 2 });
  const r = ha(['diff', '--state', state, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r.stdout), {
    file: state,
    changes: 3,
    sections: [{
      section: 'demo', plugin: 'ha-plugin-demo', changes: [
        { op: 'change', object: 'item a', detail: 'value 1 -> 5' },
        { op: 'add', object: 'item c', detail: 'value 3' },
        { op: 'delete', object: 'item b' },
      ],
    }],
    errors: [],
  });
  const human = ha(['diff', state], { env });
  assert.equal(human.stdout, 'demo:\n  ~ item a (value 1 -> 5)\n  + item c (value 3)\n  - item b\n');
  assert.equal(ha(['diff', state, '--exit-code'], { env }).code, 1);
  assert.deepEqual(getKernel().items, { a: 1, b: 2 }, 'diff changes nothing');
});

test('restore --dry-run prints the plan and changes nothing; restore converges; a second restore does nothing', () => {
  writeFileSync(state, JSON.stringify({ version: 1, demo: { items: { a: 5, c: 3 } } }));
  setKernel({ a: 1, b: 2 });
  const dry = ha(['restore', '--dry-run', '--state', state], { env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^Would apply 3 change\(s\):/);
  assert.deepEqual(getKernel().items, { a: 1, b: 2 });
  const r = ha(['restore', '--state', state, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(json(r.stdout).applied, 3);
  assert.deepEqual(getKernel().items, { a: 5, c: 3 });
  const again = ha(['restore', '--state', state], { env });
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already matches/);
});

test('a failing step undoes the steps applied before it, exit 1', () => {
  writeFileSync(state, JSON.stringify({ version: 1, demo: { items: { a: 7, m: 1, z: 2 } } }));
  setKernel({ a: 1, b: 2 });
  const before = readFileSync(kernel, 'utf8');
  const r = ha(['restore', '--state', state], { env: { ...env, HA_DEMO_FAIL_ON: 'z' } });
  assert.equal(r.code, 1);
  assert.equal(oneLine(r.stderr), 'ha: restore failed at add item z: injected failure on z; undid the 2 change(s) made before it');
  assert.deepEqual(JSON.parse(readFileSync(kernel, 'utf8')), JSON.parse(before));
});

test('restore of a section the kernel cannot take fails before changing anything', () => {
  writeFileSync(state, JSON.stringify({ version: 1, demo: { items: { a: 9 } }, 'demo-extra': { items: {} } }));
  setKernel({ a: 1 });
  const r = ha(['restore', '--state', state], { env: { ...env, HA_DEMO_UNAVAILABLE: '1' } });
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), /cannot restore section "demo-extra": the demo-extra feature is not in this kernel.*nothing was changed$/);
  assert.deepEqual(getKernel().items, { a: 1 });
});

const invalid: Array<[string, string, RegExp]> = [
  ['not JSON', '{"version": 1,\n  "demo": {"items": {"a": 1,}}}', /not valid JSON at line 2 column \d+/],
  ['empty file', '', /not valid JSON/],
  ['top level is a list', '[]', /\$: expected object, got array/],
  ['no version', '{"demo": {"items": {}}}', /\$: missing required property "version"/],
  ['newer version', '{"version": 2}', /\$\.version: unsupported version 2 \(this ha reads version 1\)/],
  ['version is a string', '{"version": "1"}', /\$\.version: expected integer, got string "1"/],
  ['value above maximum', '{"version": 1, "demo": {"items": {"a": 200}}}', /\$\.demo\.items\.a: 200 is above the maximum 100/],
  ['wrong type deep', '{"version": 1, "demo": {"items": {"a": true}}}', /\$\.demo\.items\.a: expected integer, got boolean true/],
  ['unknown property in a section', '{"version": 1, "demo": {"items": {}, "itmes": {}}}', /\$\.demo\.itmes: unknown property "itmes" \(expected items\)/],
  ['section missing a required part', '{"version": 1, "demo": {}}', /\$\.demo: missing required property "items"/],
  ['bad section name', '{"version": 1, "Demo": {}}', /\$\.Demo: unknown property "Demo"/],
  ['plugin check', '{"version": 1, "demo": {"items": {"-x": 1}}}', /\$\.demo\.items\["-x"\]: item names cannot start with "-"/],
  ['unmanaged section', '{"version": 1, "nosuch": {}}', /section "nosuch" is not managed by any installed plugin/],
];

for (const [label, text, expected] of invalid) {
  test(`invalid state file is rejected with exit 2, one line naming the path, nothing changed: ${label}`, () => {
    const file = join(dir.path, 'bad.json');
    writeFileSync(file, text);
    setKernel({ a: 1 });
    const fileBefore = hash(file);
    const kernelBefore = hash(kernel);
    const commands = [['state', 'validate', file], ['restore', file], ['diff', file]];
    for (const args of commands) {
      const r = ha(args, { env });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(oneLine(r.stderr), expected);
      assert.ok(oneLine(r.stderr).startsWith(`ha: state file ${file}: `));
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    assert.equal(hash(file), fileBefore, 'state file untouched');
    assert.equal(hash(kernel), kernelBefore, 'kernel untouched');
  });
}

test('save refuses to overwrite an invalid state file unless --force', () => {
  const file = join(dir.path, 'corrupt.json');
  writeFileSync(file, '{"version": 1, "demo": ');
  const before = hash(file);
  const r = ha(['save', '--state', file], { env });
  assert.equal(r.code, 2);
  assert.match(oneLine(r.stderr), /not valid JSON.*nothing was written; use --force to overwrite it/);
  assert.equal(hash(file), before);
  const forced = ha(['save', '--state', file, '--force'], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(json(readFileSync(file, 'utf8')).version, 1);
});

test('state validate accepts a good file and names its sections', () => {
  writeFileSync(state, JSON.stringify({ version: 1, demo: { items: { a: 1 } }, 'demo-extra': { items: {} } }));
  const r = ha(['state', 'validate', state, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r.stdout), { file: state, valid: true, version: 1, sections: ['demo', 'demo-extra'] });
});

test('state schema includes each installed plugin\'s section', () => {
  const r = ha(['state', 'schema'], { env });
  assert.equal(r.code, 0, r.stderr);
  const schema = json(r.stdout);
  assert.equal(schema.properties.version.const, 1);
  assert.equal(schema.properties.demo.required[0], 'items');
});

test('concurrent saves are serialized by the lock and all succeed', async () => {
  setKernel({ a: 1 });
  const file = join(dir.path, 'concurrent.json');
  const runs = await Promise.all(Array.from({ length: 4 }, () => new Promise<number | null>((resolve) => {
    const child = haSpawn(['save', '--state', file], { env });
    child.on('exit', (code) => resolve(code));
  })));
  assert.deepEqual(runs, [0, 0, 0, 0]);
  assert.deepEqual(json(readFileSync(file, 'utf8')).demo, { items: { a: 1 } });
});

test('killing ha save at any moment never leaves a corrupt state file', async () => {
  const file = join(dir.path, 'killed.json');
  // a large section so that writing takes a while
  const big: Record<string, number> = {};
  for (let i = 0; i < 40_000; i++) big[`item-number-${i}`] = i % 100;
  setKernel(big);
  writeFileSync(file, JSON.stringify({ version: 1, demo: { items: { old: 1 } } }));
  const old = readFileSync(file, 'utf8');
  let sawNew = false;
  let sawOld = false;
  for (let i = 0; i < 16; i++) {
    const delay = 80 + Math.floor((i / 16) * 900);
    const child = haSpawn(['save', '--state', file], { env });
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    await new Promise((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    const text = readFileSync(file, 'utf8');
    const doc = JSON.parse(text) as { version: number; demo: { items: Record<string, number> } };
    assert.equal(doc.version, 1);
    const n = Object.keys(doc.demo.items).length;
    assert.ok(n === 1 || n === 40_000, `old or new content, got ${n} items`);
    if (n === 1) sawOld = true; else sawNew = true;
    assert.equal(statSync(file).mode & 0o777, text === old ? statSync(file).mode & 0o777 : 0o600);
  }
  assert.ok(sawOld, 'some saves were killed before the rename');
  // a save after the kills takes over any stale lock and succeeds
  const r = ha(['save', '--state', file], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Object.keys(JSON.parse(readFileSync(file, 'utf8')).demo.items).length, 40_000);
  void sawNew;
  const leftovers = readdirSync(dir.path).filter((f) => f.startsWith('.killed.json.') && f.endsWith('.tmp'));
  assert.deepEqual(leftovers, [], 'temporary files of killed saves are cleaned up by the next save');
});

test('diff --exit-code: 0 the same, 1 differs, 3 a section could not be compared (the others still shown), 2 an invalid file', () => {
  setKernel({ a: 1 });
  const file = join(dir.path, 'exit-code.json');
  writeFileSync(file, JSON.stringify({ version: 1, demo: { items: { a: 1 } } }));
  assert.equal(ha(['diff', file, '--exit-code'], { env }).code, 0);
  writeFileSync(file, JSON.stringify({ version: 1, demo: { items: { a: 2 } } }));
  const differs = ha(['diff', file, '--exit-code'], { env });
  assert.equal(differs.code, 1);
  assert.match(differs.stdout, /~ item a \(value 1 -> 2\)/);
  writeFileSync(file, JSON.stringify({ version: 1, demo: { items: { a: 2 } }, 'demo-extra': { items: {} } }));
  const partial = ha(['diff', file, '--exit-code'], { env: { ...env, HA_DEMO_UNAVAILABLE: '1' } });
  assert.equal(partial.code, 3, partial.stderr);
  assert.match(partial.stdout, /~ item a \(value 1 -> 2\)/, 'the section that could be compared is shown');
  assert.match(oneLine(partial.stderr), /^ha: cannot compare section "demo-extra": the demo-extra feature is not in this kernel/);
  // without --exit-code, not being able to compare is a failure (1), differences are not
  assert.equal(ha(['diff', file], { env: { ...env, HA_DEMO_UNAVAILABLE: '1' } }).code, 1);
  assert.equal(ha(['diff', file], { env }).code, 0);
  const json = ha(['diff', file, '--exit-code', '--json'], { env: { ...env, HA_DEMO_UNAVAILABLE: '1' } });
  assert.equal(json.code, 3);
  const out = JSON.parse(json.stdout) as { changes: number; errors: Array<{ section: string }> };
  assert.equal(out.changes, 1);
  assert.deepEqual(out.errors.map((e) => e.section), ['demo-extra']);
  writeFileSync(file, '{"version": 1, "demo": {"items": {"a": "x"}}}');
  assert.equal(ha(['diff', file, '--exit-code'], { env }).code, 2);
});

test('a restore of many changes is summed up per section for people; --json and --dry-run list each', () => {
  setKernel({});
  const file = join(dir.path, 'many.json');
  const items: Record<string, number> = {};
  for (let i = 0; i < 150; i++) items[`n${i}`] = 1;
  writeFileSync(file, JSON.stringify({ version: 1, demo: { items } }));
  const dry = ha(['restore', '--dry-run', file], { env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.stdout.split('\n').filter((l) => l.startsWith('  + item')).length, 150);
  const r = ha(['restore', file], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'demo: 150 added, 0 changed, 0 deleted\nApplied 150 change(s) (--json lists each one).\n');
  assert.equal(r.stderr, '', 'no progress counter when standard error is not a terminal');
});

test('a configuration section: save keeps it as the file has it, restore hands it to its runner', () => {
  setKernel({ a: 1 });
  const file = join(dir.path, 'config.json');
  writeFileSync(file, JSON.stringify({ version: 1, 'demo-config': { settings: { mode: 'fast' } } }));
  const saved = ha(['save', '--state', file, '--json'], { env });
  assert.equal(saved.code, 0, saved.stderr);
  assert.deepEqual(json(saved.stdout).sections.find((s: { name: string }) => s.name === 'demo-config'), { name: 'demo-config', plugin: 'ha-plugin-demo', status: 'kept', reason: 'configuration, kept as the file has it' });
  const doc = json(readFileSync(file, 'utf8'));
  assert.deepEqual(doc['demo-config'], { settings: { mode: 'fast' } });
  assert.deepEqual(doc.demo, { items: { a: 1 } }, 'kernel sections are captured beside it');
  const r = ha(['restore', file, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r.stdout).sections.find((s: { section: string }) => s.section === 'demo-config').changes, [{ op: 'add', object: 'demo configuration', detail: 'handed to the runner' }]);
  assert.deepEqual((JSON.parse(readFileSync(kernel, 'utf8')) as { config: unknown }).config, { mode: 'fast' });
  const bad = join(dir.path, 'config-bad.json');
  writeFileSync(bad, JSON.stringify({ version: 1, 'demo-config': { settings: { mode: 3 } } }));
  const refused = ha(['restore', bad], { env });
  assert.equal(refused.code, 2);
  assert.match(oneLine(refused.stderr), /\$\["demo-config"\]\.settings\.mode: expected string, got integer 3/);
});
