/**
 * Netlink handles into other network namespaces (as root): each handle's sockets live in its
 * namespace, the process stays in its own, and closing a handle closes its sockets.
 */
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { test } from 'node:test';
import { NETLINK_ROUTE, NetlinkHandle, RTM_GETLINK, RTM_NEWLINK, decodeLink, encodeIfInfo } from '../src/netlink/index.js';
import { Netns, needsRoot } from '../src/testing/index.js';

const names = async (h: NetlinkHandle): Promise<string[]> => {
  const msgs = await h.session(NETLINK_ROUTE).dump({ type: RTM_GETLINK, payload: encodeIfInfo() });
  return msgs.filter((m) => m.type === RTM_NEWLINK).map((m) => decodeLink(m).name).sort();
};

test('a handle per namespace sees that namespace\'s links; the process stays where it was', { skip: needsRoot }, async () => {
  const a = Netns.create('ha');
  const b = Netns.create('hb');
  const before = readlinkSync('/proc/thread-self/ns/net');
  try {
    a.ip('link', 'add', 'hx0', 'type', 'veth', 'peer', 'name', 'hx1');
    b.ip('link', 'add', 'hy0', 'type', 'veth', 'peer', 'name', 'hy1');
    const ha = new NetlinkHandle({ netns: `/run/netns/${a.name}` });
    const hb = new NetlinkHandle({ netns: `/run/netns/${b.name}` });
    try {
      const [inA, inB] = await Promise.all([names(ha), names(hb)]);
      assert.deepEqual(inA, ['hx0', 'hx1', 'lo']);
      assert.deepEqual(inB, ['hy0', 'hy1', 'lo']);
      assert.equal(readlinkSync('/proc/thread-self/ns/net'), before);
    } finally {
      ha.close();
      hb.close();
    }
    // a namespace that does not exist is named in the error
    const none = new NetlinkHandle({ netns: '/run/netns/ha-no-such-namespace' });
    await assert.rejects(names(none), /ha-no-such-namespace/);
    none.close();
  } finally {
    a.destroy();
    b.destroy();
  }
});
