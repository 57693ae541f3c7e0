/**
 * The agent's control socket, in process: an Agent on a temporary socket, spoken to by raw
 * connections (garbage, bad versions, over-long and endless lines, half-close, a subscriber that
 * does not read) and by AgentClient (200 clients at once while a 10 ms timer measures how late it
 * fires, event order, service methods, errors), plus the socket's own rules (mode 0600, one agent
 * per socket, stale sockets), /metrics and sd_notify.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Socket, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { native } from '@ha/native';
import { Agent, AgentClient, AgentEvent, AgentStatus, ControlServer, EventBus, ServiceProvider, unixAddress } from '../src/agent/index.js';
import { HaError, UsageError } from '../src/errors.js';
import { Logger } from '../src/log.js';

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-proto-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const logLines: string[] = [];
const logger = new Logger({ write: (l) => { logLines.push(l); } });

/** A service "alpha" with methods: ping, fail (a usage error), and events on demand. */
const alpha: ServiceProvider = {
  name: 'alpha', order: 10,
  start: async (ctx, section) => ({
    reload: async () => ['reloaded'],
    stop: async () => undefined,
    status: () => ({ section, aborted: ctx.signal.aborted }),
    methods: {
      ping: (params) => ({ pong: params }),
      fail: () => { throw new UsageError('alpha: that is not a valid thing', 'EUSAGE'); },
      crash: () => { throw new Error('plain failure'); },
    },
  }),
};

async function startAgent(extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}): Promise<{ agent: Agent; socket: string; state: string; stop(): Promise<void> }> {
  const base = join(dir, `a${++n}`);
  const state = `${base}.json`;
  writeFileSync(state, JSON.stringify({ version: 1, alpha: { n: 1 } }));
  const socket = join(base, 'run', 'agent.sock');
  const agent = new Agent({ stateFile: state, socketPath: socket, sections: [], services: [alpha], version: '0.0.0-test', logger, notify: false, ...extra });
  await agent.start();
  return { agent, socket, state, stop: async () => { await agent.stop('test'); } };
}

interface Raw {
  socket: Socket;
  lines: string[];
  next(): Promise<Record<string, unknown>>;
  closed: Promise<void>;
}

function raw(path: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const lines: string[] = [];
    let buf = '';
    let read = 0;
    let wake: (() => void) | undefined;
    socket.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      wake?.();
    });
    const closed = new Promise<void>((r) => socket.on('close', () => { wake?.(); r(); }));
    socket.on('error', () => undefined);
    const next = async (): Promise<Record<string, unknown>> => {
      while (read >= lines.length) {
        if (socket.destroyed) throw new Error('closed before an answer');
        await new Promise<void>((r) => { wake = r; setTimeout(r, 2000); });
      }
      return JSON.parse(lines[read++]!) as Record<string, unknown>;
    };
    socket.once('connect', () => resolve({ socket, lines, next, closed }));
    socket.once('error', reject);
  });
}

test('garbage gets an error line each, and the connection goes on', async (t) => {
  const a = await startAgent();
  t.after(a.stop);
  const c = await raw(a.socket);
  const cases: Array<[string, string, unknown]> = [
    ['not json', 'EBADMSG', null],
    ['[1,2,3]', 'EPROTO', null],
    ['{"v":1,"method":"agent.status"}', 'EPROTO', null],
    ['{"v":1,"id":{"x":1},"method":"agent.status"}', 'EPROTO', null],
    ['{"v":2,"id":5,"method":"agent.status"}', 'EPROTONOSUPPORT', 5],
    ['{"id":6,"method":"agent.status"}', 'EPROTONOSUPPORT', 6],
    ['{"v":1,"id":7,"method":"nope.nothing"}', 'ENOSYS', 7],
    ['{"v":1,"id":"eight","method":"agent.nothing"}', 'ENOSYS', 'eight'],
    ['{"v":1,"id":9,"method":"agent.status","params":[1]}', 'EINVAL', 9],
    ['{"v":1,"id":10}', 'EPROTO', 10],
    ['{"v":1,"id":11,"method":"alpha.constructor"}', 'ENOSYS', 11],
    ['{"v":1,"id":12,"method":"subscribe","params":{"sources":"vrrp"}}', 'EINVAL', 12],
  ];
  for (const [line, code, id] of cases) {
    c.socket.write(`${line}\n`);
    const r = await c.next();
    assert.equal(r.v, 1, line);
    assert.equal(r.id, id, line);
    assert.equal((r.error as { code: string }).code, code, `${line}: ${JSON.stringify(r)}`);
    assert.equal(typeof (r.error as { message: string }).message, 'string');
  }
  // empty lines and CRLF are fine; the connection still answers
  c.socket.write('\n\r\n{"v":1,"id":99,"method":"agent.status"}\r\n');
  const ok = await c.next();
  assert.equal(ok.id, 99);
  assert.equal((ok.result as AgentStatus).pid, process.pid);
  c.socket.destroy();
});

