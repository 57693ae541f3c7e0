/**
 * Boots User-Mode Linux once and runs every `*.uml.test.js` inside it (IPVS and bonding need that
 * kernel); each inner test is reported here as a subtest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsRoot } from '@ha/lib/testing';
import { runTestsInUml, umlTestFiles } from '@ha/lib/testing';

// the fault tests (signals and concurrent restores of thousands of services) take about as long as
// all the others together: they get a boot of their own, at the same time
const FAULTS = /faults\.uml\.test\.js$/;
const GROUPS = [['', (f: string) => !FAULTS.test(f)], ['faults', (f: string) => FAULTS.test(f)]] as const;

test('kernel tests inside User-Mode Linux', { skip: needsRoot, timeout: 30 * 60_000, concurrency: GROUPS.length }, async (t) => {
  const all = umlTestFiles();
  assert.ok(all.length > 0, 'no *.uml.test.js files were built');
  await Promise.all(GROUPS.map(async ([label, pick]) => {
    const files = all.filter(pick);
    if (files.length === 0) return;
    await t.test(`boot${label ? ` (${label})` : ''}`, async (b) => {
      const run = await runTestsInUml(files, { timeoutMs: 25 * 60_000 });
      const leaves = run.events.filter((e) => !(e.file && e.name === e.file) && !e.name.endsWith('.js'));
      assert.ok(leaves.length > 0, `no test ran inside UML (rc ${run.rc}):\n${run.output.slice(-3000)}\nmodprobe: ${run.modprobe}`);
      for (const e of leaves) {
        await b.test(`uml: ${e.name}`, { skip: e.skip }, () => {
          if (!e.passed) assert.fail(e.error ?? 'failed inside UML');
        });
      }
      assert.equal(run.rc, 0, `inner test run failed:\n${run.output.slice(-3000)}`);
    });
  }));
});
