/**
 * Build dist/oclif-core.cjs: @oclif/core and the packages it loads, bundled into one file.
 *
 * @oclif/core is about a hundred CommonJS modules, all loaded before any command runs: a path
 * resolution, a few stat calls, a read and a compile for each. Inside User-Mode Linux (where the
 * IPVS benchmarks run) every system call costs ten times what it costs on the host, and loading
 * them was half of `ha`'s start-up. bin/run.cjs loads this one file instead and registers each of
 * its public entry points (@oclif/core, @oclif/core/command, /flags, …) in Node's module cache
 * under the file name it stands for, so that every import of @oclif/core, ours and the oclif
 * plugins', gets this same copy. The bundle records the @oclif/core version it was made from;
 * bin/run.cjs uses it only when that is the installed version, and otherwise loads @oclif/core as
 * usual (so a missing or stale bundle costs speed, never correctness).
 */
import { type Plugin, build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'package.json'));
const corePkg = require.resolve('@oclif/core/package.json');
const coreDir = dirname(corePkg);
const pkg = JSON.parse(readFileSync(corePkg, 'utf8')) as { version: string; exports: Record<string, string> };

// every entry point that resolves to a JavaScript file (not package.json)
const entries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'string' && target.endsWith('.js'))
  .map(([sub, target]) => ({ request: sub === '.' ? '@oclif/core' : `@oclif/core/${sub.slice(2)}`, file: join(coreDir, target) }));

const source = `module.exports = {
  version: ${JSON.stringify(pkg.version)},
  modules: [
${entries.map((e) => `    [${JSON.stringify(relative(coreDir, e.file))}, () => require(${JSON.stringify(e.request)})],`).join('\n')}
  ],
};
`;

const out = join(root, 'dist', 'oclif-core.cjs');
// bin/load-core.cjs compiles the bundle as a vm.Script (for V8's code cache), which has no import()
// of its own: every `await import(` in the bundled sources becomes __haImport, the loader's
// import() when it passes one, else this file's own (when loaded with require)
const banner = 'var __haImport=typeof __haImportHost==="function"?__haImportHost:(s)=>import(s);';
// `debug` (oclif's logger) loads tty, util and supports-color at every start to print nothing
// unless DEBUG is set: without DEBUG the logger gets functions that do nothing
const lazyDebug: Plugin = {
  name: 'lazy-debug',
  setup(b) {
    b.onResolve({ filter: /^debug$/ }, (args) => (args.namespace === 'ha' ? undefined : { path: 'debug', namespace: 'ha' }));
    b.onLoad({ filter: /^debug$/, namespace: 'ha' }, () => ({
      contents: 'const off = () => {}; off.enabled = false;\nmodule.exports = process.env.DEBUG ? require("debug") : () => off;\n',
      resolveDir: coreDir,
      loader: 'js',
    }));
  },
};
// built-in modules @oclif/core requires at its top level but a start-up does not use (a command's
// own code may): each is loaded when one of its exports is first looked at, not at every start
const LAZY = ['child_process', 'perf_hooks', 'readline'];
const lazyBuiltins: Plugin = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(node:)?(${LAZY.join('|')})$`) }, (args) =>
      args.namespace === 'ha-lazy' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'ha-lazy' });
    // an ES module's import of one (wsl-utils's) lists its exports when the module is evaluated:
    // the names come from this build's Node until the module itself is loaded
    b.onLoad({ filter: /.*/, namespace: 'ha-lazy' }, (args) => ({
      contents: `let m;
