/**
 * Build dist/ha.cjs: every module of ha's own that a command can load (the root package's, @ha/lib's
 * and each plugin's compiled ES modules, and @ha/native's loader), bundled into one CommonJS file.
 *
 * A command such as `ha ipvs list` imports about forty of these modules; Node's ES module loader
 * resolves each import (package exports, a realpath, a few stat calls), reads the file and compiles
 * it. In the emulated kernels of the benchmarks that costs: about a second of `ha ipvs list` under
 * qemu TCG, where Node's resolver runs as emulated code, and a tenth of it under User-Mode Linux,
 * where every system call is slow. bin/load-core.cjs loads this file (with a V8 code cache, as for
 * @oclif/core) the first time oclif imports one of the files it stands for, and hands oclif the
 * bundled module instead; every module is evaluated when first asked for, as before. Each module
 * exists once in the bundle, so the modules share their state and classes as they did.
 *
 * The bundle is used only while it is newer than what it was made from: it records the size and
 * modification time of each project's tsconfig.tsbuildinfo (which tsc rewrites whenever it writes
 * a file), and a start that finds them changed loads the modules themselves. HA_NO_BUNDLE=1 turns
 * it off as well.
 */
import { type Plugin, build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rel = (p: string): string => relative(root, p).split(sep).join('/');

/** The compiled ES modules under `dir`, leaving out tests and the testing helpers. */
function modules(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'testing' && e.name !== 'test') modules(p, out);
    } else if (e.name.endsWith('.js') && !e.name.endsWith('.test.js')) {
      out.push(p);
    }
  }
  return out;
}

const plugins = readdirSync(join(root, 'plugins')).filter((p) => existsSync(join(root, 'plugins', p, 'package.json'))).sort();
const projects = ['.', 'src/lib', ...plugins.map((p) => `plugins/${p}`)];
const files = [
  ...modules(join(root, 'dist', 'src')),
  ...modules(join(root, 'src', 'lib', 'dist', 'src')),
  ...plugins.flatMap((p) => modules(join(root, 'plugins', p, 'dist', 'src'))),
  join(root, 'src', 'native', 'index.js'),
];
// what the bundle was made from: tsc rewrites a project's build info whenever it writes an output
const madeFrom = projects.map((p) => {
  const info = join(root, p, 'dist', 'tsconfig.tsbuildinfo');
  const s = statSync(info);
  return [rel(info), s.size, s.mtimeMs];
});

const source = `module.exports = {
  madeFrom: ${JSON.stringify(madeFrom)},
  modules: [
${files.map((f) => `    [${JSON.stringify(rel(f))}, () => require(${JSON.stringify(f)})],`).join('\n')}
  ],
};
`;

// a module's import.meta.url is its own file's URL, not the bundle's
const ownUrl: Plugin = {
  name: 'own-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      if (text.includes('import.meta.url')) text = text.replaceAll('import.meta.url', `__haFileUrl(${JSON.stringify(rel(args.path))})`);
      // an import() of a computed specifier goes to the host's (a vm.Script has none of its own)
      if (text.includes('import(')) text = text.replace(/\bimport\((?!['"])/g, '__haImport(');
      return { contents: text, loader: 'js' };
    });
  },
};

const out = join(root, 'dist', 'ha.cjs');
const banner = [
  'var __haImport=typeof __haImportHost==="function"?__haImportHost:(s)=>import(s);',
  'var __haFileUrl=(f)=>require("node:url").pathToFileURL(require("node:path").join(__dirname,"..",f)).href;',
].join('');
const result = await build({
  stdin: { contents: source, resolveDir: root, sourcefile: 'ha-entry.cjs', loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: out,
  // @oclif/core is bin/load-core.cjs's bundle (one copy for everyone); prom-client is CommonJS,
  // loaded only by an agent serving metrics
  external: ['@oclif/core', '@oclif/core/*', 'prom-client'],
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
  // no keepNames: its helper renames every function made at run time (a closure per datagram on the
  // hot path); the error classes name themselves (this.name), and a function esbuild renames to
  // keep two modules' names apart (canonicalIp2) differs in stack traces only
  write: false,
  plugins: [ownUrl],
});
// what esbuild left as import() of a literal: the external packages (prom-client), for the host's import() too
const text = result.outputFiles[0]!.text.replace(/\bimport\((?=")/g, '__haImport(');
if (/\bimport\((?!\))/.test(text)) throw new Error(`bundle: an import() the loader would not see: ${text.match(/.{0,80}\bimport\((?!\)).{0,40}/)![0]}`);
const cache = `${out}.cache`;
rmSync(cache, { force: true });
writeFileSync(out, `/*ha-bundle:${randomBytes(16).toString('hex')}*/${banner}\n${text}`);
process.stdout.write(`bundle: ${rel(out)} (${files.length} modules, ${(result.outputFiles[0]!.contents.length / 1024).toFixed(0)} KiB)\n`);

// the code cache, made by a fresh process that has evaluated every module (so that it holds their
// top levels and what those call), then run a command's help
const warm = `
const { loadCore, loadHa } = require(${JSON.stringify(join(root, 'bin', 'load-core.cjs'))});
loadCore();
const ha = loadHa();
if (!ha) throw new Error('the bundle was not loaded (stale?)');
for (const [, load] of ha.exports.modules) load();
ha.writeCache();
`;
const made = spawnSync(process.execPath, ['-e', warm], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', HA_DATA_DIR: '/nonexistent' } });
if (made.status !== 0) throw new Error(`writing the code cache failed: ${made.stderr.trim()}`);
process.stdout.write(`code cache: ${rel(cache)} (${(readFileSync(cache).length / 1024).toFixed(0)} KiB)\n`);

