/**
 * holdYoungGeneration: once called, a process that keeps most of what it allocates no longer grows
 * V8's young generation (without it, the same work grows it from 1 to 32 MB). Each case runs in a
 * process of its own, since V8's flags are the process's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const heap = fileURLToPath(new URL('../src/heap.js', import.meta.url));

/** The young generation's size (bytes) before and after keeping 400,000 small objects. */
function youngGrowth(hold: boolean): { before: number; after: number } {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { holdYoungGeneration } from ${JSON.stringify(heap)};
    const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    ${hold ? 'holdYoungGeneration(); holdYoungGeneration();' : ''}
    const before = young();
    const kept = [];
    for (let i = 0; i < 400000; i++) kept.push({ address: 'x' + i, port: i & 65535, weight: 1 });
    console.log(JSON.stringify({ before, after: young(), kept: kept.length }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { before: number; after: number };
}

test('without the hold, keeping many objects grows the young generation', () => {
  const { before, after } = youngGrowth(false);
  assert.ok(after >= 8 * before, `${before} -> ${after}`);
});

test('with the hold, the young generation keeps its size', () => {
  // (its second semispace is committed at the first collection: the size doubles once)
  const { before, after } = youngGrowth(true);
  assert.ok(after <= 2 * before, `${before} -> ${after}`);
});
