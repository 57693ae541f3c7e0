/**
 * The built CLI as a user meets it: help, version, mistakes, --json, colour, and the metadata
 * every command must carry.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Netns, ROOT, ha, needsRoot, oneLine } from '@ha/lib/testing';

test('ha --help lists the core commands and topics', () => {
  const r = ha(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const word of ['save', 'diff', 'restore', 'state', 'autocomplete']) assert.match(r.stdout, new RegExp(`\\n  ${word}\\s`));
});

test('ha --version and -v print name and version', () => {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
  for (const flag of ['--version', '-v']) {
    const r = ha([flag]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^ha/${version.replaceAll('.', '\\.')} linux-`));
  }
});

test('a mistyped command suggests the right one: one line, exit 2', () => {
  const r = ha(['sav']);
  assert.equal(r.code, 2);
  assert.equal(oneLine(r.stderr), 'ha: "sav" is not a command; did you mean "ha save"? see "ha --help" for the list');
  const far = ha(['frobnicate']);
  assert.equal(far.code, 2);
  assert.doesNotMatch(oneLine(far.stderr), /did you mean/);
});

test('invalid usage is one line, exit 2, no stack trace; DEBUG=ha* adds the stack', () => {
  const r = ha(['save', '--bogus']);
  assert.equal(r.code, 2);
  const line = oneLine(r.stderr);
  assert.match(line, /^ha: Nonexistent flag: --bogus \(see: ha save --help\)$/);
  const extra = ha(['state', 'validate', 'a', 'b']);
  assert.equal(extra.code, 2);
  assert.match(oneLine(extra.stderr), /Unexpected argument: b/);
  const debug = ha(['save', '--bogus'], { env: { DEBUG: 'ha*' } });
  assert.equal(debug.code, 2);
  assert.match(debug.stderr, /\n\s+at /, 'stack trace with DEBUG=ha*');
});

test('errors with --json are a stable JSON object on stdout', () => {
  const r = ha(['state', 'validate', '/nonexistent/state.json', '--json']);
  assert.equal(r.code, 2);
  assert.deepEqual(JSON.parse(r.stdout), {
    error: { code: 'ENOFILE', message: 'state file /nonexistent/state.json does not exist', exitCode: 2 },
  });
  assert.equal(r.stderr, '');
});

test('colour only when forced or on a TTY, and never with NO_COLOR', () => {
  const coloured = ha(['diff', '--help'], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
  const plain = ha(['state', 'schema'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
  assert.equal(plain.code, 0);
  assert.doesNotMatch(plain.stdout, /\x1b\[/);
  assert.equal(coloured.code, 0);
});

test('every command has a summary, a description, examples and --json', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, { summary?: string; description?: string; examples?: unknown[]; flags: Record<string, { options?: string[]; type: string }>; enableJsonFlag?: boolean }>;
  };
  const ids = Object.keys(manifest.commands);
  assert.ok(ids.length >= 5);
  for (const id of ids) {
    const c = manifest.commands[id]!;
    assert.ok(c.summary && c.summary.length > 10, `${id}: summary`);
    assert.ok(c.description && c.description.length > 40, `${id}: description`);
    assert.ok(c.examples && c.examples.length > 0, `${id}: examples`);
    assert.ok(c.flags.json, `${id}: --json`);
  }
});

test('schema/state.schema.json is what `ha state schema` prints (run `npm run man` when stale)', () => {
  const r = ha(['state', 'schema']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(ROOT, 'schema', 'state.schema.json'), 'utf8'), r.stdout);
});

test('ha status reports the kernel, its features and the state file, as a table and as JSON', () => {
  const r = ha(['status', '--json', '--state', '/nonexistent/state.json']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(s), ['kernel', 'features', 'sections', 'state']);
  assert.deepEqual(s.features.map((f: { name: string }) => f.name), ['ipvs', 'bonding', 'ipv4-forwarding']);
  assert.deepEqual(s.state, { file: '/nonexistent/state.json', exists: false, valid: null });
  // the host kernel of this project has no IPVS: the reason says how to load it
  const ipvs = s.features[0];
  if (!ipvs.available) assert.match(ipvs.detail, /modprobe ip_vs/);
  const human = ha(['status', '--state', '/nonexistent/state.json']);
  assert.match(human.stdout, /^kernel: +\S+/);
  assert.match(human.stdout, /FEATURE +AVAILABLE +DETAIL/);
});

test('piped standard input is never taken as a command argument', () => {
  // oclif fills a missing argument from stdin unless told not to; restore reads rules from stdin
  const r = ha(['state', 'validate', '--state', '/nonexistent/state.json'], { input: '/etc/hostname\n' });
  assert.equal(r.code, 2);
  assert.equal(oneLine(r.stderr), 'ha: state file /nonexistent/state.json does not exist');
});

test('start-up uses the bundled @oclif/core: the same answers with and without it, dozens of modules fewer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-bundle-'));
  try {
    // a preload that reports, at exit, which @oclif/core files were loaded from node_modules
    const probe = join(dir, 'probe.cjs');
    writeFileSync(probe, `process.on('exit', () => {
      const Module = require('node:module');
      const loaded = Object.keys(Module._cache).filter((f) => f.includes('/@oclif/core/lib/') && Object.getOwnPropertyDescriptor(Module._cache, f).value !== undefined);
      require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'loaded.json'))}, JSON.stringify(loaded));
    });\n`);
    const loadedWith = (env: Record<string, string>): string[] => {
      const r = ha(['--version'], { env: { ...env, NODE_OPTIONS: `--require ${probe}` } });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(readFileSync(join(dir, 'loaded.json'), 'utf8')) as string[];
    };
    const plain = loadedWith({ HA_NO_BUNDLE: '1' });
    const bundled = loadedWith({});
    assert.ok(plain.length > 40, `without the bundle @oclif/core is its modules (${plain.length})`);
    assert.deepEqual(bundled, [], 'with the bundle no @oclif/core module is read from node_modules');
    for (const args of [['--version'], ['--help'], ['ipvs', '--help'], ['ipvs', 'list', '--help'], ['sav'], ['save', '--bogus'], ['state', 'schema']]) {
      const a = ha(args);
      const b = ha(args, { env: { HA_NO_BUNDLE: '1' } });
      assert.deepEqual([a.code, a.stdout, a.stderr], [b.code, b.stdout, b.stderr], args.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bundle sorts plain command IDs by code unit, which is the order localeCompare gives them', () => {
  // scripts/bundle-core.ts compares IDs of lower-case letters, ':' and '-' directly instead of
  // with localeCompare (whose first call sets up ICU's collator): both orders must agree
  const bundle = readFileSync(join(ROOT, 'dist', 'oclif-core.cjs'), 'utf8');
  assert.ok(bundle.includes('/^[a-z:-]*$/.test(a.id)'), 'the bundle has the direct comparison');
  const alphabet = 'abmyz:-';
  let seed = 7;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
  const word = (): string => Array.from({ length: 1 + (next() % 7) }, () => alphabet[next() % alphabet.length]).join('');
  for (let i = 0; i < 20000; i++) {
    const [a, b] = [word(), word()];
    assert.equal(a < b ? -1 : a > b ? 1 : 0, Math.sign(a.localeCompare(b)), `${a} vs ${b}`);
  }
  // and a digit does not qualify: ':' sorts before digits in ICU's order, after them by code unit
  assert.equal(Math.sign(':0'.localeCompare('0')), -1);
  assert.ok(!/^[a-z:-]*$/.test('a0'));
});

test('commands and hooks come from the bundle of ha\'s modules: the same answers, no ES module read, and a stale bundle is not used', () => {
  // NODE_DEBUG=esm has Node's ES module loader name each module it stores
  const esm = (args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stored: string[] } => {
    const r = ha(args, { env: { ...env, NODE_DEBUG: 'esm' } });
    const stored = [...r.stderr.matchAll(/Storing (file:\S+)/g)].map((m) => m[1]!).filter((u) => u.startsWith(`file://${ROOT}/`) && !u.includes('/node_modules/'));
    return { code: r.code, stdout: r.stdout, stored };
  };
  for (const args of [['state', 'schema'], ['route', 'list', '--json'], ['ipvs', 'list', '--json'], ['status', '--json', '--state', '/nonexistent/x.json'], ['vrrp', 'status', '--socket', '/nonexistent/a.sock']]) {
    const bundled = esm(args);
    const plain = esm(args, { HA_NO_BUNDLE: '1' });
    assert.deepEqual([bundled.code, bundled.stdout], [plain.code, plain.stdout], args.join(' '));
    assert.deepEqual(bundled.stored, [], `${args.join(' ')}: no module of ha's read as an ES module`);
    assert.ok(plain.stored.length > 10, `${args.join(' ')}: without the bundle, ha's modules are read (${plain.stored.length})`);
  }
  // the bundle records the build info it was made from: another size or age is a stale bundle
  const dir = mkdtempSync(join(tmpdir(), 'ha-habundle-'));
  try {
    const text = readFileSync(join(ROOT, 'dist', 'ha.cjs'), 'utf8');
    const made = /madeFrom:(\[\[.*?\]\])/.exec(text);
    assert.ok(made, 'the bundle says what it was made from');
    const stale = join(dir, 'stale.cjs');
    const fresh = join(dir, 'fresh.cjs');
    const infos = JSON.parse(made[1]!) as Array<[string, number, number]>;
    infos[0]![2] += 2000;
    writeFileSync(stale, text.replace(made[1]!, JSON.stringify(infos)));
    writeFileSync(fresh, text);
    const probe = (file: string): string => {
      const r = spawnSync(process.execPath, ['-e', `const { loadCore, loadHa } = require(${JSON.stringify(join(ROOT, 'bin', 'load-core.cjs'))}); loadCore(); process.stdout.write(String(Boolean(loadHa(${JSON.stringify(file)}))));`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    assert.equal(probe(fresh), 'true', 'a bundle as the build made it is used');
    assert.equal(probe(stale), 'false', 'a bundle older than the compiled modules is not');
    const broken = join(dir, 'broken.cjs');
    writeFileSync(broken, text.slice(0, Math.floor(text.length / 2)));
    assert.equal(probe(broken), 'false', 'a damaged bundle is not used, and nothing throws');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bundle is compiled from its code cache only when the cache was made from it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-cache-'));
  try {
    const bundle = join(dir, 'oclif-core.cjs');
    const cache = `${bundle}.cache`;
    writeFileSync(bundle, readFileSync(join(ROOT, 'dist', 'oclif-core.cjs')));
    const good = readFileSync(join(ROOT, 'dist', 'oclif-core.cjs.cache'));
    // a fresh process each time: loading registers the bundle in that process's module cache
    const load = (): { cached: boolean; version: string } => {
      const script = `import { createRequire } from 'node:module';
import { loadCore } from ${JSON.stringify(join(ROOT, 'bin', 'load-core.cjs'))};
const core = loadCore(${JSON.stringify(bundle)});
const { Config } = createRequire(${JSON.stringify(join(ROOT, 'bin', 'run.cjs'))})('@oclif/core');
const config = await Config.load(${JSON.stringify(ROOT)});
process.stdout.write(JSON.stringify({ cached: core.cached, version: config.version }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { cached: boolean; version: string };
    };
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    writeFileSync(cache, good);
    assert.deepEqual(load(), { cached: true, version }, 'the cache the build made is taken');
    const stale = Buffer.from(good);
    stale[0]! ^= 1;
    writeFileSync(cache, stale);
    assert.deepEqual(load(), { cached: false, version }, 'a cache made from other source is not used');
    writeFileSync(cache, good.subarray(0, 100));
    assert.deepEqual(load(), { cached: false, version }, 'a truncated cache is refused by V8 and costs nothing but time');
    rmSync(cache);
    assert.deepEqual(load(), { cached: false, version }, 'no cache');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a mistyped command with --json, and ha help for a command that does not exist: the same answer, the same shape', () => {
  const bogus = ha(['sav', '--json']);
  assert.equal(bogus.code, 2);
  const expected = { error: { code: 'ENOCOMMAND', message: '"sav" is not a command; did you mean "ha save"? see "ha --help" for the list', exitCode: 2 } };
  assert.deepEqual(JSON.parse(bogus.stdout), expected);
  const help = ha(['help', 'sav']);
  assert.equal(help.code, 2);
  assert.equal(oneLine(help.stderr), `ha: ${expected.error.message}`);
  const helpJson = ha(['help', 'sav', '--json']);
  assert.equal(helpJson.code, 2);
  assert.deepEqual(JSON.parse(helpJson.stdout), expected);
  const fine = ha(['help', 'ipvs', 'timeout', '--json']);
  assert.equal(fine.code, 0, fine.stderr);
  const doc = JSON.parse(fine.stdout) as { subject: string; flags: Array<{ name: string; options?: string[] }> };
  assert.equal(doc.subject, 'ipvs timeout');
  assert.deepEqual(doc.flags.find((f) => f.name === 'format')?.options, ['table', 'ipvsadm']);
});

test('a repeatable flag does not swallow the argument after it, and a missing argument is named', { skip: needsRoot }, () => {
  const r = ha(['route', 'multipath', '--nexthop', '192.0.2.1', '--nexthop', '192.0.2.2']);
  assert.equal(r.code, 2);
  assert.equal(oneLine(r.stderr), 'ha: missing required argument: destination (PREFIX, an address, or "default") (see: ha route multipath --help)');
  // given after the flags, the destination is the argument (the command goes on to check the
  // gateways, which is past parsing)
  // (in a namespace of its own: the machine's routes are never touched)
  const ns = Netns.create('greedy');
  try {
    const given = ha(['route', 'multipath', '--nexthop', '192.0.2.1', '--nexthop', '192.0.2.2', '198.51.100.0/24', '--json'], { wrap: ns.wrap });
    assert.doesNotMatch(given.stdout, /missing required argument/);
    assert.match(given.stdout, /gateway 192\.0\.2\.1 is not reachable on any interface/);
  } finally {
    ns.destroy();
  }
});

test('bash completion: commands, flags once each with their short forms, flag values, interfaces', () => {
  const cache = mkdtempSync(join(tmpdir(), 'ha-complete-'));
  try {
    const made = ha(['autocomplete', 'bash'], { env: { XDG_CACHE_HOME: cache } });
    assert.equal(made.code, 0, made.stderr);
    const script = join(cache, 'ha', 'autocomplete', 'functions', 'bash', 'ha.bash');
    const complete = (...words: string[]): string[] => {
      const sh = `source '${script}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ha; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync('bash', ['-c', sh], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '', r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    assert.deepEqual(complete('ha', 'ip'), ['ipvs']);
    assert.deepEqual(complete('ha', 'ipvs', 'add-service', '-s', 'w'), ['wrr', 'wlc']);
    const flags = complete('ha', 'ipvs', 'add-service', '-');
    assert.ok(flags.includes('-t') && flags.includes('--tcp-service') && flags.includes('-s'), flags.join(' '));
    assert.equal(new Set(flags).size, flags.length, 'no candidate twice');
    const after = complete('ha', 'ipvs', 'add-service', '--scheduler', 'rr', '-');
    assert.ok(!after.includes('--scheduler') && after.includes('-t'), 'a flag given is not offered again');
    assert.deepEqual(complete('ha', 'bond', 'create', 'bond0', '--mode', '802'), ['802.3ad']);
    assert.deepEqual(complete('ha', 'route', 'add', '192.0.2.0/24', '--dev', 'l'), ['lo']);
    assert.deepEqual(complete('ha', 'ipvs', 'sync', ''), ['show', 'start', 'stop']);
    const nexthops = complete('ha', 'route', 'multipath', 'default', '--nexthop', '192.0.2.1', '-');
    assert.ok(nexthops.includes('--nexthop'), 'a repeatable flag stays on offer');
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
