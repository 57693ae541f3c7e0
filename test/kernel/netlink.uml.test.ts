/**
 * Runs inside User-Mode Linux (see uml.test.ts): the shared netlink layer against a kernel that has
 * IPVS, read back with ipvsadm.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '@ha/lib/testing';

const probe = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'test', 'kernel', 'probe.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim() ? JSON.parse(r.stdout) : undefined, err: r.stderr.trim() };
};

test('the IPVS generic netlink family resolves, once per process', () => {
  const r = probe('family', 'IPVS');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.family.name, 'IPVS');
  assert.ok(r.out.family.id > 16, `dynamic family id, got ${r.out.family.id}`);
  assert.equal(r.out.cachedWithoutRequest, true);
});

test('IPVS_CMD_GET_INFO matches what ipvsadm reports', () => {
  const r = probe('ipvs-info');
  assert.equal(r.code, 0, r.err);
  const ipvsadm = spawnSync('ipvsadm', ['-Ln'], { encoding: 'utf8' });
  assert.equal(ipvsadm.status, 0, ipvsadm.stderr);
  const m = /IP Virtual Server version (\d+\.\d+\.\d+) \(size=(\d+)\)/.exec(ipvsadm.stdout);
  assert.ok(m, ipvsadm.stdout);
  assert.equal(r.out.version, m[1]);
  assert.equal(r.out.connTabSize, Number(m[2]));
});

test('an unknown family is reported as unavailable, naming it', () => {
  const r = probe('family', 'NOSUCHFAM');
  assert.equal(r.code, 1);
  assert.equal(r.err, 'generic netlink family NOSUCHFAM is not available in this kernel: load its module');
});

test('veth and bulk requests work on the UML kernel too (6.1)', () => {
  const r = probe('bulk-veth', 'u', '20', '8', '4');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.ok, 20);
  assert.ok(r.out.datagrams < 20, `batched: ${r.out.datagrams} datagrams for 20 requests`);
  const ip = JSON.parse(spawnSync('ip', ['-j', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' }).stdout) as Array<{ ifname: string }>;
  assert.equal(ip.filter((l) => /^u\d+[ab]$/.test(l.ifname)).length, 40);
});