test('an over-long line, or endless bytes without a newline, close that connection only', async (t) => {
  const a = await startAgent();
  t.after(a.stop);
  const c = await raw(a.socket);
  c.socket.write(`{"v":1,"id":1,"method":"agent.status","params":{"x":"${'a'.repeat(70 * 1024)}"}}\n`);
  const r = await c.next();
  assert.equal((r.error as { code: string }).code, 'EMSGSIZE');
  assert.equal(r.id, null);
  await c.closed;

  // a client that never sends a newline: the agent says so once it has 64 KiB of it, reads no
  // more, and hangs up (at once when the client takes the hint, after a grace period otherwise)
  const e = await raw(a.socket);
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  let sent = 0;
  while (e.lines.length === 0 && !e.socket.destroyed && sent < 64 * 1024 * 1024) {
    if (!e.socket.write(chunk)) await new Promise((r) => { e.socket.once('drain', r); setTimeout(r, 50); });
    sent += chunk.length;
  }
  assert.equal((JSON.parse(e.lines[0] ?? '{}') as { error?: { code: string } }).error?.code, 'EMSGSIZE');
  t.diagnostic(`endless line: refused after ${sent / 1024} KiB sent`);
  e.socket.destroy();

  const client = await AgentClient.connect(a.socket);
  assert.equal((await client.call<AgentStatus>('agent.status')).pid, process.pid);
  client.close();
});

test('a client that half-closes after its request still gets the answer', async (t) => {
  const a = await startAgent();
  t.after(a.stop);
  const c = await raw(a.socket);
  c.socket.end('{"v":1,"id":1,"method":"alpha.ping","params":{"k":2}}\n');
  const r = await c.next();
  assert.deepEqual(r, { v: 1, id: 1, result: { pong: { k: 2 } } });
  await c.closed;
});

test('200 clients at once ask for status while a 10 ms timer stays on time', async (t) => {
  const a = await startAgent();
  t.after(a.stop);
  let late = 0;
  let ticks = 0;
  let expected = performance.now() + 10;
  const timer = setInterval(() => {
    const now = performance.now();
    late = Math.max(late, now - expected);
    expected = now + 10;
    ticks++;
  }, 10);
  const t0 = performance.now();
  try {
    const clients = await Promise.all(Array.from({ length: 200 }, () => AgentClient.connect(a.socket, { timeoutMs: 10_000 })));
    const answers = await Promise.all(clients.map(async (c) => {
      const out: AgentStatus[] = [];
      for (let i = 0; i < 5; i++) out.push(await c.call<AgentStatus>('agent.status'));
      return out;
    }));
    const all = answers.flat();
    assert.equal(all.length, 1000);
    assert.ok(all.every((s) => s.pid === process.pid && s.services[0]?.name === 'alpha'));
    assert.ok(Math.max(...all.map((s) => s.clients)) > 1, 'the clients were connected together');
    for (const c of clients) c.close();
  } finally {
    clearInterval(timer);
  }
  const took = performance.now() - t0;
  t.diagnostic(`200 clients x 5 agent.status: ${took.toFixed(0)} ms; 10 ms timer: ${ticks} ticks, at most ${late.toFixed(1)} ms late`);
  assert.ok(late < 250, `the timer was ${late.toFixed(1)} ms late`);
});

