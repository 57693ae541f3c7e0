/**
 * ha's VRRP speaker in the situations its users fear, on a real LAN of namespaces (lan.ts) with
 * `ha agent run` on two nodes (ha-node.ts): reloads that must not touch a running master,
 * a split brain seen by `ha vrrp peers` from a third host and healed, trackers moving the
 * priority, notifications in order and under a timeout, and a restart after a crash. Each test
 * asserts what the wire (tcpdump on the hub), the kernel (addresses, `ip monitor`) and the agent
 * (status, events, log) say, and prints the figures it measured.
 */
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AgentClient } from '@ha/lib/agent';
import { BIN, baseEnv, needsRoot, which } from '@ha/lib/testing';
import type { Instance, VrrpSection } from '../src/model.js';
import type { InstanceStatus } from '../src/speaker.js';
import { Capture, FILTER, Lan, LanNode, Packet, now } from './lan.js';
import { HaAgent, startHa } from './ha-node.js';

const missing = ['tcpdump', 'nft'].filter((c) => !which(c));
const skip = needsRoot || (missing.length > 0 && `needs ${missing.join(', ')} (apt-get install -y ${missing.join(' ')})`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const figure = (text: string): void => console.log(`  figure: ${text}`);
const s3 = (x: number): string => `${x.toFixed(3)} s`;

/** v2 skew (256-P)/256 s; v3 (256-P) x interval / 256. */
const masterDown = (prio: number, interval = 1, version: 2 | 3 = 2): number => 3 * interval + ((256 - prio) / 256) * (version === 3 ? interval : 1);
const near = (measured: number, expected: number, tolerance: number, what: string): void =>
  assert.ok(Math.abs(measured - expected) <= tolerance, `${what}: measured ${s3(measured)}, expected ${s3(expected)} ± ${tolerance} s`);

const instance = (vrid: number, priority: number, vips: string[], more: Partial<Instance> = {}): Instance => ({ interface: 'eth0', vrid, priority, vips, ...more });

/** The longest time between consecutive packets (seconds), and where it was. */
function maxGap(packets: Packet[]): { gap: number; at?: number } {
  let out: { gap: number; at?: number } = { gap: 0 };
  for (let k = 1; k < packets.length; k++) {
    const gap = packets[k]!.t - packets[k - 1]!.t;
    if (gap > out.gap) out = { gap, at: packets[k - 1]!.t };
  }
  return out;
}

/** Runs `ha ARGS` in NODE's namespace (no agent needed) and waits for it. */
async function haIn(node: LanNode, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const out: Record<'stdout' | 'stderr', string[]> = { stdout: [], stderr: [] };
  const proc = node.spawn([process.execPath, BIN, ...args], { env: baseEnv(), onLine: (line, stream) => out[stream].push(line) });
  await proc.exited;
  // the pipes may deliver their last lines after the exit
  await sleep(50);
  return { code: proc.code, stdout: out.stdout.join('\n'), stderr: out.stderr.join('\n') };
}

/** Drops VRRP between two hosts' switch ports only (both directions); other hosts still see both. Returns the undo. */
function blockBetween(lan: Lan, x: LanNode, y: LanNode): () => void {
  const nft = (script: string): void => {
    const r = lan.hub.exec(['nft', '-f', '-'], `${script}\n`);
    if (r.status !== 0) throw new Error(`nft in the hub: ${r.stderr.trim()}`);
  };
  const rules = [[x, y], [y, x]].flatMap(([i, o]) => [
    `    iifname "${i!.hubPort}" oifname "${o!.hubPort}" ip protocol 112 drop`,
    `    iifname "${i!.hubPort}" oifname "${o!.hubPort}" ip6 nexthdr 112 drop`,
  ]);
  nft(['table bridge ha_between {', '  chain forward {', '    type filter hook forward priority -10; policy accept;', ...rules, '  }', '}'].join('\n'));
  return () => nft('delete table bridge ha_between');
}

const statusOf = (agent: HaAgent, name: string): InstanceStatus => {
  const s = agent.status(name)[0];
  assert.ok(s, `${agent.node.name}: no status for ${name}`);
  return s;
};

// ---------------------------------------------------------------------------------------------

describe('reload while master (VRRPv2, advert 1 s)', { skip }, () => {
  const VIP = '192.0.2.100';
  let lan: Lan;
  let a: LanNode;
  let b: LanNode;
  let ha: HaAgent;
  let hb: HaAgent;
  let cap: Capture;
  const vi1 = (priority: number, vips = [`${VIP}/24`]): Instance => instance(1, priority, vips);
  /**
   * Other instances on A for reload K: OTHER_0 always (its priority changes, its VIP changes at
   * k = 15), OTHER_1 until k = 9 (long enough to become master: its VIP is deleted at k = 10),
   * OTHER_2 from k = 12 with a changing priority, OTHER_3 every other reload.
   */
  const others = (k: number): Record<string, Instance> => {
    const out: Record<string, Instance> = {};
    out.OTHER_0 = instance(20, 100 + ((k * 7) % 50), [k < 15 ? '192.0.2.200/32' : '192.0.2.210/32']);
    if (k < 10) out.OTHER_1 = instance(21, 100, ['192.0.2.201/32']);
    if (k >= 12) out.OTHER_2 = instance(22, 90 + k, ['192.0.2.202/32']);
    if (k % 2 === 0) out.OTHER_3 = instance(23, 100, ['192.0.2.203/32'], { version: 3, advertInterval: 0.5 });
    return out;
  };

  before(async () => {
    lan = await Lan.create({ nodes: ['a', 'b'] });
    [a, b] = [lan.node('a'), lan.node('b')];
    cap = await lan.capture('hub', FILTER.vrrp);
    ha = await startHa(a, { instances: { VI_1: vi1(150) } });
    await ha.waitState('VI_1', 'MASTER', 8000);
    hb = await startHa(b, { instances: { VI_1: vi1(100) } });
    await hb.waitState('VI_1', 'BACKUP', 5000);
  });
  after(() => lan?.destroy());

  test('20 reloads of other instances (agent reload and SIGHUP): VI_1 keeps its VIP and its advert rhythm', async () => {
    const monitor = a.spawn(['ip', 'monitor', 'address'], { label: 'ip-monitor' });
    await sleep(300);
    const t0 = now();
    let sighups = 0;
    const summaries: string[] = [];
    for (let k = 0; k < 20; k++) {
      // OTHER_1 goes at k = 10: it must have become master first (its VIP's deletion is what shows
      // that the monitor works). Before the branch: k = 9 is a SIGHUP reload.
      if (k === 9) await lan.waitFor(() => a.vips().includes('192.0.2.201'), 5000, 'OTHER_1 master on A');
      ha.write({ instances: { VI_1: vi1(150), ...others(k) } });
      if (k % 5 === 4) {
        ha.proc.send('SIGHUP');
        sighups++;
        await sleep(400);
      } else {
        const r = ha.reload() as { ok: boolean; changes: Array<{ lines: string[] }> };
        assert.equal(r.ok, true, `reload ${k}: ${JSON.stringify(r)}`);
        summaries.push(...r.changes.flatMap((c) => c.lines));
      }
    }
    // the last one was a SIGHUP: wait until it has taken (the instances of others(19) run)
    await lan.waitFor(() => {
      const names = ha.status().map((s) => s.name).sort();
      return JSON.stringify(names) === JSON.stringify(['VI_1', ...Object.keys(others(19))].sort());
    }, 5000, 'the last reload applied');
    await sleep(1500);
    const t1 = now();
    await monitor.stop();
    const deletions = monitor.lines().filter((l) => /^Deleted/.test(l));
    const deleted = deletions.filter((l) => l.includes(`${VIP}/`));
    const ours = cap.vrrp({ from: a, vrid: 1, since: t0, until: t1 });
    const gap = maxGap(ours);
    figure(`20 reloads (${sighups} by SIGHUP) in ${s3(t1 - t0)}; ${ours.length} VI_1 adverts from A, longest gap ${s3(gap.gap)}; ${deletions.length} address deletions (${deletions.map((l) => l.match(/inet6? (\S+)/)?.[1]).join(', ')}), ${deleted.length} of ${VIP}`);
    assert.ok(summaries.some((l) => /OTHER_\d/.test(l)), `the reloads changed the other instances: ${summaries.join('; ')}`);
    // the monitor works: the VIPs of the other instances that had become master were deleted
    assert.ok(deletions.some((l) => l.includes('192.0.2.201/')) && deletions.some((l) => l.includes('192.0.2.200/')), `ip monitor saw: ${deletions.join(' | ')}`);
    assert.deepEqual(deleted, [], `${VIP} was deleted during a reload:\n${deleted.join('\n')}`);
    assert.ok(ours.length >= Math.floor(t1 - t0) - 1, `A advertised ${ours.length} times in ${s3(t1 - t0)}`);
    assert.ok(gap.gap <= 1.05, `A's VI_1 adverts paused ${s3(gap.gap)} (at ${gap.at})`);
    assert.equal(statusOf(ha, 'VI_1').state, 'MASTER');
    assert.ok(a.vips().includes(VIP));
    assert.equal(cap.vrrp({ from: b, vrid: 1, since: t0 }).length, 0, 'B advertised VI_1 during the reloads');
  });

  test('changing VI_1 itself (priority 150 -> 200, a second VIP): no transition, the VIP appears, B stays quiet', async () => {
    const before = statusOf(ha, 'VI_1');
    const bBefore = statusOf(hb, 'VI_1');
    const monitor = a.spawn(['ip', 'monitor', 'address'], { label: 'ip-monitor-2' });
    await sleep(300);
    const t0 = now();
    ha.write({ instances: { VI_1: vi1(200, [`${VIP}/24`, '192.0.2.101/24']) } });
    const r = ha.reload() as { changes: Array<{ lines: string[] }> };
    const tReloaded = now();
    const added = await lan.waitFor(() => (a.vips().includes('192.0.2.101') ? now() : 0), 2000, 'the new VIP on A');
    const adv = await cap.advert({ from: a, vrid: 1, prio: 200, since: t0 }, 2000);
    await sleep(2500);
    const after = statusOf(ha, 'VI_1');
    const bAfter = statusOf(hb, 'VI_1');
    await monitor.stop();
    // the OTHER_ instances are gone from this file (their VIPs go); VI_1's stay
    assert.deepEqual(monitor.lines().filter((l) => /^Deleted/.test(l) && /192\.0\.2\.10[01]\//.test(l)), [], "no VIP of VI_1 deleted");
    assert.ok(monitor.lines().some((l) => !l.startsWith('Deleted') && l.includes('192.0.2.101/24')), `ip monitor saw the new VIP: ${monitor.lines().join(' | ')}`);
    figure(`VI_1 reconfigured: new VIP on A ${s3(added - t0)} after the reload began (reload call ${s3(tReloaded - t0)}), first advert at 200 ${s3(adv.t - t0)}, its VIPs ${adv.addrs?.join(',')}`);
    assert.ok(r.changes.flatMap((c) => c.lines).some((l) => /priority 150 -> 200/.test(l)), JSON.stringify(r));
    assert.equal(after.state, 'MASTER');
    assert.equal(after.transitions, before.transitions, 'no transition');
    assert.equal(after.effectivePriority, 200);
    assert.deepEqual(adv.addrs, [VIP, '192.0.2.101']);
    assert.ok(a.vips().includes(VIP));
    assert.equal(bAfter.state, 'BACKUP');
    assert.equal(bAfter.transitions, bBefore.transitions, "B's state did not move");
    assert.equal(cap.vrrp({ from: b, since: t0 }).length, 0, 'B sent no advert');
  });

  test('an invalid state file is refused (exit 2) and VI_1 keeps running as master', async () => {
    const good = readFileSync(ha.stateFile, 'utf8');
    ha.write({ instances: { VI_1: { ...vi1(200), vrid: 300 } } } as VrrpSection);
    const t0 = now();
    assert.throws(() => ha.reload(), /exited 2\b.*(vrid|300)/s);
    writeFileSync(ha.stateFile, 'this is not JSON', { mode: 0o600 });
    assert.throws(() => ha.reload(), /exited 2\b/);
    await sleep(1500);
    const s = statusOf(ha, 'VI_1');
    assert.equal(s.state, 'MASTER');
    assert.equal(s.effectivePriority, 200);
    assert.ok(ha.proc.running);
    assert.ok(a.vips().includes(VIP) && a.vips().includes('192.0.2.101'));
    const ours = cap.vrrp({ from: a, vrid: 1, since: t0 - 1 });
    assert.ok(maxGap(ours).gap <= 1.05, `adverts paused ${s3(maxGap(ours).gap)}`);
    writeFileSync(ha.stateFile, good, { mode: 0o600 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('split brain (VRRP dropped between A and B only), seen from C, healed', { skip }, () => {
  const VIP = '192.0.2.110';
  let lan: Lan;

  before(async () => {
    lan = await Lan.create({ nodes: ['a', 'b'], clients: ['c'] });
  });
  after(() => lan?.destroy());

  test('both become master, `ha vrrp peers` on C reports the split brain; unblock: only A within one interval', async () => {
    const [a, b, c] = [lan.node('a'), lan.node('b'), lan.node('c')];
    const cap = await lan.capture('hub', FILTER.vrrp);
    const ha = await startHa(a, { instances: { VI_2: instance(2, 150, [`${VIP}/24`]) } });
    await ha.waitState('VI_2', 'MASTER', 8000);
    const hb = await startHa(b, { instances: { VI_2: instance(2, 100, [`${VIP}/24`]) } });
    await hb.waitState('VI_2', 'BACKUP', 5000);
    // B's master down timer runs from its start until it hears A: wait for an advert of A at 150,
    // so that the takeover below is timed from A's adverts and not from B's start
    await lan.waitFor(() => statusOf(hb, 'VI_2').master?.priority === 150, 3000, 'B hearing A at 150');
    const tBefore = now();
    let unblock: (() => void) | undefined = blockBetween(lan, a, b);
    try {
      const tBlock = now();
      const split = await lan.waitFor(() => (b.vips().includes(VIP) ? now() : 0), 8000, 'the VIP on B too');
      // an advert of A that crossed the switch while nft ran may or may not have reached B
      const bFirst = await cap.advert({ from: b, vrid: 2, since: tBlock }, 1000);
      const heard = cap.vrrp({ from: a, vrid: 2, until: tBlock }).filter((p, k, all) => p.t >= tBefore || k === all.length - 1 || all[k + 1]!.t >= tBefore);
      const lastHeard = heard.find((p) => Math.abs(bFirst.t - p.t - masterDown(100)) <= 0.3) ?? heard.at(-1)!;
      figure(`B became a second master ${s3(bFirst.t - lastHeard.t)} after the last advert of A it heard (master down ${s3(masterDown(100))}); its VIP ${s3(split - tBlock)} after the block`);
      near(bFirst.t - lastHeard.t, masterDown(100), 0.3, 'B takeover under the block');
      assert.equal(statusOf(ha, 'VI_2').state, 'MASTER');
      assert.equal(statusOf(hb, 'VI_2').state, 'MASTER');
      assert.ok(a.vips().includes(VIP) && b.vips().includes(VIP));
      const r = await haIn(c, ['vrrp', 'peers', '-i', 'eth0', '--seconds', '3', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as { groups: Array<{ vrid: number; masters: string[] }>; problems: Array<{ kind: string; vrid?: number; routers: string[]; message: string }> };
      const problem = report.problems.find((p) => p.kind === 'split-brain' && p.vrid === 2);
      figure(`peers on C: ${report.problems.map((p) => `${p.kind}: ${p.message}`).join(' | ')}`);
      assert.ok(problem, `no split-brain problem for VRID 2: ${r.stdout}`);
      assert.deepEqual([...problem.routers].sort(), [a.address, b.address].sort());
      assert.deepEqual(report.groups.find((g) => g.vrid === 2)?.masters.sort(), [a.address, b.address].sort());

      const tHeal = now();
      unblock();
      unblock = undefined;
      const gone = await lan.waitFor(() => (b.vips().includes(VIP) ? 0 : now()), 3000, "B's VIP gone");
      const bBackup = cap.vrrp({ from: b, vrid: 2 }).filter((p) => p.t >= tHeal).at(-1);
      figure(`healed: B's VIP gone ${s3(gone - tHeal)} after unblock (limit 1 interval + 0.25 s); B's last advert ${bBackup ? s3(bBackup.t - tHeal) : 'none'} after`);
      assert.ok(gone - tHeal <= 1.25, `B kept the VIP ${s3(gone - tHeal)} after the heal`);
      await sleep(300);
      assert.equal(statusOf(hb, 'VI_2').state, 'BACKUP');
      assert.equal(statusOf(ha, 'VI_2').state, 'MASTER');
      assert.ok(a.vips().includes(VIP));
      assert.equal(cap.vrrp({ from: b, vrid: 2, since: gone + 0.1 }).length, 0, 'B advertises no more');
    } finally {
      unblock?.();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('tracking: an interface (weight -60) and a file (weight 1)', { skip }, () => {
  const VIP = '192.0.2.120';
  let lan: Lan;

  before(async () => {
    lan = await Lan.create({ nodes: ['a', 'b'] });
  });
  after(() => lan?.destroy());

  test('eth1 down: A 150 -> 90, B (120) takes over; up: A preempts; file -100: A drops by 100; nopreempt keeps A backup', async () => {
    const [a, b] = [lan.node('a'), lan.node('b')];
    // no dummy module on this kernel: a veth pair inside A's namespace
    a.execOk('ip link add eth1 type veth peer name eth1p && ip link set eth1p up && ip link set eth1 up');
    const file = join(lan.dir, 'a-track');
    writeFileSync(file, '0\n');
    const cap = await lan.capture('hub', FILTER.vrrp);
    const base = instance(3, 150, [`${VIP}/24`], { trackInterfaces: [{ interface: 'eth1', weight: -60 }] });
    const ha = await startHa(a, { instances: { VI_3: base } });
    await ha.waitState('VI_3', 'MASTER', 8000);
    const hb = await startHa(b, { instances: { VI_3: instance(3, 120, [`${VIP}/24`]) } });
    await hb.waitState('VI_3', 'BACKUP', 5000);
    // B's master down timer runs from its start until it hears A: wait for an advert of A at 150,
    // so that the takeover below is timed from A's adverts and not from B's start
    await lan.waitFor(() => statusOf(hb, 'VI_3').master?.priority === 150, 3000, 'B hearing A at 150');

    // eth1 down
    const tDown = now();
    a.execOk('ip link set eth1 down');
    const at90 = await cap.advert({ from: a, vrid: 3, prio: 90, since: tDown }, 2000);
    const s = statusOf(ha, 'VI_3');
    const eth1 = s.trackers.find((t) => t.kind === 'interface' && t.name === 'eth1');
    figure(`eth1 down: A advertised at 90 ${s3(at90.t - tDown)} later; status trackers ${JSON.stringify(s.trackers.map((t) => [t.kind, t.name, t.ok, t.contribution]))}`);
    assert.equal(s.effectivePriority, 90);
    assert.deepEqual([eth1?.ok, eth1?.weight, eth1?.contribution], [false, -60, -60]);
    const bFirst = await cap.advert({ from: b, vrid: 3, since: tDown }, 6000);
    // A's last advert at 150 comes before its first at 90 (the link change reaches the agent some
    // milliseconds after `ip link` began, and a periodic advert can fall in between)
    const last150 = cap.vrrp({ from: a, vrid: 3, prio: 150, until: at90.t }).at(-1)!;
    figure(`B took over ${s3(bFirst.t - last150.t)} after A's last advert at 150 (master down of B ${s3(masterDown(120))}; A kept advertising at 90 meanwhile: ${cap.vrrp({ from: a, vrid: 3, prio: 90, since: tDown, until: bFirst.t }).length} adverts)`);
    near(bFirst.t - last150.t, masterDown(120), 0.3, `B takeover (A's adverts from 1.5 s before: ${cap.vrrp({ from: a, vrid: 3, since: tDown - 1.5, until: bFirst.t }).map((p) => `${(p.t - tDown).toFixed(3)}:${p.prio}`).join(' ')}; B's: ${cap.vrrp({ from: b, vrid: 3, since: tDown - 1.5, until: bFirst.t + 0.01 }).map((p) => `${(p.t - tDown).toFixed(3)}:${p.prio}`).join(' ')})`);
    await ha.waitState('VI_3', 'BACKUP', 2000);
    await lan.waitFor(() => b.vips().includes(VIP) && !a.vips().includes(VIP), 2000, 'the VIP on B only');

    // eth1 up: A preempts
    const tUp = now();
    a.execOk('ip link set eth1 up');
    const aBack = await cap.advert({ from: a, vrid: 3, prio: 150, since: tUp }, 6000);
    const lastB = cap.vrrp({ from: b, vrid: 3, until: tUp }).at(-1)!;
    figure(`eth1 up: A preempted ${s3(aBack.t - tUp)} after link up, ${s3(aBack.t - lastB.t)} after the last advert of B it accepted (expected ${s3(masterDown(150))})`);
    near(aBack.t - lastB.t, masterDown(150), 0.3, 'A preempts');
    await ha.waitState('VI_3', 'MASTER', 2000);
    await lan.waitFor(() => a.vips().includes(VIP) && !b.vips().includes(VIP), 2000, 'the VIP on A only');
    assert.equal(statusOf(ha, 'VI_3').trackers.find((t) => t.name === 'eth1')?.contribution, 0);

    // a tracked file (weight 1), added by reload while master: no transition
    const tr0 = statusOf(ha, 'VI_3').transitions;
    ha.write({ instances: { VI_3: { ...base, trackFiles: [{ path: file, weight: 1 }] } } });
    ha.reload();
    await sleep(1200);
    assert.equal(statusOf(ha, 'VI_3').state, 'MASTER');
    assert.equal(statusOf(ha, 'VI_3').transitions, tr0);
    const tFile = now();
    writeFileSync(file, '-100\n');
    const at50 = await cap.advert({ from: a, vrid: 3, prio: 50, since: tFile }, 3000);
    const sf = statusOf(ha, 'VI_3');
    const ft = sf.trackers.find((t) => t.kind === 'file');
    figure(`file -100: A advertised at 50 ${s3(at50.t - tFile)} after the write (polled every second); file tracker ${JSON.stringify(ft)}`);
    assert.equal(sf.effectivePriority, 50);
    assert.deepEqual([ft?.value, ft?.contribution], [-100, -100]);
    const bAgain = await cap.advert({ from: b, vrid: 3, since: at50.t }, 6000);
    const last150again = cap.vrrp({ from: a, vrid: 3, prio: 150, until: at50.t }).at(-1)!;
    figure(`B took over again ${s3(bAgain.t - last150again.t)} after A's last advert at 150 (${s3(bAgain.t - at50.t)} after its first at 50)`);
    near(bAgain.t - last150again.t, masterDown(120), 0.3, 'B takeover after the file');
    await ha.waitState('VI_3', 'BACKUP', 2000);

    // nopreempt (by reload, while backup): eth1 down, the file back to 0, eth1 up: A is at 150 and stays backup
    ha.write({ instances: { VI_3: { ...base, nopreempt: true, trackFiles: [{ path: file, weight: 1 }] } } });
    ha.reload();
    a.execOk('ip link set eth1 down');
    writeFileSync(file, '0\n');
    await lan.waitFor(() => statusOf(ha, 'VI_3').effectivePriority === 90, 3000, 'A at 90 (file 0, eth1 down)');
    const tRecover = now();
    a.execOk('ip link set eth1 up');
    await lan.waitFor(() => statusOf(ha, 'VI_3').effectivePriority === 150, 3000, 'A back at 150');
    await sleep(masterDown(150) * 1000 + 1000);
    figure(`nopreempt: eth1 up, A at 150 for ${s3(now() - tRecover)} and still ${statusOf(ha, 'VI_3').state}; B ${statusOf(hb, 'VI_3').state}`);
    assert.equal(statusOf(ha, 'VI_3').state, 'BACKUP');
    assert.equal(statusOf(hb, 'VI_3').state, 'MASTER');
    assert.equal(cap.vrrp({ from: a, vrid: 3, since: tRecover }).length, 0, 'A sent no advert');
    assert.ok(b.vips().includes(VIP) && !a.vips().includes(VIP));
  });
});

// ---------------------------------------------------------------------------------------------

interface WatchEvent { seq: number; type: string; data: { instance?: string; from?: string; to?: string; priority?: number } }

describe('notifications: 50 transitions in order, and a notify script killed at its timeout', { skip }, () => {
  const VIP = '192.0.2.130';
  let lan: Lan;
  let client: AgentClient | undefined;

  before(async () => {
    lan = await Lan.create({ nodes: ['a', 'b'] });
  });
  after(async () => {
    client?.close();
    await lan?.destroy();
  });

  test('demote/promote 25 times (v3, 0.1 s): each transition notified once, in order, as `ha vrrp watch` saw them', async () => {
    const [a, b] = [lan.node('a'), lan.node('b')];
    const log = join(lan.dir, 'notify.log');
    const script = join(lan.dir, 'notify-any.sh');
    writeFileSync(script, `#!/bin/sh\necho "$(date +%s.%N) $*" >> ${log}\n`);
    chmodSync(script, 0o755);
    const vi4 = (more: Partial<Instance> = {}): Instance => instance(4, 150, [`${VIP}/24`], { version: 3, advertInterval: 0.1, notify: { any: script }, ...more });
    const cap = await lan.capture('hub', FILTER.vrrp);
    const ha = await startHa(a, { instances: { VI_4: vi4() } });
    await ha.waitState('VI_4', 'MASTER', 5000);
    const hb = await startHa(b, { instances: { VI_4: instance(4, 120, [`${VIP}/24`], { version: 3, advertInterval: 0.1 }) } });
    await hb.waitState('VI_4', 'BACKUP', 5000);
    const lines = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
    await lan.waitFor(() => lines().length === 2, 3000, 'the startup notifications');

    const watched: WatchEvent[] = [];
    const watch = a.spawn([process.execPath, BIN, 'vrrp', 'watch', 'VI_4', '--socket', ha.socket, '--json'], {
      env: baseEnv(), label: 'watch',
      onLine: (line, stream) => { if (stream === 'stdout' && line.startsWith('{')) watched.push(JSON.parse(line) as WatchEvent); },
    });
    client = await AgentClient.connect(ha.socket);
    const seen: WatchEvent['data'][] = [];
    await client.subscribe(['vrrp'], (e) => { if (e.type === 'transition') seen.push(e.data as WatchEvent['data']); });
    await sleep(1500); // the watch command is connected (node starts in ~1 s)
    const expect = (to: string): Promise<unknown> => lan.waitFor(() => seen.at(-1)?.to === to, 3000, `VI_4 ${to} (after ${seen.length} transitions)`);

    const t0 = now();
    for (let k = 0; k < 25; k++) {
      await client.call('vrrp.demote', { name: 'VI_4', by: 100 });
      await expect('BACKUP');
      await client.call('vrrp.promote', { name: 'VI_4' });
      await expect('MASTER');
    }
    const t1 = now();
    await lan.waitFor(() => lines().length >= 52 && watched.filter((e) => e.type === 'transition').length >= 50, 5000, 'every notification and watch line');
    await sleep(500);
    const notified = lines();
    const transitions = watched.filter((e) => e.type === 'transition');
    figure(`50 transitions in ${s3(t1 - t0)} (${s3((t1 - t0) / 50)} each); ${notified.length - 2} notifications, ${transitions.length} watch events, status transitions ${statusOf(ha, 'VI_4').transitions}`);
    assert.equal(seen.length, 50);
    assert.equal(transitions.length, 50, 'ha vrrp watch --json saw every transition');
    assert.equal(notified.length, 52, `every transition notified exactly once:\n${notified.join('\n')}`);
    assert.equal(statusOf(ha, 'VI_4').transitions, 52); // INIT -> BACKUP -> MASTER, then the 50
    const got = notified.slice(2).map((l) => l.split(' ').slice(1).join(' '));
    const want = transitions.map((e) => `INSTANCE VI_4 ${e.data.to} ${e.data.priority}`);
    assert.deepEqual(got, want);
    assert.deepEqual(want.map((w) => w.split(' ')[2]), Array.from({ length: 50 }, (_, k) => (k % 2 ? 'MASTER' : 'BACKUP')));
    const stamps = notified.map((l) => Number(l.split(' ')[0]));
    assert.ok(stamps.every((t, k) => k === 0 || t >= stamps[k - 1]!), 'notification times go forward');
    assert.ok(stamps.at(-1)! - t1 < 1, `the last notification ran ${s3(stamps.at(-1)! - t1)} after the last transition`);
    await watch.stop();

    // a master script that never ends, with notifyTimeout 2 s (set by reload)
    ha.write({ notifyTimeout: 2, instances: { VI_4: vi4({ notify: { master: 'sleep 1000', any: script } }) } });
    ha.reload();
    await client.call('vrrp.demote', { name: 'VI_4', by: 100 });
    await expect('BACKUP');
    await client.call('vrrp.promote', { name: 'VI_4' });
    await expect('MASTER');
    const tMaster = now();
    const killed = await ha.proc.waitForLine(/VI_4: notify "sleep 1000" killed after (\d+) ms/, 8000);
    const tKilled = now();
    await sleep(500);
    const ours = cap.vrrp({ from: a, vrid: 4, since: tMaster, until: now() });
    const gap = maxGap(ours);
    figure(`sleeping master script killed after ${killed[1]} ms (log: "${killed[0]}"), ${s3(tKilled - tMaster)} after the transition; ${ours.length} adverts meanwhile, longest gap ${s3(gap.gap)} (${gap.at === undefined ? '' : s3(gap.at - tMaster)} after the transition)`);
    near(Number(killed[1]) / 1000, 2, 0.3, 'notify timeout');
    assert.ok(gap.gap <= 0.15, `A's adverts paused ${s3(gap.gap)} while the script ran`);
    assert.ok(ours.length >= (tKilled - tMaster) * 10 - 2, `${ours.length} adverts in ${s3(tKilled - tMaster)}`);
    await lan.waitFor(() => lines().length === 54, 2000, 'the generic notifications after the killed one');
    assert.match(lines().at(-1)!, / INSTANCE VI_4 MASTER 150$/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('restart after a crash', { skip }, () => {
  const VIP = '192.0.2.140';
  let lan: Lan;

  before(async () => {
    lan = await Lan.create({ nodes: ['a', 'b'] });
  });
  after(() => lan?.destroy());

  test('kill -9 leaves the VIP; started again below B it removes it as it comes up BACKUP', async () => {
    const [a, b] = [lan.node('a'), lan.node('b')];
    const ha = await startHa(a, { instances: { VI_5: instance(5, 150, [`${VIP}/24`]) } });
    await ha.waitState('VI_5', 'MASTER', 8000);
    const hb = await startHa(b, { instances: { VI_5: instance(5, 120, [`${VIP}/24`]) } });
    await hb.waitState('VI_5', 'BACKUP', 5000);
    await ha.kill();
    assert.ok(a.vips().includes(VIP), 'kill -9 leaves the VIP behind');
    await lan.waitFor(() => b.vips().includes(VIP), 6000, 'B takes over');
    assert.ok(a.vips().includes(VIP), 'still on A');
    const tStart = now();
    const ha2 = await startHa(a, { instances: { VI_5: instance(5, 100, [`${VIP}/24`]) } });
    const tRunning = now();
    const gone = await lan.waitFor(() => (a.vips().includes(VIP) ? 0 : now()), 3000, 'the leftover VIP removed');
    const line = ha2.proc.lines().find((l) => /left behind/.test(l));
    figure(`restart: agent running ${s3(tRunning - tStart)} after spawn, leftover VIP gone ${s3(gone - tRunning)} after "agent running" (${s3(gone - tStart)} after spawn); log: ${line}`);
    assert.ok(gone - tRunning <= 1, `the VIP stayed ${s3(gone - tRunning)}`);
    assert.ok(line, 'the agent says it removed the leftover VIP');
    await ha2.waitState('VI_5', 'BACKUP', 2000);
    assert.ok(b.vips().includes(VIP));
    assert.equal(statusOf(hb, 'VI_5').state, 'MASTER');
  });
});
