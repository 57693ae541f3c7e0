/**
 * The man pages in man/ are generated from the commands' metadata by scripts/gen-man.ts: check that
 * they are up to date, that groff lints them clean, and that ha.1 lists every command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';

// dist/test/man.test.js -> repository root
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const manDir = join(root, 'man');

function manPages(): string[] {
  return readdirSync(manDir)
    .filter((f) => f.endsWith('.1'))
    .sort();
}

test('man pages are up to date with the commands', () => {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'scripts', 'gen-man.js'), '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `man/ is out of date: run \`npm run build && npm run man\` and commit man/.\n${r.stdout}${r.stderr}`);
});

test('every man page lints clean with groff -man -ww, rendered for a terminal', () => {
  const pages = manPages();
  assert.ok(pages.includes('ha.1'), 'man/ha.1 is missing: run `npm run man`');
  for (const page of pages) {
    // rendered for an 80-column terminal, as man(1) does: that is where lines that cannot be
    // broken show (-z alone typesets for a page)
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-rLL=78n', '-z', join(manDir, page)], { encoding: 'utf8' });
    assert.equal(r.error, undefined, `cannot run groff (is the groff package installed?): ${r.error?.message}`);
    assert.equal(r.stderr, '', `groff warnings in man/${page}:\n${r.stderr}`);
    assert.equal(r.status, 0, `groff failed on man/${page}`);
  }
});

test('ha.1 documents exit status, files, environment and every command', async () => {
  const text = readFileSync(join(manDir, 'ha.1'), 'utf8');
  // the text as a reader sees it: roff escapes for minus signs and font changes removed
  const plain = text.replaceAll('\\-', '-').replace(/\\f[BIRP]/g, '');
  for (const section of ['EXIT STATUS', 'FILES', 'ENVIRONMENT']) {
    assert.match(text, new RegExp(`^\\.SH "?${section}"?$`, 'm'), `ha.1 has no ${section} section`);
  }
  const config = await Config.load({ root, userPlugins: false, devPlugins: false });
  const ids = config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '));
  assert.ok(ids.length > 0, 'no commands found');
  for (const id of ids) {
    assert.ok(plain.includes(`ha ${id}\n`), `ha.1 does not list ha ${id}`);
    // and the command is documented on its page: ha-TOPIC.1, or ha-COMMAND.1 for a command without topic
    const page = `ha-${id.split(' ')[0] ?? id}.1`;
    const pageText = readFileSync(join(manDir, page), 'utf8').replaceAll('\\-', '-').replace(/\\f[BIRP]/g, '');
    assert.ok(pageText.includes(`ha ${id}`), `man/${page} does not document ha ${id}`);
  }
});
