/**
 * The vrrp service inside a real `ha agent run` on a LAN node: Prometheus metrics over HTTP,
 * `ha vrrp watch --json` streaming transitions in order, demote/promote through the socket, and
 * the state file's vrrp section through `ha save` (kept) and `ha restore` (validated, the agent
 * told to reload).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { BIN, baseEnv, needsRoot, which } from '@ha/lib/testing';
import { startHa, type HaAgent } from './ha-node.js';
import { Lan, LanNode, waitFor } from './lan.js';

const skip = needsRoot || (!which('tcpdump') && 'needs tcpdump');

describe('the vrrp service in a running agent', { skip }, () => {
  let lan: Lan;
  let a: LanNode;
  let agent: HaAgent;
  const port = 9000 + (process.pid % 500);

  before(async () => {
    lan = await Lan.create({ nodes: ['a', 'b'] });
    a = lan.node('a');
    agent = await startHa(a, { instances: { VI_1: { interface: 'eth0', vrid: 51, priority: 150, version: 3, advertInterval: 0.1, vips: ['192.0.2.100/24'] } } }, { args: ['--metrics', `127.0.0.1:${port}`] });
    await agent.waitState('VI_1', 'MASTER', 5000);
  });
  after(async () => {
    await lan?.destroy();
  });

  test('--metrics serves every instance\'s state, priorities and counters in Prometheus text format', async () => {
    await new Promise((r) => setTimeout(r, 800));
    const r = a.exec([process.execPath, '-e', `fetch('http://127.0.0.1:${port}/metrics').then(async (r) => { process.stdout.write(r.headers.get('content-type') + '\\n' + await r.text()); })`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^text\/plain; version=0\.0\.4/);
    assert.match(r.stdout, /^ha_vrrp_state\{instance="VI_1",interface="eth0",vrid="51"\} 2$/m);
    assert.match(r.stdout, /^ha_vrrp_priority\{instance="VI_1",kind="effective"\} 150$/m);
    const sent = Number(/^ha_vrrp_adverts_sent_total\{instance="VI_1"\} (\d+)$/m.exec(r.stdout)?.[1]);
    assert.ok(sent > 5, `adverts sent: ${sent}`);
    assert.match(r.stdout, /^ha_vrrp_became_master_total\{instance="VI_1"\} 1$/m);
  });

  test('watch --json streams the transitions of demote and promote, in order, with timestamps', async () => {
    const b = lan.node('b');
    const peer = await startHa(b, { instances: { VI_1: { interface: 'eth0', vrid: 51, priority: 100, version: 3, advertInterval: 0.1, vips: ['192.0.2.100/24'] } } });
    const watch = spawn('ip', ['netns', 'exec', a.ns.name, process.execPath, BIN, 'vrrp', 'watch', 'VI_1', '--json', '--socket', agent.socket], { env: baseEnv() });
    let out = '';
    watch.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await new Promise((r) => setTimeout(r, 800));
      const demoted = agent.cli<{ effectivePriority: number }>(['vrrp', 'demote', 'VI_1', '--by', '100']);
      assert.equal(demoted.effectivePriority, 50);
      await peer.waitState('VI_1', 'MASTER', 3000);
      agent.cli(['vrrp', 'promote', 'VI_1']);
      await agent.waitState('VI_1', 'MASTER', 3000);
      await waitFor(() => out.split('\n').filter((l) => l.includes('"transition"')).length >= 2, 3000, 'two transitions watched');
      const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; time: string; type: string; data: { from: string; to: string; instance: string } });
      const transitions = lines.filter((l) => l.type === 'transition').map((l) => `${l.data.from}->${l.data.to}`);
      assert.deepEqual(transitions.slice(0, 2), ['MASTER->BACKUP', 'BACKUP->MASTER']);
      const seqs = lines.map((l) => l.seq);
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'in order');
      assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l.time)) && l.data.instance === 'VI_1'));
      const status = agent.status('VI_1')[0]!;
      assert.equal(status.lastTransition?.to, 'MASTER');
      assert.match(status.lastTransition?.reason ?? '', /lower priority|master down/);
    } finally {
      watch.kill();
      await peer.stop();
    }
  });

  test('ha save keeps the vrrp section; ha restore validates it and the agent reloads', () => {
    const before = readFileSync(agent.stateFile, 'utf8');
    const saved = a.exec(['env', `HA_AGENT_SOCKET=${agent.socket}`, `HA_RUN_DIR=${lan.dir}/run-save`, process.execPath, BIN, 'save', '--state', agent.stateFile, '--json']);
    assert.equal(saved.status, 0, saved.stderr);
    const report = JSON.parse(saved.stdout) as { sections: Array<{ name: string; status: string }> };
    assert.equal(report.sections.find((s) => s.name === 'vrrp')?.status, 'kept');
    assert.deepEqual(JSON.parse(readFileSync(agent.stateFile, 'utf8')).vrrp, JSON.parse(before).vrrp);
    // a changed priority through restore: validated, and the running agent reloads it
    agent.write({ instances: { VI_1: { interface: 'eth0', vrid: 51, priority: 200, version: 3, advertInterval: 0.1, vips: ['192.0.2.100/24'] } } });
    const restored = a.exec(['env', `HA_AGENT_SOCKET=${agent.socket}`, `HA_RUN_DIR=${lan.dir}/run-save`, process.execPath, BIN, 'restore', '--state', agent.stateFile]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.match(restored.stdout + restored.stderr, /agent/i);
    assert.equal(agent.status('VI_1')[0]!.basePriority, 200);
    assert.equal(agent.state('VI_1'), 'MASTER');
    // an instance on an interface this node does not have: refused, nothing reloaded
    agent.write({ instances: { VI_1: { interface: 'nosuch0', vrid: 51, priority: 200, vips: ['192.0.2.100/24'] } } });
    const bad = a.exec(['env', `HA_AGENT_SOCKET=${agent.socket}`, `HA_RUN_DIR=${lan.dir}/run-save`, process.execPath, BIN, 'restore', '--state', agent.stateFile]);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /^ha: .*no interface nosuch0/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.equal(agent.status('VI_1')[0]!.interface, 'eth0');
  });
});
