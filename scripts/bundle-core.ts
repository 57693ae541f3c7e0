/**
 * Build dist/oclif-core.cjs: @oclif/core and the packages it loads, bundled into one file.
 *
 * @oclif/core is about a hundred CommonJS modules, all loaded before any command runs: a path
 * resolution, a few stat calls, a read and a compile for each. Inside User-Mode Linux (where the
 * IPVS benchmarks run) every system call costs ten times what it costs on the host, and loading
 * them was half of `ha`'s start-up. bin/run.js loads this one file instead and registers each of
 * its public entry points (@oclif/core, @oclif/core/command, /flags, …) in Node's module cache
 * under the file name it stands for, so that every import of @oclif/core, ours and the oclif
 * plugins', gets this same copy. The bundle records the @oclif/core version it was made from;
 * bin/run.js uses it only when that is the installed version, and otherwise loads @oclif/core as
 * usual (so a missing or stale bundle costs speed, never correctness).
 */
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
});
writeFileSync(out, result.outputFiles[0]!.contents);
process.stdout.write(`bundle: ${relative(root, out)} (@oclif/core ${pkg.version}, ${entries.length} entry points, ${(result.outputFiles[0]!.contents.length / 1024).toFixed(0)} KiB)\n`);
