/**
 * The test command: every unit, CLI and kernel test, in one node:test run, ending with a line
 * "N passed, N failed, N skipped".
 *
 * Files: src/lib/dist/test, dist/test and plugins/<name>/dist/test, `*.test.js`. Files named
 * `*.uml.test.js` are not run here: test/kernel/uml.test.js boots User-Mode Linux once and runs them
 * all inside it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '@ha/lib/testing';

function collect(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'fixtures') collect(p, out);
    } else if (e.name.endsWith('.test.js') && !e.name.endsWith('.uml.test.js')) {
      out.push(p);
    }
  }
}

const files: string[] = [];
const only = process.argv.slice(2);
collect(join(ROOT, 'src', 'lib', 'dist', 'test'), files);
collect(join(ROOT, 'dist', 'test'), files);
const plugins = join(ROOT, 'plugins');
if (existsSync(plugins)) for (const p of readdirSync(plugins).sort()) collect(join(plugins, p, 'dist', 'test'), files);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
process.stdout.write(`Running ${selected.length} test files:\n${selected.map((f) => `  ${relative(ROOT, f)}`).join('\n')}\n\n`);

const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...selected], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (b: Buffer) => {
  process.stdout.write(b);
  // node's spec reporter lists failures again after its summary: keep enough to find the summary
  tail = (tail + b.toString('utf8')).slice(-2_000_000);
});
child.on('exit', (code, signal) => {
  const count = (word: string): number => {
    const all = [...tail.matchAll(new RegExp(`(?:^|\\n)\\S* ?${word} (\\d+)`, 'g'))];
    return Number(all.at(-1)?.[1] ?? 0);
  };
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  const skipped = count('skipped');
  process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exitCode = code ?? (signal ? 1 : 0);
  if (passed === 0 && process.exitCode === 0) process.exitCode = 1;
});
