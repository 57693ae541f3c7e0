/**
 * Runs inside User-Mode Linux (a 6.1 kernel with IPVS) next to ipvsadm 1.31: every ha ipvs command
 * against the real kernel, its result read back with ipvsadm and compared with what ipvsadm itself
 * does for the same arguments; bad input rejected with exit 2 and the kernel untouched; restore
 * converging and undoing; the ipvs section of the state file.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ha, oneLine } from '@ha/lib/testing';

const ipvsadm = (...args: string[]): string => execFileSync('ipvsadm', args, { encoding: 'utf8' });
const table = (): string => ipvsadm('-Sn');
const everything = (): string => `${ipvsadm('-Sn')}${ipvsadm('-Ln', '--timeout')}${ipvsadm('-Ln', '--daemon')}`;
let dir: string;

before(() => {
  dir = mkdtempSync('/tmp/ha-ipvs-');
  // an interface with multicast for the sync daemon
  spawnSync('ip', ['link', 'add', 'sync0', 'type', 'dummy']);
  spawnSync('ip', ['link', 'set', 'sync0', 'up', 'multicast', 'on']);
  // a subnet whose broadcast address the kernel refuses as a real server (inet_addr_type is not
  // unicast): a refusal only the kernel can make, for the tests of undo midway through a restore
  spawnSync('ip', ['addr', 'add', '203.0.113.1/24', 'dev', 'sync0']);
  ipvsadm('-C');
});
after(() => {
  spawnSync('ipvsadm', ['--stop-daemon', 'master']);
  spawnSync('ipvsadm', ['--stop-daemon', 'backup']);
  spawnSync('ip', ['link', 'del', 'sync0']);
  ipvsadm('-C');
  rmSync(dir, { recursive: true, force: true });
});

/** ha arguments and the ipvsadm arguments that do the same. */
const steps: Array<[string[], string[]]> = [
  [['add-service', '-t', '192.0.2.10:80', '-s', 'wrr'], ['-A', '-t', '192.0.2.10:80', '-s', 'wrr']],
  [['add-service', '-t', '192.0.2.10:443', '-s', 'wlc', '-p', '600', '-M', '255.255.255.0'], ['-A', '-t', '192.0.2.10:443', '-s', 'wlc', '-p', '600', '-M', '255.255.255.0']],
  [['add-service', '-u', '192.0.2.10:53', '-s', 'rr', '-o'], ['-A', '-u', '192.0.2.10:53', '-s', 'rr', '-o']],
  [['add-service', '-f', '7', '-s', 'sh', '-b', 'sh-port,sh-fallback'], ['-A', '-f', '7', '-s', 'sh', '-b', 'sh-port,sh-fallback']],
  [['add-service', '-t', '[2001:db8::10]:80', '-s', 'lc'], ['-A', '-t', '[2001:db8::10]:80', '-s', 'lc']],
  [['add-service', '-f', '9', '-6', '-s', 'rr'], ['-A', '-f', '9', '-6', '-s', 'rr']],
  [['add-service', '-t', '192.0.2.11:0', '-s', 'rr', '-p'], ['-A', '-t', '192.0.2.11:0', '-s', 'rr', '-p']],
  [['add-service', '-t', '192.0.2.12:80'], ['-A', '-t', '192.0.2.12:80']],
  [['add-server', '-t', '192.0.2.10:80', '-r', '198.51.100.11:8080', '-m', '-w', '3', '-x', '100', '-y', '10'], ['-a', '-t', '192.0.2.10:80', '-r', '198.51.100.11:8080', '-m', '-w', '3', '-x', '100', '-y', '10']],
  [['add-server', '-t', '192.0.2.10:80', '-r', '198.51.100.12', '-g'], ['-a', '-t', '192.0.2.10:80', '-r', '198.51.100.12', '-g']],
  [['add-server', '-t', '192.0.2.10:80', '-r', '198.51.100.13', '-i'], ['-a', '-t', '192.0.2.10:80', '-r', '198.51.100.13', '-i']],
  [['add-server', '-t', '192.0.2.10:80', '-r', '198.51.100.14'], ['-a', '-t', '192.0.2.10:80', '-r', '198.51.100.14']],
  [['add-server', '-t', '[2001:db8::10]:80', '-r', '[2001:db8::21]:8080', '-m', '-w', '2'], ['-a', '-t', '[2001:db8::10]:80', '-r', '[2001:db8::21]:8080', '-m', '-w', '2']],
  [['add-server', '-f', '7', '-r', '198.51.100.15', '-g', '-w', '5'], ['-a', '-f', '7', '-r', '198.51.100.15', '-g', '-w', '5']],
  [['edit-service', '-t', '192.0.2.10:80', '-s', 'rr', '-p', '120'], ['-E', '-t', '192.0.2.10:80', '-s', 'rr', '-p', '120']],
  [['edit-server', '-t', '192.0.2.10:80', '-r', '198.51.100.11:8080', '-m', '-w', '0'], ['-e', '-t', '192.0.2.10:80', '-r', '198.51.100.11:8080', '-m', '-w', '0']],
  [['delete-server', '-t', '192.0.2.10:80', '-r', '198.51.100.12'], ['-d', '-t', '192.0.2.10:80', '-r', '198.51.100.12']],
  [['delete-service', '-u', '192.0.2.10:53'], ['-D', '-u', '192.0.2.10:53']],
  [['timeout', '900', '120', '300'], ['--set', '900', '120', '300']],
  [['sync', 'start', 'master', '--mcast-interface', 'sync0', '--syncid', '5'], ['--start-daemon', 'master', '--mcast-interface', 'sync0', '--syncid', '5']],
  [['sync', 'stop', 'master'], ['--stop-daemon', 'master']],
  [['zero'], ['-Z']],
  [['clear'], ['-C']],
];

