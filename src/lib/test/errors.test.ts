/**
 * The error classes across two copies of errors.js (the bundled one and a plugin's own import of
 * @ha/lib): instanceof follows the class's brand, not the copy.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as one from '../src/errors.js';

test('an error made by another copy of the error classes is an instance of this copy\'s', async () => {
  const other = (await import(`${new URL('../src/errors.js', import.meta.url).href}?copy`)) as typeof one;
  assert.notEqual(other.UsageError, one.UsageError, 'two copies');
  const usage = new other.UsageError('bad flag');
  assert.ok(usage instanceof one.UsageError);
  assert.ok(usage instanceof one.HaError);
  assert.ok(usage instanceof Error);
  assert.ok(!(usage instanceof one.OperationError), 'a usage error is not an operation error');
  assert.ok(!(usage instanceof one.UnavailableError));
  const failed = new one.OperationError('refused', 'EINVAL');
  assert.ok(failed instanceof other.HaError && failed instanceof other.OperationError && !(failed instanceof other.UsageError));
  assert.ok(!(new Error('plain') instanceof one.HaError), 'a plain error is no HaError');
  for (const v of [null, undefined, 0, 'HaError', {}, { name: 'HaError', code: 'EFAILED' }]) assert.ok(!(v instanceof one.HaError), String(v));
});

test('a subclass without a brand of its own is matched by identity, not as its parent', () => {
  class Private extends one.HaError {}
  assert.ok(new Private('x') instanceof Private);
  assert.ok(new Private('x') instanceof one.HaError);
  assert.ok(!(new one.HaError('x') instanceof Private), 'the parent is not the subclass');
  assert.ok(!(new one.UsageError('x') instanceof Private));
});
