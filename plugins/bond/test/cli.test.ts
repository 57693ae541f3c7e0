/**
 * The bond commands on this machine's own kernel, which has no bonding module, inside a network
 * namespace made for the test: bad input is exit 2 before the kernel is asked; a kernel without
 * bonding is named (exit 1); every command is documented and its enumerable flags list their values.
 */
import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Config } from '@oclif/core/config';
import { Netns, ha, needsRoot, oneLine } from '@ha/lib/testing';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
let ns: Netns | undefined;
before(() => { if (!needsRoot) ns = Netns.create('bond'); });
after(() => ns?.destroy());

test('without the bonding module: create says so (exit 1); list shows no bonds', { skip: needsRoot }, () => {
  ns!.ip('link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1');
  const r = ha(['bond', 'create', 'bond0', '--mode', 'active-backup', '--ports', 'p0'], { wrap: ns!.wrap });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(oneLine(r.stderr), 'ha: the bonding module is not available in this kernel: load it with "modprobe bonding" (or install a kernel that has it)');
  const l = ha(['bond', 'list', '--json'], { wrap: ns!.wrap });
  assert.equal(l.code, 0, l.stderr);
  assert.deepEqual(JSON.parse(l.stdout), { bonds: [] });
  const missing = ha(['bond', 'show', 'bond0'], { wrap: ns!.wrap });
  assert.equal(missing.code, 1);
  assert.equal(oneLine(missing.stderr), 'ha: bond bond0 does not exist');
  const notBond = ha(['bond', 'show', 'p0'], { wrap: ns!.wrap });
  assert.equal(notBond.code, 2);
  assert.equal(oneLine(notBond.stderr), 'ha: interface p0 is not a bond (it is a veth link)');
});

test('bad input is refused before the kernel is asked, even where bonding is missing', { skip: needsRoot }, () => {
  for (const [args, message] of [
    [['create', 'bond0', '--mode', '1', '--lacp-rate', 'fast'], /^ha: --lacp-rate is not valid in mode active-backup; it applies to 802\.3ad$/],
    [['create', 'bond0', '--mode', '1', '--ports', 'nosuch'], /^ha: port nosuch does not exist/],
    [['create', 'bond0', '--mode', 'fast'], /^ha: Expected --mode=fast to be one of: balance-rr, active-backup/],
  ] as const) {
    const r = ha(['bond', ...args], { wrap: ns!.wrap });
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), message);
  }
});

test('every bond command has a summary, a description, examples and --json; enumerable flags list their values', async () => {
  const config = await Config.load({ root, userPlugins: false, devPlugins: false });
  const cmds = config.commands.filter((c) => c.id.startsWith('bond:'));
  assert.deepEqual(cmds.map((c) => c.id).sort(), ['bond:add-port', 'bond:create', 'bond:delete', 'bond:export', 'bond:failover', 'bond:list', 'bond:remove-port', 'bond:set', 'bond:show', 'bond:watch']);
  for (const c of cmds) {
    assert.ok(c.summary && c.description && (c.examples ?? []).length > 0, c.id);
    assert.ok(c.flags.json, `${c.id} has --json`);
  }
  const create = cmds.find((c) => c.id === 'bond:create')!;
  for (const f of ['mode', 'lacp-rate', 'xmit-hash-policy', 'arp-validate', 'ad-select', 'fail-over-mac', 'primary-reselect', 'use-carrier']) {
    assert.ok(((create.flags[f] as { options?: string[] }).options ?? []).length > 1, `--${f} lists its values`);
  }
  assert.match(create.description!, /miimon 100/);
  assert.ok((create.flags['peer-notify-delay'] as { aliases?: string[] }).aliases?.includes('peer-notif-delay'));
});