test('a subscriber gets events in order, only of its sources', async (t) => {
  const a = await startAgent();
  t.after(a.stop);
  const all = await AgentClient.connect(a.socket);
  const some = await AgentClient.connect(a.socket);
  const gotAll: AgentEvent[] = [];
  const gotSome: AgentEvent[] = [];
  await all.subscribe(undefined, (e) => gotAll.push(e));
  await some.subscribe(['test'], (e) => gotSome.push(e));
  for (let i = 0; i < 500; i++) {
    a.agent.bus.publish(i % 5 === 0 ? 'other' : 'test', 'tick', { i });
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  await a.agent.reload();
  const deadline = Date.now() + 5000;
  while ((gotAll.length < 501 || gotSome.length < 400) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(gotSome.length, 400);
  assert.ok(gotSome.every((e) => e.source === 'test'));
  const seqs = gotAll.map((e) => e.seq);
  assert.ok(seqs.length >= 501);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1]! + 1, 'events out of order or missing');
  assert.deepEqual(gotAll.slice(0, 3).map((e) => (e.data as { i: number }).i), [0, 1, 2]);
  const reload = gotAll.find((e) => e.type === 'reload');
  assert.equal(reload?.source, 'agent');
  all.close();
  some.close();
});

test('a subscriber that does not read is dropped; the others get everything', async (t) => {
  const a = await startAgent();
  t.after(a.stop);
  const reader = await AgentClient.connect(a.socket);
  const got: AgentEvent[] = [];
  await reader.subscribe(['flood'], (e) => got.push(e));
  const stuck = await raw(a.socket);
  stuck.socket.write('{"v":1,"id":1,"method":"subscribe","params":{"sources":["flood"]}}\n');
  assert.deepEqual((await stuck.next()).result, { subscribed: true, sources: ['flood'] });
  stuck.socket.pause();
  const big = 'x'.repeat(8 * 1024);
  for (let i = 0; i < 3000; i++) {
    a.agent.bus.publish('flood', 'big', { i, big });
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 0));
  }
  const deadline = Date.now() + 10_000;
  while (got.length < 3000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(got.length, 3000, 'the reading subscriber missed events');
  const status = await reader.call<AgentStatus>('agent.status');
  assert.equal(status.clients, 1, 'the stuck subscriber is still connected');
  // what the stuck one finally reads ends with the reason
  stuck.socket.resume();
  await stuck.closed;
  const last = JSON.parse(stuck.lines.at(-1) ?? '{}') as { error?: { code: string; message: string } };
  assert.equal(last.error?.code, 'EOVERFLOW');
  assert.ok(stuck.lines.length < 1200, `the stuck subscriber was sent ${stuck.lines.length} lines before being dropped`);
  t.diagnostic(`stuck subscriber dropped after ${stuck.lines.length - 2} events of 8 KiB`);
  reader.close();
});

test('service methods answer through the socket; their errors keep their codes', async (t) => {
  const a = await startAgent();
  t.after(a.stop);
  const c = await AgentClient.connect(a.socket);
  assert.deepEqual(await c.call('alpha.ping', { a: 1 }), { pong: { a: 1 } });
  await assert.rejects(c.call('alpha.fail'), (e: HaError) => e.code === 'EUSAGE' && e.exitCode === 2 && e.message === 'alpha: that is not a valid thing');
  await assert.rejects(c.call('alpha.crash'), (e: HaError) => e.code === 'EFAILED' && e.exitCode === 1 && /plain failure/.test(e.message));
  await assert.rejects(c.call('beta.ping'), (e: HaError) => e.code === 'ENOSYS');
  const methods = await c.call<string[]>('agent.methods');
  assert.deepEqual(methods.filter((m) => m.startsWith('alpha.')), ['alpha.crash', 'alpha.fail', 'alpha.ping']);
  const r = await c.call<{ accepted: boolean; unchanged: string[] }>('agent.reload');
  assert.equal(r.accepted, true);
  assert.deepEqual(r.unchanged, ['alpha']);
  c.close();
});