const load = () => (m ??= require(${JSON.stringify(`node:${args.path}`)}));
const names = ${JSON.stringify(Object.keys(require(`node:${args.path}`) as object))};
module.exports = new Proxy({}, {
  get: (_, k) => load()[k],
  has: (_, k) => k in load(),
  ownKeys: () => (m ? Reflect.ownKeys(m) : names),
  getOwnPropertyDescriptor: (_, k) => {
    if (!m && names.includes(k)) return { configurable: true, enumerable: true, writable: true, value: undefined };
    const d = Object.getOwnPropertyDescriptor(load(), k);
    return d && { ...d, configurable: true };
  },
});
`,
      loader: 'js',
    }));
  },
};
/**
 * oclif's own modules require, at their top level, every module any of their functions might use,
 * and its index re-exports each namespace (Args, Flags, Errors, Parser, …) eagerly: a start-up
 * evaluated all of @oclif/core, and screen.js's top level opens process.stdout and stderr (which
 * loads node:stream, net and tty). In each of oclif's files (TypeScript's CommonJS output) a
 * top-level `const x_1 = require("…")` becomes a function that requires on first call, and each
 * use of x_1 a call of it; the index's `exports.Flags = __importStar(require("./flags"))` becomes
 * a getter. TypeScript's output only ever reads such a binding (x_1.name, (0, x_1.fn)(…)), so a
 * module is now evaluated when a start-up first uses it, in the order it is used.
 */
function lazyRequires(text: string): string {
  const binding = /^(?:const|var) (\w+_\d+) = ((?:__importDefault|__importStar)?\(?require\("[^"]+"\)\)?);$/gm;
  const names: string[] = [];
  let out = text.replace(binding, (_, name: string, expr: string) => {
    names.push(name);
    return `var ${name}$m; function ${name}$() { return ${name}$m ??= ${expr}; }`;
  });
  if (names.length) {
    const use = new RegExp(`(?<![\\w$.])(${names.join('|')})\\b(?![$])`, 'g');
    // every line but the declarations themselves
    out = out.split('\n').map((line) => (line.startsWith('var ') && line.includes('$m; function ') ? line : line.replace(use, '($1$())'))).join('\n');
  }
  out = out.replace(/^exports\.(\w+) = (__importStar\(require\("[^"]+"\)\));$/gm, (_, name: string, expr: string) =>
    `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, configurable: true, get: ((m) => () => m ??= ${expr})() });`);
  return out;
}

/** Command IDs that ICU's root collation orders as their code units do (test/cli.test.ts checks it). */
const PLAIN_ID = '/^[a-z:-]*$/';

/** One edit of one of oclif's files: its text must contain `find`, which becomes `replace`. */
interface Edit { file: RegExp; find: string; replace: string; why: string }
const EDITS: Edit[] = [
  // the plugin loader matches each dependency against each of oclif.plugins with minimatch, which
  // compiles a pattern at every call; a pattern without glob syntax can only match itself
  { file: /[\\/]config[\\/]plugin-loader\.js$/, find: '(0, minimatch_1.minimatch)(p, w)', replace: '(/[*?[\\]{}()!+#\\\\]/.test(w) ? (0, minimatch_1.minimatch)(p, w) : p === w)', why: 'literal plugin names' },
  // oclif asks wsl-utils whether this is WSL at every start, and wsl-utils's evaluation touches
  // child_process (a promisify at its top level); its isWsl is is-wsl's, which touches nothing more
  { file: /[\\/]util[\\/]os\.js$/, find: "(await import('wsl-utils')).isWsl", replace: "(await import('is-wsl')).default", why: 'is-wsl only' },
  // a plugin's commands are sorted with localeCompare, whose first call sets up ICU's collator (a
  // sixth of `ha --version` on this machine); for IDs of lower-case letters, ':' and '-' only (all
  // of ha's) the collator's order is the order of code units, so those are compared directly
  { file: /[\\/]config[\\/]plugin\.js$/, find: '.sort((a, b) => a.id.localeCompare(b.id))', replace: `.sort((a, b) => (${PLAIN_ID}.test(a.id) && ${PLAIN_ID}.test(b.id) ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.id.localeCompare(b.id)))`, why: 'plain command IDs compared directly' },
  // a plugin's root is found with require.resolve, whose first resolution through a package's
  // exports loads Node's ES module resolver; a plugin installed in the root's own node_modules
  // (where Node's resolution looks first) is taken from there, its real path as resolve gives
  { file: /[\\/]util[\\/]find-root\.js$/, find: 'async function findRoot(name, root) {\n    if (name) {\n', replace: `async function findRoot(name, root) {
    if (name) {
        try {
            const direct = (0, node_path_1.join)(root, 'node_modules', name);
            if (require('node:fs').statSync((0, node_path_1.join)(direct, 'package.json')).isFile()) return require('node:fs').realpathSync(direct);
        } catch { }
`, why: 'plugins in node_modules found directly' },
  // oclif reads each package.json and manifest (a few KiB each) with fs/promises: the module itself
  // (it loads readline's interface), and a thread-pool round trip per file; read in one call instead
  { file: /[\\/]util[\\/]fs\.js$/, find: "await (0, promises_1.readFile)(path, 'utf8')", replace: "(0, node_fs_1.readFileSync)(path, 'utf8')", why: 'manifests read synchronously' },
  // the index checks Node's version against its engines at each start with semver and a read of
  // its package.json; bin/run.cjs checks ha's own (Node 20 or newer, stricter than oclif's)
  { file: /[\\/]@oclif[\\/]core[\\/]lib[\\/]index\.js$/, find: '\ncheckNodeVersion();\n', replace: '\n', why: 'the engines check in bin/run.cjs' },
];
const OCLIF_LIB = `${join(coreDir, 'lib')}/`;
const applied = new Set<Edit>();
const transform: Plugin = {
  name: 'ha-transform',
  setup(b) {
    b.onLoad({ filter: /\.c?js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      for (const edit of EDITS) {
        if (!edit.file.test(args.path)) continue;
        if (!text.includes(edit.find)) throw new Error(`bundle: ${args.path} no longer has ${edit.find} (${edit.why})`);
        text = text.replace(edit.find, edit.replace);
        applied.add(edit);
      }
      if (args.path.startsWith(OCLIF_LIB)) text = lazyRequires(text);
      // an import of a literal package name (wsl-utils, ESM, at every start) is left for esbuild to
      // bundle; one of a computed specifier (a command's file) goes to the host's import()
      return { contents: text.replace(/\bawait import\((?!['"])/g, 'await __haImport('), loader: 'js' };
    });
  },
};
const result = await build({
  stdin: { contents: source, resolveDir: root, sourcefile: 'oclif-core-entry.cjs', loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: out,
  // loaded only for TypeScript sources in development (ts-node), never by the built CLI
  external: ['typescript', 'ts-node'],
  logLevel: 'warning',
  legalComments: 'none',
  // smaller to read and parse at every start; names are kept for stack traces (DEBUG=ha*)
  minifyWhitespace: true,
  minifySyntax: true,
  write: false,
  plugins: [lazyDebug, lazyBuiltins, transform],
});
// an edit whose file is no longer bundled would otherwise be left out without a word
for (const edit of EDITS) if (!applied.has(edit)) throw new Error(`bundle: no bundled file matches ${edit.file} (${edit.why})`);
const text = result.outputFiles[0]!.text;
// a dynamic import is import( with an argument; "import()" in a message is not one
if (/\bimport\((?!\))/.test(text)) throw new Error(`bundle: an import() the loader would not see: ${text.match(/.{0,80}\bimport\((?!\)).{0,40}/)![0]}`);
const cache = `${out}.cache`;
rmSync(cache, { force: true });
// the build's identifier: bin/load-core.cjs takes a code cache only with the bundle it was made from
writeFileSync(out, `/*ha-bundle:${randomBytes(16).toString('hex')}*/${banner}\n${text}`);
process.stdout.write(`bundle: ${relative(root, out)} (@oclif/core ${pkg.version}, ${entries.length} entry points, ${(result.outputFiles[0]!.contents.length / 1024).toFixed(0)} KiB)\n`);

// V8's code cache of the bundle (bin/load-core.cjs), made by a fresh process after the start-up
// of `ha --version` so that it holds the functions every start compiles
const run = pathToFileURL(join(root, 'bin', 'run.cjs')).href;
const warm = `
import { createRequire } from 'node:module';
import { loadCore } from ${JSON.stringify(pathToFileURL(join(root, 'bin', 'load-core.cjs')).href)};
const core = loadCore();
if (!core) throw new Error('the bundle was not loaded');
const { execute } = createRequire(${JSON.stringify(run)})('@oclif/core/execute');
await execute({ dir: ${JSON.stringify(run)}, args: ['--version'] });
core.writeCache();
`;
const made = spawnSync(process.execPath, ['--input-type=module', '-e', warm], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
if (made.status !== 0) throw new Error(`writing the code cache failed: ${made.stderr.trim()}`);
process.stdout.write(`code cache: ${relative(root, cache)} (${(readFileSync(cache).length / 1024).toFixed(0)} KiB)\n`);
