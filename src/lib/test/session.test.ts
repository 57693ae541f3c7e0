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
