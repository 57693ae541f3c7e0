/**
 * Sessions on the fake kernel: notifications reach subscribers, and a receive-queue overrun
 * (ENOBUFS) fails what was pending and tells subscribers to read the state again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NETLINK_ROUTE, type NetlinkMessage } from '../src/netlink/index.js';
import { FakeKernel } from '../src/testing/fake-netlink.js';
import type { HaError } from '../src/errors.js';

const GROUP = 1;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a subscriber hears its group\'s notifications, then ENOBUFS, and pending requests fail with it', async () => {
  // the request hangs: the fake answers nothing until the overrun
  let hold = true;
  const kernel = new FakeKernel(() => (hold ? { silent: true } : undefined));
  const handle = kernel.handle();
  const session = handle.session(NETLINK_ROUTE);
  const heard: NetlinkMessage[] = [];
  const errors: HaError[] = [];
  const stop = session.subscribe(GROUP, (m) => heard.push(m), (e) => errors.push(e));
  try {
    kernel.notify(NETLINK_ROUTE, GROUP, { type: 16, data: Buffer.from([1, 2, 3, 4]) });
    kernel.notify(NETLINK_ROUTE, GROUP + 1, { type: 16, data: Buffer.from([5, 6, 7, 8]) });
    await tick();
    assert.deepEqual(heard.map((m) => [m.type, [...m.data]]), [[16, [1, 2, 3, 4]]]);

    // a dump whose replies never finish: the overrun ends it with an error that says what happened
    const dump = session.dump({ type: 18, payload: Buffer.alloc(16) });
    await tick();
    kernel.overrun(NETLINK_ROUTE);
    await assert.rejects(dump, (e: HaError) => e.code === 'ENOBUFS' && /receive queue overran/.test(e.message));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'ENOBUFS');
    hold = false;
    // the session still works afterwards
    await session.request({ type: 19, payload: Buffer.alloc(16) });
  } finally {
    stop();
    handle.close();
  }
  assert.equal(kernel.openSockets, 0);
});

test('dumpEach decodes each reply as it arrives, keeps what decode returns in order, and fails the dump when decode throws', async () => {
  const kernel = new FakeKernel((req) => (req.type === 18 ? { replies: [1, 2, 3, 4].map((n) => ({ type: 16, data: Buffer.from([n, 0, 0, 0]) })) } : undefined));
  const handle = kernel.handle();
  const session = handle.session(NETLINK_ROUTE);
  try {
    // undefined is dropped; the data is read during the call (a view that is not kept)
    const odd = await session.dumpEach({ type: 18, payload: Buffer.alloc(16) }, (m) => (m.data[0]! % 2 ? m.data[0]! * 10 : undefined));
    assert.deepEqual(odd, [10, 30]);
    // the same replies as dump() gives
    const all = await session.dumpEach({ type: 18, payload: Buffer.alloc(16) }, (m) => [...m.data]);
    assert.deepEqual(all, (await session.dump({ type: 18, payload: Buffer.alloc(16) })).map((m) => [...m.data]));
    // a decode that throws: the dump fails with that error, and only the first failure counts
    let calls = 0;
    await assert.rejects(session.dumpEach({ type: 18, payload: Buffer.alloc(16) }, (m) => {
      calls++;
      if (m.data[0] === 2) throw new Error('bad reply 2');
      return m.data[0];
    }), /bad reply 2/);
    assert.equal(calls, 2, 'nothing more is decoded after a failure');
    // the session still works afterwards
    assert.deepEqual(await session.dumpEach({ type: 18, payload: Buffer.alloc(16) }, (m) => m.data[0]), [1, 2, 3, 4]);
  } finally {
    handle.close();
  }
  assert.equal(kernel.openSockets, 0);
});