test('every command leaves the kernel as the same ipvsadm command does (read back with ipvsadm)', () => {
  ipvsadm('-C');
  ipvsadm('--set', '900', '120', '300');
  const ours: string[] = [];
  for (const [args] of steps) {
    const r = ha(['ipvs', ...args]);
    assert.equal(r.code, 0, `ha ipvs ${args.join(' ')}: ${r.stderr}`);
    ours.push(everything());
  }
  ipvsadm('-C');
  ipvsadm('--set', '900', '120', '300');
  steps.forEach(([args, ref], i) => {
    ipvsadm(...ref);
    assert.equal(ours[i], everything(), `after ha ipvs ${args.join(' ')}`);
  });
});

test('results are read back from the kernel: --json shows what ipvsadm -Ln shows', () => {
  ipvsadm('-C');
  const r = ha(['ipvs', 'add-service', '-t', '192.0.2.20:80', '-s', 'wrr', '-p', '60', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const svc = JSON.parse(r.stdout).service;
  assert.deepEqual({ ...svc, stats: undefined }, {
    family: 'ipv4', protocol: 'tcp', address: '192.0.2.20', port: 80, scheduler: 'wrr',
    persistence: { timeout: 60, netmask: '255.255.255.255' }, schedFlags: [], onePacket: false, servers: [], stats: undefined,
  });
  assert.match(ipvsadm('-Ln'), /TCP  192\.0\.2\.20:80 wrr persistent 60/);
  const s = ha(['ipvs', 'add-server', '-t', '192.0.2.20:80', '-r', '198.51.100.30:8080', '-m', '-w', '7', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const server = JSON.parse(s.stdout).service.servers[0];
  assert.equal(server.address, '198.51.100.30');
  assert.equal(server.port, 8080);
  assert.equal(server.forward, 'masq');
  assert.equal(server.weight, 7);
  assert.equal(typeof server.stats.conns, 'number', '64-bit counters come out as JSON numbers');
  const list = ha(['ipvs', 'list', '--json']);
  assert.equal(JSON.parse(list.stdout).services.length, 1);
});

test('kernel refusals are named: existing service, missing service, missing server', () => {
  ipvsadm('-C');
  ipvsadm('-A', '-t', '192.0.2.30:80');
  const exists = ha(['ipvs', 'add-service', '-t', '192.0.2.30:80']);
  assert.equal(exists.code, 1);
  assert.equal(oneLine(exists.stderr), 'ha: service 192.0.2.30:80/tcp already exists');
  const missing = ha(['ipvs', 'delete-service', '-t', '192.0.2.31:80']);
  assert.equal(missing.code, 1);
  assert.equal(oneLine(missing.stderr), 'ha: service 192.0.2.31:80/tcp does not exist');
  const noServer = ha(['ipvs', 'delete-server', '-t', '192.0.2.30:80', '-r', '198.51.100.9']);
  assert.equal(noServer.code, 1);
  assert.equal(oneLine(noServer.stderr), 'ha: real server 198.51.100.9:80 of service 192.0.2.30:80/tcp does not exist');
  const noModule = ha(['ipvs', 'add-service', '-t', '192.0.2.32:80', '-s', 'twos']);
  assert.equal(noModule.code, 1);
  assert.equal(oneLine(noModule.stderr), 'ha: scheduler twos is not available in this kernel: load it with "modprobe ip_vs_twos"; nothing was changed');
});

const invalid: string[][] = [
  ['add-service'],
  ['add-service', '-t', '192.0.2.10'],
  ['add-service', '-t', '192.0.2.10:http'],
  ['add-service', '-t', '192.0.2.10:65536'],
  ['add-service', '-t', '192.0.2.300:80'],
  ['add-service', '-t', 'www.example.org:80'],
  ['add-service', '-t', '2001:db8::1:80'],
  ['add-service', '-t', '[2001:db8::zz]:80'],
  ['add-service', '-t', '192.0.2.10:80', '-u', '192.0.2.10:80'],
  ['add-service', '-t', '192.0.2.10:80', '-s', 'fastest'],
  ['add-service', '-t', '192.0.2.10:0'],
  ['add-service', '-t', '192.0.2.10:80', '-s', 'rr', '-b', 'sh-port'],
  ['add-service', '-t', '192.0.2.10:80', '-s', 'sh', '-b', 'mh-port'],
  ['add-service', '-t', '192.0.2.10:80', '-s', 'sh', '-b', 'sh-turbo'],
  ['add-service', '-t', '192.0.2.10:80', '-p', 'forever'],
  ['add-service', '-t', '192.0.2.10:80', '-p', '60', '-M', '255.0.255.0'],
  ['add-service', '-t', '192.0.2.10:80', '-p', '60', '-M', '33'],
  ['add-service', '-t', '[2001:db8::1]:80', '-p', '60', '-M', '129'],
  ['add-service', '-t', '192.0.2.10:80', '--pe', 'sip'],
  ['add-service', '-t', '192.0.2.10:80', '--pe', 'http'],
  ['add-service', '-f', '0'],
  ['add-service', '-f', 'mark'],
  ['add-service', '-f', '4294967296'],
  ['add-service', '-t', '192.0.2.10:80', '-6'],
  ['add-service', '-t', '192.0.2.10:80', '--bogus'],
  ['add-server', '-t', '192.0.2.40:80'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-w', '-1'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-w', '65536'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-w', 'heavy'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-g', '-m'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-m', '--tun-type', 'gue'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-i', '--tun-type', 'gue'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-i', '--tun-type', 'vxlan'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-i', '--tun-type', 'ipip', '--tun-port', '6080'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-x', '10', '-y', '20'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-x', 'many'],
  ['add-server', '-t', '192.0.2.40:80', '-r', '[2001:db8::1]:80', '-m'],
  ['add-server', '-t', '192.0.2.40:80', '-r', 'backend1'],
  ['edit-server', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-w', '1e3'],
  ['timeout', '900', '120'],
  ['timeout', '900', '120', 'udp'],
  ['sync', 'start'],
  ['sync', 'start', 'master'],
  ['sync', 'start', 'primary', '--mcast-interface', 'sync0'],
  ['sync', 'start', 'master', '--mcast-interface', 'sync0', '--syncid', '256'],
  ['list', '--format', 'xml'],
  ['frobnicate'],
];

test(`bad input: ${invalid.length} invalid invocations, each exit 2 with one line, kernel untouched`, () => {
  ipvsadm('-C');
  ipvsadm('-A', '-t', '192.0.2.40:80', '-s', 'rr');
  ipvsadm('-a', '-t', '192.0.2.40:80', '-r', '198.51.100.1', '-m');
  const before = everything();
  for (const args of invalid) {
    const r = ha(['ipvs', ...args]);
    assert.equal(r.code, 2, `ha ipvs ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    const line = oneLine(r.stderr);
    assert.match(line, /^ha: /, `ha ipvs ${args.join(' ')}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(everything(), before, `kernel changed by ha ipvs ${args.join(' ')}`);
  }
});

const badRules: string[] = [
  '-A -t 192.0.2.50:80 -s rr\n-a -t 192.0.2.50:80 -r 198.51.100.1:80 -m -w 70000\n',
  '-A -t 192.0.2.50:80 -s nosuch\n',
  '-A -t 192.0.2.50:80 -s rr\n-a -t 192.0.2.51:80 -r 198.51.100.1:80 -m\n',
  '-A -t 192.0.2.50:80 -s rr\n-A -t 192.0.2.50:80 -s wrr\n',
  '-X -t 192.0.2.50:80\n',
  '-A -t 192.0.2.50:80 -s rr -b sh-port\n',
  '-A -t 192.0.2.50\n',
  '-A -t 192.0.2.50:80 -s rr\n-a -t 192.0.2.50:80 -r 198.51.100.1:80 -m\n-a -t 192.0.2.50:80 -r 198.51.100.1:80 -g\n',
  '-A -t 192.0.2.50:80 --frobnicate\n',
  'ipvsadm -A -u 192.0.2.50:0 -s rr\n',
];

test(`restore rejects ${badRules.length} bad inputs with exit 2 before changing anything`, () => {
  ipvsadm('-C');
  ipvsadm('-A', '-t', '192.0.2.40:80', '-s', 'rr');
  const before = everything();
  for (const text of badRules) {
    const r = ha(['ipvs', 'restore'], { input: text });
    assert.equal(r.code, 2, `${JSON.stringify(text)} exited ${r.code}: ${r.stderr}`);
    assert.match(oneLine(r.stderr), /^ha: /);
    assert.equal(everything(), before, `kernel changed by ${JSON.stringify(text)}`);
  }
});

const RULES = `-A -t 192.0.2.60:80 -s wrr
-a -t 192.0.2.60:80 -r 198.51.100.1:80 -m -w 1
-a -t 192.0.2.60:80 -r 198.51.100.2:80 -m -w 2
-A -t 192.0.2.61:443 -s wlc -p 300
-a -t 192.0.2.61:443 -r 198.51.100.3:443 -g -w 1
-A -u 192.0.2.62:53 -s rr
-a -u 192.0.2.62:53 -r 198.51.100.4:53 -m -w 1
`;

test('restore converges to the same table ipvsadm -R builds, applying only the difference', () => {
  const file = join(dir, 'rules');
  writeFileSync(file, RULES);
  ipvsadm('-C');
  execFileSync('ipvsadm', ['-R'], { input: RULES });
  const reference = table();
  ipvsadm('-C');
  const first = ha(['ipvs', 'restore', file]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(table(), reference);
  // one weight changes and one server goes: exactly those two changes are planned and made
  const changed = RULES.replace('198.51.100.2:80 -m -w 2', '198.51.100.2:80 -m -w 5').replace('-a -u 192.0.2.62:53 -r 198.51.100.4:53 -m -w 1\n', '');
  const dry = ha(['ipvs', 'restore', '--dry-run', '--json'], { input: changed });
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout).changes, [
    { op: 'change', object: 'real server 198.51.100.2:80 of 192.0.2.60:80/tcp', detail: 'weight 2 -> 5' },
    { op: 'delete', object: 'real server 198.51.100.4:53 of 192.0.2.62:53/udp' },
  ]);
  assert.equal(table(), reference, 'dry run changes nothing');
  const r = ha(['ipvs', 'restore', '--json'], { input: changed });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).applied, 2);
  ipvsadm('-C');
  execFileSync('ipvsadm', ['-R'], { input: changed });
  const reference2 = table();
  const again = ha(['ipvs', 'restore'], { input: changed });
  assert.equal(again.code, 0);
  assert.equal(table(), reference2);
  // --add-only keeps what the input does not mention
  ipvsadm('-A', '-t', '192.0.2.63:80');
  const addOnly = ha(['ipvs', 'restore', '--add-only'], { input: '-A -t 192.0.2.64:80 -s rr\n' });
  assert.equal(addOnly.code, 0, addOnly.stderr);
  assert.match(table(), /192\.0\.2\.63:80/);
  assert.match(table(), /192\.0\.2\.64:80/);
});

test('restore keeps thresholds a rule leaves out (ipvsadm -S cannot write them), sets those it gives, and undoes exactly', () => {
  ipvsadm('-C');
  execFileSync('ipvsadm', ['-R'], { input: RULES });
  ipvsadm('-e', '-t', '192.0.2.60:80', '-r', '198.51.100.1:80', '-m', '-w', '1', '-x', '100', '-y', '10');
  ipvsadm('-e', '-t', '192.0.2.61:443', '-r', '198.51.100.3:443', '-g', '-w', '1', '-x', '40');
  const thresholds = (): string => ipvsadm('-Ln', '--thresholds');
  const before = thresholds();
  assert.match(before, /198\.51\.100\.1:80 +100 +10 /);
  // what save prints has no thresholds: restoring it is a no-op, thresholds included
  const saved = ha(['ipvs', 'save']).stdout;
  assert.doesNotMatch(saved, / -x /);
  const same = ha(['ipvs', 'restore', '--json'], { input: saved });
  assert.equal(same.code, 0, same.stderr);
  assert.deepEqual(JSON.parse(same.stdout).changes, []);
  assert.equal(thresholds(), before);
  // a weight change keeps the server's thresholds; the other services are not touched
  const weight = saved.replace('-r 198.51.100.1:80 -m -w 1', '-r 198.51.100.1:80 -m -w 4');
  const r = ha(['ipvs', 'restore', '--json'], { input: weight });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).changes, [{ op: 'change', object: 'real server 198.51.100.1:80 of 192.0.2.60:80/tcp', detail: 'weight 1 -> 4' }]);
  assert.equal(thresholds(), before);
  assert.equal(table(), weight);
  // given thresholds are compared and set; -x 0 removes them
  const given = weight.replace('-r 198.51.100.1:80 -m -w 4', '-r 198.51.100.1:80 -m -w 4 -x 50 -y 5').replace('-r 198.51.100.3:443 -g -w 1', '-r 198.51.100.3:443 -g -w 1 -x 0');
  const g = ha(['ipvs', 'restore', '--json'], { input: given });
  assert.equal(g.code, 0, g.stderr);
  assert.deepEqual(JSON.parse(g.stdout).changes.map((c: { detail: string }) => c.detail), ['upper threshold 100 -> 50, lower threshold 10 -> 5', 'upper threshold 40 -> 0']);
  assert.match(thresholds(), /198\.51\.100\.1:80 +50 +5 /);
  assert.match(thresholds(), /198\.51\.100\.3:443 +0 +0 /);
  // deleting a server with thresholds, then failing: the undo puts it back with them
  ipvsadm('-e', '-t', '192.0.2.61:443', '-r', '198.51.100.3:443', '-g', '-w', '1', '-x', '40');
  const withThresholds = thresholds();
  const failing = `${saved.replace('-a -t 192.0.2.61:443 -r 198.51.100.3:443 -g -w 1\n', '')}-a -t 192.0.2.61:443 -r 203.0.113.255:443 -m\n`;
  const f = ha(['ipvs', 'restore'], { input: failing });
  assert.equal(f.code, 1, f.stderr);
  assert.equal(thresholds(), withThresholds);
});

test('a kernel failure midway through restore undoes what was applied: the kernel is exactly as before', () => {
  ipvsadm('-C');
  execFileSync('ipvsadm', ['-R'], { input: RULES });
  const before = table();
  // the weight change and the new server go through, then the kernel refuses a real server on a
  // broadcast address, after which everything must be rolled back
  const failing = `${RULES.replace('198.51.100.2:80 -m -w 2', '198.51.100.2:80 -m -w 9')}-a -t 192.0.2.61:443 -r 198.51.100.9:443 -g -w 1\n-A -t 192.0.2.70:80 -s wrr\n-a -t 192.0.2.70:80 -r 203.0.113.255:80 -m\n`;
  const r = ha(['ipvs', 'restore'], { input: failing });
  assert.equal(r.code, 1, r.stderr);
  assert.match(oneLine(r.stderr), /^ha: restore failed at add real server 203\.0\.113\.255:80 of 192\.0\.2\.70:80\/tcp: .*invalid argument; undid the 3 change\(s\) made before it$/);
  assert.equal(table(), before);
});

test('ha save / ha restore keep services, timeouts and the sync daemon (what ipvsadm -S loses)', () => {
  ipvsadm('-C');
  execFileSync('ipvsadm', ['-R'], { input: RULES });
  ipvsadm('--set', '1000', '110', '310');
  ipvsadm('--start-daemon', 'backup', '--mcast-interface', 'sync0', '--syncid', '7');
  const before = everything();
  const state = join(dir, 'state.json');
  const saved = ha(['save', '--state', state, '--json']);
  assert.equal(saved.code, 0, saved.stderr);
  assert.deepEqual(JSON.parse(saved.stdout).sections.find((s: { name: string }) => s.name === 'ipvs'), { name: 'ipvs', plugin: '@ha/plugin-ipvs', status: 'saved' });
  const doc = JSON.parse(readFileSync(state, 'utf8'));
  assert.deepEqual(doc.ipvs.timeouts, { tcp: 1000, tcpfin: 110, udp: 310 });
  assert.equal(doc.ipvs.daemons.length, 1);
  assert.deepEqual([doc.ipvs.daemons[0].state, doc.ipvs.daemons[0].interface, doc.ipvs.daemons[0].syncid], ['backup', 'sync0', 7]);
  assert.equal(doc.ipvs.services.length, 3);
  // wreck the kernel state, then converge back
  ipvsadm('-C');
  ipvsadm('-A', '-t', '192.0.2.99:80');
  ipvsadm('--set', '900', '120', '300');
  ipvsadm('--stop-daemon', 'backup');
  const diff = ha(['diff', '--state', state]);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /- service 192\.0\.2\.99:80\/tcp/);
  const restored = ha(['restore', '--state', state]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(everything(), before);
  const nothing = ha(['restore', '--state', state]);
  assert.match(nothing.stdout, /already matches/);
  ipvsadm('--stop-daemon', 'backup');
});

test('an invalid ipvs section is rejected with its JSON path, nothing changed', () => {
  ipvsadm('-C');
  ipvsadm('-A', '-t', '192.0.2.40:80', '-s', 'rr');
  const before = everything();
  const cases: Array<[unknown, RegExp]> = [
    [{ services: [{ address: '192.0.2.1', port: 80, scheduler: 'fast' }] }, /\$\.ipvs\.services\[0\]\.scheduler: "fast" is not one of/],
    [{ services: [{ address: '192.0.2.1', port: 0 }] }, /\$\.ipvs\.services\[0\]\.port: port 0 \(all ports\) needs persistence/],
    [{ services: [{ address: '192.0.2.1', port: 80, servers: [{ address: '198.51.100.1', weight: 70000 }] }] }, /\$\.ipvs\.services\[0\]\.servers\[0\]\.weight: 70000 is above the maximum 65535/],
    [{ services: [{ fwmark: 3, port: 80 }] }, /\$\.ipvs\.services\[0\]: a fwmark service has no protocol or port/],
    [{ services: [{ address: '192.0.2.1', port: 80 }, { address: '192.0.2.1', port: 80 }] }, /\$\.ipvs\.services\[1\]: duplicate of services\[0\]/],
    [{ services: [], timeouts: { tcp: 0, tcpfin: 1, udp: 1 } }, /\$\.ipvs\.timeouts\.tcp: 0 is below the minimum 1/],
  ];
  for (const [section, expected] of cases) {
    const file = join(dir, 'bad-state.json');
    writeFileSync(file, JSON.stringify({ version: 1, ipvs: section }));
    const r = ha(['restore', '--state', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), expected);
    assert.equal(everything(), before);
  }
});

test('ipvsadm command lines through ha ipvs do what ipvsadm does, and print what it prints', () => {
  ipvsadm('-C');
  for (const line of [['-A', '-t', '192.0.2.90:80', '-s', 'wrr'], ['-a', '-t', '192.0.2.90:80', '-r', '198.51.100.90:8080', '-m', '-w', '3'], ['-A', '-u', '192.0.2.90:53', '-s', 'rr', '-o'], ['--set', '900', '120', '300']]) {
    const r = ha(['ipvs', ...line]);
    assert.equal(r.code, 0, `ha ipvs ${line.join(' ')}: ${r.stderr}`);
  }
  assert.equal(ha(['ipvs', '-Ln']).stdout, ipvsadm('-Ln'));
  assert.equal(ha(['ipvs', '-L', '-n', '--stats']).stdout, ipvsadm('-L', '-n', '--stats'));
  assert.equal(ha(['ipvs', '-Sn']).stdout, ipvsadm('-Sn'));
  assert.equal(ha(['ipvs', '-Ln', '--timeout']).stdout, ipvsadm('-Ln', '--timeout'));
  assert.equal(ha(['ipvs', '-Ln', '--daemon']).stdout, ipvsadm('-Ln', '--daemon'));
  const saved = ipvsadm('-Sn');
  assert.equal(ha(['ipvs', '-C']).code, 0);
  assert.equal(ipvsadm('-Sn'), '');
  assert.equal(ha(['ipvs', '-R'], { input: saved }).code, 0);
  assert.equal(ipvsadm('-Sn'), saved);
  // the services, as shell completion offers them for -t/-u/-f
  assert.deepEqual(ha(['ipvs', 'complete', 'tcp']).stdout.trim().split('\n'), ['192.0.2.90:80']);
  assert.deepEqual(ha(['ipvs', 'complete', 'udp']).stdout.trim().split('\n'), ['192.0.2.90:53']);
  ipvsadm('-C');
  ipvsadm('--set', '900', '120', '300');
});

test('timeouts past what the kernel takes are refused before anything changes; persistence and thresholds at their limits read back', () => {
  ipvsadm('-C');
  const before = ipvsadm('-Ln', '--timeout');
  const r = ha(['ipvs', 'timeout', '2147484', '0', '0']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(ipvsadm('-Ln', '--timeout'), before);
  assert.equal(ha(['ipvs', 'timeout', '2147483', '0', '0']).code, 0, 'the largest timeout every kernel takes');
  assert.match(ipvsadm('-Ln', '--timeout'), /Timeout \(tcp tcpfin udp\): 2147483 /);
  assert.equal(ha(['ipvs', 'add-service', '-t', '192.0.2.91:80', '-p', '2678400']).code, 0);
  assert.equal(ha(['ipvs', 'add-server', '-t', '192.0.2.91:80', '-r', '198.51.100.91', '-x', '2147483647', '-y', '2147483647']).code, 0);
  assert.match(ipvsadm('-Sn'), /-A -t 192\.0\.2\.91:80 -s wlc -p 2678400/);
  assert.match(ipvsadm('-Ln', '--thresholds'), /198\.51\.100\.91:80 +2147483647 +2147483647/);
  ipvsadm('-C');
  ipvsadm('--set', '900', '120', '300');
});

