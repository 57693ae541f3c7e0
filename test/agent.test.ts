/**
 * `ha agent` end to end, on the built CLI: `ha agent run` on a temporary state file and socket,
 * with a test-only plugin (written into the test's own data folder) whose service logs what it is
 * asked to do; status, reload, SIGHUP, a refused file, a second agent, SIGTERM (twice), restore
 * telling the agent, sd_notify, and the systemd unit. Nothing here touches /run/ha.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { native } from '@ha/native';
import { AgentClient, AgentStatus, unixAddress } from '@ha/lib/agent';
import { BIN, ha, haSpawn, oneLine, tempDir } from '@ha/lib/testing';

let dir: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
let state: string;
let socket: string;
let serviceLog: string;

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
const json = (s: string): any => JSON.parse(s);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A plugin with a state section "testsvc" ({value}) and a service that runs it, logging to a file. */
function writeFixturePlugin(root: string): string {
  const plugin = join(root, 'plugin-testsvc');
  mkdirSync(plugin, { recursive: true });
  writeFileSync(join(plugin, 'package.json'), JSON.stringify({
    name: 'ha-plugin-testsvc', version: '0.0.0', private: true, type: 'module',
    oclif: { hooks: { 'ha:sections': './sections.js', 'ha:services': './services.js' } },
  }));
  writeFileSync(join(plugin, 'sections.js'), `export default async function () {
  return {
    name: 'testsvc', order: 60, kind: 'config',
    schema: { type: 'object', required: ['value'], additionalProperties: false, properties: { value: { type: 'integer', minimum: 0, maximum: 1000 } } },
    async available() {}, async capture() { return {}; }, async plan() { return []; },
  };
}
`);
  writeFileSync(join(plugin, 'services.js'), `import { appendFileSync } from 'node:fs';
const log = (line) => appendFileSync(process.env.HA_TEST_SERVICE_LOG, line + '\\n');
export default async function () {
  return {
    name: 'testsvc', order: 60,
    async start(ctx, section) {
      let value = section.value;
      log('start ' + value);
      ctx.bus.publish('testsvc', 'started', { value });
      return {
        async reload(next) { const was = value; value = next.value; log('reload ' + was + ' -> ' + value); return ['value ' + was + ' -> ' + value]; },
        async stop() { const ms = Number(process.env.HA_TEST_STOP_MS || 0); if (ms) await new Promise((r) => setTimeout(r, ms)); log('stop ' + value); },
        status() { return { value }; },
        methods: { get: () => ({ value }) },
      };
    },
  };
}
`);
  const data = join(root, 'data');
  mkdirSync(join(data, 'node_modules'), { recursive: true });
  symlinkSync(plugin, join(data, 'node_modules', 'ha-plugin-testsvc'));
  writeFileSync(join(data, 'package.json'), JSON.stringify({
    private: true, dependencies: { 'ha-plugin-testsvc': '0.0.0' }, oclif: { schema: 1, plugins: [{ type: 'user', name: 'ha-plugin-testsvc' }] },
  }));
  return data;
}

before(() => {
  dir = tempDir('agent');
  state = join(dir.path, 'state.json');
  socket = join(dir.path, 'run', 'a.sock');
  serviceLog = join(dir.path, 'service.log');
  // NOTIFY_SOCKET of whatever runs the tests is not the agent's to use
  env = { HA_DATA_DIR: writeFixturePlugin(dir.path), HA_TEST_SERVICE_LOG: serviceLog, NOTIFY_SOCKET: '' };
});
after(() => dir.remove());

