/**
 * Real traffic through an LVS NAT service, inside User-Mode Linux: the director is UML's own
 * network namespace, a client and three real servers live in namespaces joined by veth pairs and a
 * bridge (192.0.2.0/24 on the client side, 198.51.100.0/24 on the server side).
 */
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { ha } from '@ha/lib/testing';

const TOOLS = join(dirname(fileURLToPath(import.meta.url)), 'net-tools.js');
const VIP = '192.0.2.10';
const sh = (...cmd: string[]): string => execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
const inNs = (ns: string, ...cmd: string[]): string => sh('ip', 'netns', 'exec', ns, ...cmd);
const servers: ChildProcess[] = [];
const RS = ['rs1', 'rs2', 'rs3'];

before(async () => {
  sh('ip', 'netns', 'add', 'cl');
  sh('ip', 'link', 'add', 'd-cl', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'cl');
  sh('ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'd-cl');
  sh('ip', 'addr', 'add', `${VIP}/32`, 'dev', 'd-cl');
  sh('ip', 'link', 'set', 'd-cl', 'up');
  inNs('cl', 'ip', 'link', 'set', 'lo', 'up');
  inNs('cl', 'ip', 'addr', 'add', '192.0.2.100/24', 'dev', 'eth0');
  inNs('cl', 'ip', 'link', 'set', 'eth0', 'up');
  inNs('cl', 'ip', 'route', 'add', 'default', 'via', '192.0.2.1');
  sh('ip', 'link', 'add', 'br-rs', 'type', 'bridge');
  sh('ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'br-rs');
  sh('ip', 'link', 'set', 'br-rs', 'up');
  RS.forEach((ns, i) => {
    sh('ip', 'netns', 'add', ns);
    sh('ip', 'link', 'add', `d-${ns}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    sh('ip', 'link', 'set', `d-${ns}`, 'master', 'br-rs', 'up');
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    inNs(ns, 'ip', 'addr', 'add', `198.51.100.1${i + 1}/24`, 'dev', 'eth0');
    inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
    inNs(ns, 'ip', 'route', 'add', 'default', 'via', '198.51.100.1');
  });
  sh('sysctl', '-qw', 'net.ipv4.ip_forward=1');
  sh('ipvsadm', '-C');
  await Promise.all(RS.map((ns) => new Promise<void>((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, TOOLS, 'server', ns, '8080', '8081'], { stdio: ['ignore', 'pipe', 'inherit'] });
    servers.push(p);
    let up = 0;
    createInterface({ input: p.stdout! }).on('line', () => { if (++up === 2) resolve(); });
    p.once('exit', (code) => reject(new Error(`server in ${ns} exited ${code}`)));
  })));
});

after(() => {
  for (const p of servers) if (p.pid) try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  spawnSync('ipvsadm', ['-C']);
  for (const ns of ['cl', ...RS]) spawnSync('ip', ['netns', 'del', ns]);
  spawnSync('ip', ['link', 'del', 'br-rs']);
  spawnSync('ip', ['link', 'del', 'd-cl']);
});

const burst = (port: number, n: number): Record<string, number> =>
  JSON.parse(inNs('cl', process.execPath, TOOLS, 'burst', VIP, String(port), String(n))) as Record<string, number>;

const ok = (args: string[]): void => {
  const r = ha(['ipvs', ...args]);
  assert.equal(r.code, 0, `ha ipvs ${args.join(' ')}: ${r.stderr}`);
};

test('round robin spreads new connections exactly evenly over the real servers', () => {
  ok(['add-service', '-t', `${VIP}:80`, '-s', 'rr']);
  for (const n of [1, 2, 3]) ok(['add-server', '-t', `${VIP}:80`, '-r', `198.51.100.1${n}:8080`, '-m']);
  assert.deepEqual(burst(80, 30), { rs1: 10, rs2: 10, rs3: 10 });
});

test('weighted round robin follows the weights', () => {
  ok(['add-service', '-t', `${VIP}:82`, '-s', 'wrr']);
  ok(['add-server', '-t', `${VIP}:82`, '-r', '198.51.100.11:8080', '-m', '-w', '1']);
  ok(['add-server', '-t', `${VIP}:82`, '-r', '198.51.100.12:8080', '-m', '-w', '3']);
  assert.deepEqual(burst(82, 40), { rs1: 10, rs2: 30 });
});

test('after delete-server no new connection reaches that server', () => {
  ok(['delete-server', '-t', `${VIP}:80`, '-r', '198.51.100.13:8080']);
  assert.deepEqual(burst(80, 20), { rs1: 10, rs2: 10 });
});

test('a converging restore that changes one server leaves other services\' connections untouched', async () => {
  ok(['add-service', '-t', `${VIP}:81`, '-s', 'rr']);
  ok(['add-server', '-t', `${VIP}:81`, '-r', '198.51.100.13:8081', '-m']);
  const hold = spawn('ip', ['netns', 'exec', 'cl', process.execPath, TOOLS, 'hold', VIP, '81'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: hold.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => (await lines.next()).value as string;
  try {
    assert.equal(await next(), 'rs3');
    const active = (): string => /198\.51\.100\.13:8081\s+Masq\s+\d+\s+(\d+)/.exec(sh('ipvsadm', '-Ln', '-t', `${VIP}:81`))?.[1] ?? 'none';
    assert.equal(active(), '1');
    const rules = sh('ipvsadm', '-Sn').replace(/(-r 198\.51\.100\.12:8080 -m -w )1/, '$15');
    assert.notEqual(rules, sh('ipvsadm', '-Sn'));
    const r = ha(['ipvs', 'restore', '--json'], { input: rules });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).applied, 1);
    assert.equal(active(), '1', 'the held connection is still counted on its server');
    hold.stdin!.write('still there?\n');
    assert.equal(await next(), 'rs3 still there?');
    assert.match(sh('ipvsadm', '-Ln', '-t', `${VIP}:80`), /198\.51\.100\.12:8080\s+Masq\s+5/);
  } finally {
    hold.stdin!.end();
    if (hold.pid) try { process.kill(hold.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

test('ha ipvs connections lists the held and finished connections as ipvsadm -Lnc does', () => {
  const ours = JSON.parse(ha(['ipvs', 'connections', '--json']).stdout).connections as Array<{ protocol: string; client: string; virtual: string; server: string }>;
  const theirs = sh('ipvsadm', '-Lnc').split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(/\s+/));
  assert.equal(ours.length, theirs.length);
  assert.ok(ours.length > 0);
  const key = (p: string, c: string, v: string, d: string): string => `${p.toLowerCase()} ${c} ${v} ${d}`;
  assert.deepEqual(ours.map((c) => key(c.protocol, c.client, c.virtual, c.server)).sort(), theirs.map((f) => key(f[0]!, f[3]!, f[4]!, f[5]!)).sort());
});
