/**
 * Boots User-Mode Linux once and runs every `*.uml.test.js` inside it (IPVS and bonding need that
 * kernel); each inner test is reported here as a subtest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsRoot } from '@ha/lib/testing';
import { runTestsInUml, umlTestFiles } from '@ha/lib/testing';

test('kernel tests inside User-Mode Linux', { skip: needsRoot, timeout: 30 * 60_000 }, async (t) => {
  const files = umlTestFiles();
  assert.ok(files.length > 0, 'no *.uml.test.js files were built');
  const run = await runTestsInUml(files);
  const leaves = run.events.filter((e) => !(e.file && e.name === e.file) && !e.name.endsWith('.js'));
  assert.ok(leaves.length > 0, `no test ran inside UML (rc ${run.rc}):\n${run.output.slice(-3000)}\nmodprobe: ${run.modprobe}`);
  for (const e of leaves) {
    await t.test(`uml: ${e.name}`, { skip: e.skip }, () => {
      if (!e.passed) assert.fail(e.error ?? 'failed inside UML');
    });
  }
  assert.equal(run.rc, 0, `inner test run failed:\n${run.output.slice(-3000)}`);
});
