/**
 * Failover with real traffic, inside User-Mode Linux: an active-backup bond over two veth ports
 * whose peers sit on a bridge in another network namespace (192.0.2.0/24). A UDP ping runs through
 * the bond while the active port's peer goes down, then comes back: the bond fails over and back,
 * `ha bond show` names the new active port, `ha bond watch` prints the changes as they happen,
 * and the ping loses no more than MII monitoring allows.
 */
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ha, haSpawn } from '@ha/lib/testing';

const PINGER = join(dirname(fileURLToPath(import.meta.url)), 'pinger.js');
const NS = 'hbpeer';
const MIIMON = 50;
const INTERVAL = 10;
const sh = (...cmd: string[]): string => execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
const inNs = (...cmd: string[]): string => sh('ip', 'netns', 'exec', NS, ...cmd);
const procs: ChildProcess[] = [];

before(async () => {
  sh('ip', 'netns', 'add', NS);
  inNs('ip', 'link', 'set', 'lo', 'up');
  inNs('ip', 'link', 'add', 'br0', 'type', 'bridge');
  for (const [mine, peer] of [['hfa', 'pa'], ['hfb', 'pb']] as const) {
    sh('ip', 'link', 'add', mine, 'type', 'veth', 'peer', 'name', peer, 'netns', NS);
    inNs('ip', 'link', 'set', peer, 'master', 'br0', 'up');
  }
  inNs('ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'br0');
  inNs('ip', 'link', 'set', 'br0', 'up');
  const r = ha(['bond', 'create', 'hf0', '--mode', 'active-backup', '--ports', 'hfa,hfb', '--primary', 'hfa', '--miimon', String(MIIMON)]);
  assert.equal(r.code, 0, r.stderr);
  sh('ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'hf0');
  const echo = spawn('ip', ['netns', 'exec', NS, process.execPath, PINGER, 'echo', '9000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(echo);
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: echo.stdout! }).once('line', () => resolve());
    echo.once('exit', (code) => reject(new Error(`echo server exited ${code}`)));
  });
});

after(() => {
  for (const p of procs) if (p.pid && p.exitCode === null) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  spawnSync('ip', ['link', 'del', 'hf0']);
  spawnSync('ip', ['link', 'del', 'hfa']);
  spawnSync('ip', ['link', 'del', 'hfb']);
  spawnSync('ip', ['netns', 'del', NS]);
});

const show = (): any => {
  const r = ha(['bond', 'show', 'hf0', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).bond;
};

/** Ping through the bond for `n` packets; run `during` after a second; resolve with the ping's result. */
async function pingWhile(n: number, during: () => void): Promise<{ sent: number; received: number; lost: number; longestGap: number }> {
  const p = spawn(process.execPath, [PINGER, 'ping', '192.0.2.2', '9000', String(INTERVAL), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(p);
  let out = '';
  p.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  const done = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  await new Promise((r) => setTimeout(r, 1000));
  during();
  await done;
  return JSON.parse(out);
}

test('active-backup fails over when the active port\'s peer goes down, and back; watch prints it; loss within miimon', async () => {
  const start = show();
  assert.equal(start.active, 'hfa');
  const warm = await pingWhile(50, () => undefined);
  assert.equal(warm.lost, 0, `traffic flows through the bond before the failure: ${JSON.stringify(warm)}`);

  const watch = haSpawn(['bond', 'watch', 'hf0', '--json']);
  procs.push(watch);
  const events: any[] = [];
  const lines = createInterface({ input: watch.stdout! });
  const ready = new Promise<void>((resolve) => lines.on('line', (l) => { events.push(JSON.parse(l)); if (events.length === 1) resolve(); }));
  await ready;
  assert.equal(events[0].event, 'watching');

  const down = await pingWhile(300, () => { inNs('ip', 'link', 'set', 'pa', 'down'); });
  const after1 = show();
  assert.equal(after1.active, 'hfb', 'show reports the new active port');
  const portA = after1.ports.find((p: { name: string }) => p.name === 'hfa');
  assert.equal(portA.miiStatus, 'down');
  assert.equal(portA.carrier, false);
  assert.ok(portA.linkFailures >= 1, 'the link failure was counted');
  // MII monitoring notices within one interval; allow that, a second one, and the time to send
  // the gratuitous ARP, at one datagram every INTERVAL ms
  const allowed = Math.ceil((2 * MIIMON + 100) / INTERVAL);
  assert.ok(down.received > 0 && down.sent === 300, JSON.stringify(down));
  assert.ok(down.lost <= allowed, `lost ${down.lost} datagrams at failover, at most ${allowed} allowed with miimon ${MIIMON} (${JSON.stringify(down)})`);

  // the primary comes back: the bond returns to it (primary_reselect always)
  const back = await pingWhile(300, () => { inNs('ip', 'link', 'set', 'pa', 'up'); });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(show().active, 'hfa');
  assert.ok(back.lost <= allowed, `lost ${back.lost} datagrams when failing back (${JSON.stringify(back)})`);

  process.kill(watch.pid!, 'SIGTERM');
  await new Promise((r) => watch.once('exit', r));
  const active = events.filter((e) => e.event === 'active').map((e) => `${e.from}->${e.to}`);
  assert.deepEqual(active.slice(0, 2), ['hfa->hfb', 'hfb->hfa'], `watch printed: ${JSON.stringify(events.map((e) => e.text))}`);
  assert.ok(events.some((e) => e.event === 'port-mii' && e.port === 'hfa' && e.to === 'down'), 'watch printed the port going down');
  assert.ok(events.some((e) => e.event === 'port-carrier' && e.port === 'hfa' && e.to === 'off'), 'watch printed the carrier loss');
  for (const e of events) assert.ok(!Number.isNaN(Date.parse(e.time)), `timestamp ${e.time}`);
});

test('watch for people: one timestamped line per event, until --count or a signal', async () => {
  const counted = haSpawn(['bond', 'watch', 'hf0', '--count', '1']);
  procs.push(counted);
  let out = '';
  counted.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise<number | null>((resolve) => counted.once('exit', (code) => resolve(code)));
  while (!out.includes('watching')) await new Promise((r) => setTimeout(r, 100));
  assert.match(out, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z hf0: watching active-backup bond, up, active port hfa, ports hfa\(up\) hfb\(up\)\n$/);
  const f = ha(['bond', 'failover', 'hf0', '--to', 'hfb']);
  assert.equal(f.code, 0, f.stderr);
  assert.equal(await exited, 0, 'exits by itself after --count events');
  assert.equal(out.trim().split('\n').length, 2, out);
  assert.match(out.trim().split('\n')[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z hf0: \S/);

  const watch = haSpawn(['bond', 'watch', 'hf0']);
  procs.push(watch);
  let text = '';
  watch.stdout!.on('data', (b: Buffer) => { text += b.toString(); });
  const gone = new Promise<number | null>((resolve) => watch.once('exit', (code) => resolve(code)));
  while (!text.includes('watching')) await new Promise((r) => setTimeout(r, 100));
  assert.equal(ha(['bond', 'failover', 'hf0', '--to', 'hfa']).code, 0);
  for (let i = 0; i < 50 && !text.includes('active port hfb -> hfa'); i++) await new Promise((r) => setTimeout(r, 100));
  process.kill(watch.pid!, 'SIGINT');
  assert.equal(await gone, 0, 'an interrupt ends watch normally');
  assert.match(text, /\dZ hf0: active port hfb -> hfa\n/);
});