test('the socket: folder made 0755, socket 0600, one agent per socket, removed on stop', async () => {
  const a = await startAgent();
  const folder = join(a.socket, '..');
  assert.equal(statSync(folder).mode & 0o777, 0o755);
  assert.equal(statSync(a.socket).mode & 0o777, 0o600);
  assert.ok(statSync(a.socket).isSocket());
  const second = new ControlServer({ path: a.socket, bus: new EventBus(), resolve: () => undefined, logger });
  await assert.rejects(second.listen(), (e: HaError) => e.code === 'EADDRINUSE' && /another ha agent is running with socket .* \(pid \d+/.test(e.message));
  // the first one is unharmed
  const c = await AgentClient.connect(a.socket);
  assert.equal((await c.call<AgentStatus>('agent.status')).pid, process.pid);
  c.close();
  await a.stop();
  assert.throws(() => statSync(a.socket), /ENOENT/);
  assert.throws(() => statSync(`${a.socket}.lock`), /ENOENT/);
  await assert.rejects(AgentClient.connect(a.socket), (e: HaError) => e.code === 'ENOAGENT'
    && e.message === `no ha agent is running (no socket at ${a.socket}); start it with \`ha agent run\``);
});

test('a stale socket is removed; a file that is not a socket is refused', async () => {
  const path = join(dir, `stale${++n}.sock`);
  // a process that listens and dies by SIGKILL leaves its socket file behind
  const r = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(statSync(path).isSocket());
  await assert.rejects(AgentClient.connect(path), (e: HaError) => e.code === 'ENOAGENT' && /nobody answers on/.test(e.message));
  const server = new ControlServer({ path, bus: new EventBus(), resolve: (m) => (m === 'x.y' ? () => 42 : undefined), logger });
  await server.listen();
  assert.ok(logLines.some((l) => /removed a stale socket/.test(l)));
  const c = await AgentClient.connect(path);
  assert.equal(await c.call('x.y'), 42);
  c.close();
  await server.close();

  const file = join(dir, `file${++n}.sock`);
  writeFileSync(file, 'not a socket');
  const refused = new ControlServer({ path: file, bus: new EventBus(), resolve: () => undefined, logger });
  await assert.rejects(refused.listen(), (e: HaError) => e.code === 'EEXIST' && /is not a socket/.test(e.message));
});

test('/metrics serves the agent\'s metrics in Prometheus text; other paths are 404', async (t) => {
  const a = await startAgent({ metrics: { host: '127.0.0.1', port: 0 } });
  t.after(a.stop);
  const where = a.agent.status().metrics!;
  assert.match(where, /^127\.0\.0\.1:\d+$/);
  writeFileSync(a.state, '{"version": 1, "alpha": ');
  await a.agent.reload();
  const res = await fetch(`http://${where}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  assert.match(text, /^ha_agent_up 1$/m);
  assert.match(text, /^ha_agent_reloads_total\{result="refused"\} 1$/m);
  assert.match(text, /^ha_agent_reloads_total\{result="ok"\} 0$/m);
  assert.match(text, /^ha_agent_start_time_seconds \d+(\.\d+)?$/m);
  assert.match(text, /^process_resident_memory_bytes \d+/m);
  assert.equal((await fetch(`http://${where}/`)).status, 404);
  assert.equal((await fetch(`http://${where}/metrics`, { method: 'POST', body: 'x' })).status, 405);
});

test('sd_notify: READY=1 when up, RELOADING=1 then READY=1 around a reload, STOPPING=1', async () => {
  const { socket, bind, recvmsg, close } = native();
  const path = join(dir, `notify${++n}`);
  const fd = socket(1, 2, 0);
  assert.ok(fd >= 0);
  assert.equal(bind(fd, unixAddress(path)), 0);
  const buf = Buffer.alloc(4096);
  const messages = (): string[] => {
    const out: string[] = [];
    for (;;) {
      const r = recvmsg(fd, buf, 0);
      if (typeof r === 'number') return out;
      out.push(buf.toString('utf8', 0, r[0]));
    }
  };
  process.env.NOTIFY_SOCKET = path;
  try {
    const a = await startAgent({ notify: true });
    assert.equal(process.env.NOTIFY_SOCKET, undefined, 'NOTIFY_SOCKET is not handed to what the agent runs');
    assert.deepEqual(messages(), ['READY=1\nSTATUS=running 1 service']);
    await a.agent.reload();
    const [reloading, ready] = messages();
    assert.match(reloading ?? '', /^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading$/);
    assert.equal(ready, 'READY=1\nSTATUS=running 1 service');
    await a.stop();
    assert.deepEqual(messages(), ['STOPPING=1\nSTATUS=stopping']);
  } finally {
    delete process.env.NOTIFY_SOCKET;
    close(fd);
  }
});