const serviceLines = (): string[] => (existsSync(serviceLog) ? readFileSync(serviceLog, 'utf8').trim().split('\n').filter(Boolean) : []);

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `ha agent run` and wait until its socket answers. */
async function runAgent(args: string[], extraEnv: NodeJS.ProcessEnv = {}, sock = socket): Promise<Running> {
  const child = haSpawn(['agent', 'run', '--state', state, '--socket', sock, ...args], { env: { ...env, ...extraEnv } });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
  // 'close', not 'exit': the agent's last log lines may still be in the pipe when it exits
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  let exited = false;
  void exit.then(() => { exited = true; });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`ha agent run exited early:\n${stderr}`);
    try {
      const c = await AgentClient.connect(sock, { timeoutMs: 1000 });
      const s = await c.call<AgentStatus>('agent.status');
      c.close();
      if (s.pid === child.pid && s.lastReload) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ha agent run did not answer within 20 s:\n${stderr}`);
    }
    await sleep(50);
  }
  return { child, stderr: () => stderr, exit };
}

async function statusOf(sock = socket): Promise<AgentStatus> {
  const c = await AgentClient.connect(sock);
  try {
    return await c.call<AgentStatus>('agent.status');
  } finally {
    c.close();
  }
}

test('ha agent run: status, reload, SIGHUP, a refused file, a second agent, restore, SIGTERM', async (t) => {
  writeFileSync(state, JSON.stringify({ version: 1, testsvc: { value: 1 } }));
  // sd_notify: a datagram socket standing in for systemd's
  const { socket: mksocket, bind, recvmsg, close } = native();
  const notifyPath = join(dir.path, 'notify');
  const nfd = mksocket(1, 2, 0);
  assert.equal(bind(nfd, unixAddress(notifyPath)), 0);
  t.after(() => close(nfd));
  const notes = (): string[] => {
    const out: string[] = [];
    const buf = Buffer.alloc(4096);
    for (let r = recvmsg(nfd, buf, 0); typeof r !== 'number'; r = recvmsg(nfd, buf, 0)) out.push(buf.toString('utf8', 0, r[0]));
    return out;
  };

  const agent = await runAgent([], { NOTIFY_SOCKET: notifyPath });
  t.after(() => { if (agent.child.exitCode === null) agent.child.kill('SIGKILL'); });
  assert.deepEqual(serviceLines(), ['start 1']);
  assert.deepEqual(notes(), ['READY=1\nSTATUS=running 1 service']);
  assert.equal(statSync(socket).mode & 0o777, 0o600);
  assert.ok(statSync(socket).isSocket());

  // status, as JSON (checked against its schema by the harness) and for people
  let r = ha(['agent', 'status', '--socket', socket, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const st = json(r.stdout) as AgentStatus;
  assert.equal(st.pid, agent.child.pid);
  assert.equal(st.stateFile, state);
  assert.equal(st.socket, socket);
  assert.equal(st.digest, sha(state));
  assert.deepEqual(st.services.map((s) => [s.name, s.plugin, s.state, s.status]), [['testsvc', 'ha-plugin-testsvc', 'running', { value: 1 }]]);
  assert.deepEqual(st.methods, ['testsvc.get']);
  r = ha(['agent', 'status', '--socket', socket], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`pid ${agent.child.pid}, ha \\d`));
  assert.match(r.stdout, /^testsvc\s+running\s/m);

  // reload with nothing changed: the service is not touched
  r = ha(['agent', 'reload', '--socket', socket], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /nothing changed \(1 unchanged\)/);
  assert.deepEqual(serviceLines(), ['start 1']);

  // a changed section is reloaded in place
  writeFileSync(state, JSON.stringify({ version: 1, testsvc: { value: 2 } }));
  r = ha(['agent', 'reload', '--socket', socket, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r.stdout).changes, [{ section: 'testsvc', action: 'reloaded', lines: ['value 1 -> 2'] }]);
  assert.deepEqual(serviceLines(), ['start 1', 'reload 1 -> 2']);
  const good = sha(state);

  // an invalid file is refused (exit 2, one line naming the path); the agent keeps the old one
  writeFileSync(state, JSON.stringify({ version: 1, testsvc: { value: 'lots' } }));
  r = ha(['agent', 'reload', '--socket', socket], { env });
  assert.equal(r.code, 2);
  assert.match(oneLine(r.stderr), /^ha: state file .*: \$\.testsvc\.value: .*; the agent keeps running the previous configuration$/);
  r = ha(['agent', 'reload', '--socket', socket, '--json'], { env });
  assert.equal(r.code, 2);
  assert.equal(json(r.stdout).error.code, 'ESTATE');
  let now = await statusOf();
  assert.equal(now.digest, good);
  assert.equal(now.lastReload?.accepted, false);
  assert.deepEqual(now.services[0]?.status, { value: 2 });
  assert.deepEqual(serviceLines(), ['start 1', 'reload 1 -> 2']);

  // SIGHUP: the file is read again; the section went, so its service stops
  writeFileSync(state, JSON.stringify({ version: 1 }));
  notes();
  agent.child.kill('SIGHUP');
  const deadline = Date.now() + 10_000;
  while ((now = await statusOf()).digest !== sha(state) && Date.now() < deadline) await sleep(50);
  assert.equal(now.digest, sha(state), 'SIGHUP did not reload');
  assert.deepEqual(now.services, []);
  assert.deepEqual(serviceLines(), ['start 1', 'reload 1 -> 2', 'stop 2']);
  const hupNotes = notes();
  assert.match(hupNotes[0] ?? '', /^RELOADING=1\nMONOTONIC_USEC=\d+/);
  assert.equal(hupNotes[1], 'READY=1\nSTATUS=running 0 services');

  // a second agent on the same socket is refused, and the first one is unharmed
  r = ha(['agent', 'run', '--state', state, '--socket', socket], { env });
  assert.equal(r.code, 1);
  assert.match(oneLine(r.stderr), new RegExp(`^ha: another ha agent is running with socket ${socket} \\(pid ${agent.child.pid}`));
  assert.equal((await statusOf()).pid, agent.child.pid);

  // ha restore tells a running agent, in one line and in its JSON
  writeFileSync(state, JSON.stringify({ version: 1, testsvc: { value: 7 } }));
  r = ha(['restore', '--state', state], { env: { ...env, HA_AGENT_SOCKET: socket } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ha agent: reloaded .*: 1 started$/m);
  r = ha(['restore', '--state', state, '--json'], { env: { ...env, HA_AGENT_SOCKET: socket } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(json(r.stdout).agent, { reloaded: true, message: `reloaded ${state}: nothing changed (1 unchanged)` });
  // a restore of another file does not make the agent read its own
  const other = join(dir.path, 'other.json');
  writeFileSync(other, JSON.stringify({ version: 1 }));
  r = ha(['restore', '--state', other, '--json'], { env: { ...env, HA_AGENT_SOCKET: socket } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(json(r.stdout).agent.reloaded, false);
  assert.match(json(r.stdout).agent.message, /^not reloaded: it runs .*state\.json, not .*other\.json$/);
  assert.deepEqual(serviceLines(), ['start 1', 'reload 1 -> 2', 'stop 2', 'start 7']);

  // SIGTERM: every service stopped, the socket removed, exit 0
  notes();
  agent.child.kill('SIGTERM');
  const end = await agent.exit;
  assert.deepEqual(end, { code: 0, signal: null }, agent.stderr());
  assert.equal(serviceLines().at(-1), 'stop 7');
  assert.ok(!existsSync(socket), 'the socket is removed');
  assert.ok(!existsSync(`${socket}.lock`), 'the lock file is removed');
  assert.deepEqual(notes(), ['STOPPING=1\nSTATUS=stopping']);
  const log = agent.stderr();
  assert.match(log, /info agent: agent running pid=\d+/);
  assert.match(log, /warn agent: reload-refused: state file .*\$\.testsvc\.value/);
  assert.match(log, /info agent: SIGHUP: reloading the state file/);
  assert.match(log, /info agent: SIGTERM: stopping every service/);
  assert.match(log, /info agent: agent stopped stoppedBy=SIGTERM stopped=testsvc/);
  assert.match(log, /info testsvc: started seq=\d+ value=1/);

  // once it is gone, the clients say so in one line
  r = ha(['agent', 'status', '--socket', socket], { env });
  assert.equal(r.code, 1);
  assert.equal(oneLine(r.stderr), `ha: no ha agent is running (no socket at ${socket}); start it with \`ha agent run\``);
  r = ha(['agent', 'reload', '--socket', socket, '--json'], { env });
  assert.equal(r.code, 1);
  assert.equal(json(r.stdout).error.code, 'ENOAGENT');
  // and restore says nothing about an agent
  r = ha(['restore', '--state', state, '--json'], { env: { ...env, HA_AGENT_SOCKET: socket } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(json(r.stdout).agent, undefined);
});

test('a second signal while stopping is said and ignored; JSON logs; --json summary', async () => {
  writeFileSync(state, JSON.stringify({ version: 1, testsvc: { value: 3 } }));
  const sock = join(dir.path, 'run2', 'b.sock');
  const agent = await runAgent(['--log-format', 'json', '--json'], { HA_TEST_STOP_MS: '800' }, sock);
  let stdout = '';
  agent.child.stdout!.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
  try {
    agent.child.kill('SIGTERM');
    await sleep(200);
    agent.child.kill('SIGTERM');
    agent.child.kill('SIGINT');
    const end = await agent.exit;
    assert.deepEqual(end, { code: 0, signal: null }, agent.stderr());
  } finally {
    if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
  }
  assert.equal(serviceLines().at(-1), 'stop 3', 'the slow stop finished');
  const lines = agent.stderr().trim().split('\n').map((l) => json(l) as { level: string; component?: string; msg: string });
  assert.ok(lines.every((l) => typeof l.msg === 'string' && typeof l.level === 'string'));
  assert.ok(lines.some((l) => l.level === 'warn' && /^SIGTERM again: already stopping, ignored/.test(l.msg)));
  assert.ok(lines.some((l) => l.level === 'warn' && /^SIGINT again: already stopping, ignored/.test(l.msg)));
  const summary = json(stdout);
  assert.equal(summary.stoppedBy, 'SIGTERM');
  assert.deepEqual(summary.servicesStopped, ['testsvc']);
  assert.deepEqual(summary.reloads, { ok: 0, refused: 0, failed: 0 });
});

test('ha agent run refuses an invalid state file (exit 2) and bad flags', () => {
  const bad = join(dir.path, 'bad.json');
  writeFileSync(bad, JSON.stringify({ version: 1, testsvc: { value: -1 } }));
  const sock = join(dir.path, 'run3', 'c.sock');
  let r = ha(['agent', 'run', '--state', bad, '--socket', sock], { env });
  assert.equal(r.code, 2);
  assert.match(oneLine(r.stderr), /^ha: state file .*bad\.json: \$\.testsvc\.value: /);
  assert.ok(!existsSync(sock), 'no socket is left behind');
  r = ha(['agent', 'run', '--state', bad, '--socket', sock, '--metrics', '192.0.2.1'], { env });
  assert.equal(r.code, 2);
  assert.match(oneLine(r.stderr), /--metrics: "192\.0\.2\.1" is not ADDR:PORT/);
  r = ha(['agent', 'run', '--state', bad, '--socket', sock, '--metrics', '127.0.0.1:70000'], { env });
  assert.equal(r.code, 2);
  assert.match(oneLine(r.stderr), /--metrics: "70000" is not a port from 1 to 65535/);
  r = ha(['agent', 'run', '--log-format', 'xml'], { env });
  assert.equal(r.code, 2);
});

test('ha agent unit prints a systemd unit with the absolute path of ha and the flags given', () => {
  let r = ha(['agent', 'unit', '--state', './lb1.json', '--socket', socket, '--metrics', '[::1]:9105', '--log-level', 'debug'], { env, cwd: dir.path });
  assert.equal(r.code, 0, r.stderr);
  const unit = r.stdout;
  for (const line of ['[Unit]', 'After=network-online.target', 'Wants=network-online.target', '[Service]', 'Type=notify', 'Restart=on-failure', 'RestartPreventExitStatus=2', '[Install]', 'WantedBy=multi-user.target']) {
    assert.ok(unit.split('\n').includes(line), `no line ${line}:\n${unit}`);
  }
  const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
  assert.ok(exec.split(' ').includes(BIN), `ExecStart does not name ${BIN}: ${exec}`);
  assert.ok(exec.endsWith(`agent run --state ${join(dir.path, 'lb1.json')} --socket ${socket} --log-level debug --metrics [::1]:9105`), exec);
  assert.match(unit, new RegExp(`^ExecReload=.*${BIN.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} agent reload --socket ${socket}$`, 'm'));
  r = ha(['agent', 'unit', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const out = json(r.stdout);
  assert.equal(out.path, '/etc/systemd/system/ha-agent.service');
  assert.deepEqual(out.execStart.slice(-2), ['agent', 'run'], 'no flags given, none written');
  assert.match(out.unit, /^ExecReload=.* agent reload$/m);
});
