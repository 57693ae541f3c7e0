/**
 * The shared netlink layer against the host kernel, inside network namespaces this test creates
 * and removes; everything read back with ip(8).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '@ha/lib/testing';
import { Netns, needsRoot } from '@ha/lib/testing';

const PROBE = join(ROOT, 'dist', 'test', 'kernel', 'probe.js');
let ns: Netns;

before(() => {
  if (!needsRoot) ns = Netns.create('nl');
});
after(() => ns?.destroy());

const probe = (...args: string[]) => {
  const r = ns.exec([process.execPath, PROBE, ...args]);
  return { code: r.status, out: r.stdout.trim() ? JSON.parse(r.stdout) : undefined, err: r.stderr.trim() };
};

interface IpLink { ifindex: number; ifname: string; mtu: number; address: string; flags: string[]; operstate: string; linkinfo?: { info_kind: string } }

test('a veth pair created over netlink reads back the same with ip -d -j link', { skip: needsRoot }, () => {
  const r = probe('veth', 'hv0', 'hv1');
  assert.equal(r.code, 0, r.err);
  const ours = r.out as Array<{ index: number; name: string; mtu: number; address: string; up: boolean; kind: string }>;
  const ip = ns.ipJson<IpLink[]>('-d', 'link', 'show', 'type', 'veth');
  assert.deepEqual(ip.map((l) => l.ifname).sort(), ['hv0', 'hv1']);
  for (const l of ours) {
    const ref = ip.find((x) => x.ifname === l.name)!;
    assert.equal(l.index, ref.ifindex);
    assert.equal(l.mtu, ref.mtu);
    assert.equal(l.address, ref.address);
    assert.equal(l.kind, ref.linkinfo?.info_kind);
    assert.equal(l.up, ref.flags.includes('UP'));
  }
  // and what ip lists, our dump lists too
  const all = probe('links').out as Array<{ name: string; index: number }>;
  const ipAll = ns.ipJson<IpLink[]>('link', 'show');
  assert.deepEqual(all.map((l) => `${l.index}:${l.name}`).sort(), ipAll.map((l) => `${l.ifindex}:${l.ifname}`).sort());
});

test('kernel errors name the object: an existing link, a missing link', { skip: needsRoot }, () => {
  const again = probe('veth', 'hv0', 'hv1');
  assert.equal(again.code, 1);
  assert.equal(again.err, 'interface hv0 already exists');
  const missing = probe('link', 'nosuch0');
  assert.equal(missing.code, 1);
  assert.equal(missing.err, 'interface nosuch0 does not exist');
});

test('bulk requests: pipelined with a bounded window, several messages per datagram', { skip: needsRoot }, () => {
  const r = probe('bulk-veth', 'bk', '100', '32', '8');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.ok, 100);
  assert.ok(r.out.datagrams <= 100 / 8 + 4, `100 requests in ${r.out.datagrams} datagrams`);
  const ip = ns.ipJson<IpLink[]>('link', 'show', 'type', 'veth');
  assert.equal(ip.filter((l) => /^bk\d+[ab]$/.test(l.ifname)).length, 200);
  // a failure in the middle is reported for that request only (stopOnError false)
  const del = probe('bulk-delete', 'bk', '101');
  assert.equal(del.out.ok, 100);
  assert.deepEqual(del.out.errors, ['interface bk100a: no such device']);
  assert.equal(ns.ipJson<IpLink[]>('link', 'show', 'type', 'veth').filter((l) => l.ifname.startsWith('bk')).length, 0);
});
