/**
 * The step engine on a fake kernel (no root): pipelined netlink steps, a refusal midway, and the
 * undo requests that follow it, checked request by request.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { NETLINK_ROUTE, NLM_F_ACK, defaultHandle, useDefaultHandle, type Request } from '../src/netlink/index.js';
import { runSteps, type Step } from '../src/steps.js';
import { FakeKernel } from '../src/testing/fake-netlink.js';

afterEach(() => useDefaultHandle(undefined));

const ADD = 0x7001;
const DEL = 0x7002;
const req = (type: number, n: number): Request => ({ type, payload: Buffer.from([n, 0, 0, 0]), context: { object: `thing ${n}` } });

function steps(count: number): Step[] {
  const session = defaultHandle().session(NETLINK_ROUTE);
  return Array.from({ length: count }, (_, n) => ({
    op: 'add' as const, object: `thing ${n}`,
    apply: async () => { await session.request(req(ADD, n)); },
    undo: async () => { await session.request(req(DEL, n)); },
    netlink: { session, request: req(ADD, n), undo: req(DEL, n), bulk: { window: 8, perDatagram: 4 } },
  }));
}

test('a plan goes out pipelined and applies whole when the kernel takes it', async () => {
  const kernel = new FakeKernel();
  useDefaultHandle(kernel.handle());
  const result = await runSteps([{ name: 'things', steps: steps(10) }]);
  assert.deepEqual(result, { applied: 10 });
  assert.deepEqual(kernel.sent(ADD).map((r) => r.data[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // four to a datagram, and only the last of each asks for an ACK (the kernel reports errors anyway)
  assert.deepEqual(kernel.sent(ADD).map((r) => Boolean(r.flags & NLM_F_ACK)), [false, false, false, true, false, false, false, true, false, true]);
  assert.equal(kernel.sent(DEL).length, 0);
});

test('a refusal midway: what was made is undone, newest first, and the failure names the step and the kernel\'s reason', async () => {
  const made = new Set<number>();
  const kernel = new FakeKernel((r) => {
    const n = r.data[0]!;
    if (r.type === ADD) {
      if (n === 6) return { error: 22, extAck: 'Invalid prefsrc address' };
      made.add(n);
    } else if (r.type === DEL) {
      made.delete(n);
    }
    return undefined;
  });
  useDefaultHandle(kernel.handle());
  const result = await runSteps([{ name: 'things', steps: steps(10) }]);
  assert.equal(result.applied, 0);
  assert.equal(result.failure?.change.object, 'thing 6');
  assert.equal(result.failure?.message, 'thing 6: invalid prefsrc address');
  // the two datagrams in flight when the refusal came back ([4-7], [8, 9]) were handled by the
  // kernel: everything it made is undone, newest first, and nothing more was sent
  assert.equal(result.failure?.undone, 9);
  assert.deepEqual(result.failure?.undoErrors, []);
  assert.deepEqual(kernel.sent(ADD).map((r) => r.data[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(kernel.sent(DEL).map((r) => r.data[0]), [9, 8, 7, 5, 4, 3, 2, 1, 0]);
  assert.deepEqual([...made], [], 'the kernel is as it was');
});

test('a step whose request cannot be built (read as it is sent) fails there: nothing after it is sent, what was made is undone', async () => {
  const kernel = new FakeKernel();
  useDefaultHandle(kernel.handle());
  const list = steps(10);
  let reads = 0;
  Object.defineProperty(list[5]!.netlink!, 'request', { get() { reads++; throw new Error('thing 5: cannot be encoded'); } });
  const result = await runSteps([{ name: 'things', steps: list }]);
  assert.equal(reads, 1);
  assert.equal(result.applied, 0);
  assert.equal(result.failure?.change.object, 'thing 5');
  assert.equal(result.failure?.message, 'thing 5: cannot be encoded');
  assert.equal(result.failure?.undone, 5);
  assert.deepEqual(kernel.sent(ADD).map((r) => r.data[0]), [0, 1, 2, 3, 4]);
  assert.deepEqual(kernel.sent(DEL).map((r) => r.data[0]), [4, 3, 2, 1, 0]);
});

test('an undo the kernel refuses is reported, the others still made', async () => {
  const kernel = new FakeKernel((r) => (r.type === ADD && r.data[0] === 3 ? { error: 17 } : r.type === DEL && r.data[0] === 1 ? { error: 16 } : undefined));
  useDefaultHandle(kernel.handle());
  const result = await runSteps([{ name: 'things', steps: steps(5) }]);
  assert.equal(result.failure?.message, 'thing 3 already exists');
  // 0-2 and 4 (in flight) were made; the undo of 1 failed
  assert.equal(result.failure?.undone, 3);
  assert.deepEqual(result.failure?.undoErrors, ['add thing 1: thing 1: resource busy']);
});
