/**
 * The agent's runtime without sockets: the supervisor driving fake services through start,
 * reloads (unchanged, changed, removed, added, invalid, failing) and stop; the event bus's order
 * and its bound on slow subscribers; the manual clock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Registry } from 'prom-client';
import { AgentEvent, EventBus, ManualClock, Service, ServiceProvider, Supervisor, canonicalJson, execWord, parseListenAddress, sha256 } from '../src/agent/index.js';
import { HaError } from '../src/errors.js';
import { Logger } from '../src/log.js';
import type { SectionProvider } from '../src/state/contract.js';

const dir = mkdtempSync(join(tmpdir(), 'ha-agent-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

const quiet = (): { logger: Logger; lines: string[] } => {
  const lines: string[] = [];
  return { logger: new Logger({ write: (l) => { lines.push(l); } }), lines };
};

/** A section provider that validates {n: integer 0..100}. */
function sectionOf(name: string, order: number): SectionProvider {
  return {
    name, order, kind: 'config',
    schema: { type: 'object', required: ['n'], additionalProperties: false, properties: { n: { type: 'integer', minimum: 0, maximum: 100 } } },
    available: async () => undefined,
    capture: async () => ({}),
    plan: async () => [],
    check: (s) => ((s as { n: number }).n === 13 ? [['.n', 'unlucky']] : []),
  };
}

interface Fake {
  log: string[];
  providers: ServiceProvider[];
  /** Make the next reload (or start) of a service fail. */
  failNext: Set<string>;
  /** Services whose stop() never resolves. */
  hang: Set<string>;
}

function fakes(names: Array<[string, number]>): Fake {
  const f: Fake = { log: [], providers: [], failNext: new Set(), hang: new Set() };
  for (const [name, order] of names) {
    f.providers.push({
      name, order,
      async start(ctx, section) {
        if (f.failNext.delete(`start ${name}`)) throw new Error(`${name} cannot start`);
        let current = section as { n: number };
        f.log.push(`start ${name} ${canonicalJson(section)}`);
        ctx.bus.publish(name, 'started', { n: current.n });
        const service: Service = {
          async reload(next) {
            if (f.failNext.delete(`reload ${name}`)) throw new Error(`${name} refuses`);
            const was = current.n;
            current = next as { n: number };
            f.log.push(`reload ${name} ${canonicalJson(next)}`);
            return [`n ${was} -> ${current.n}`];
          },
          async stop() {
            f.log.push(`stop ${name}`);
            if (f.hang.has(name)) await new Promise(() => undefined);
          },
          status: () => ({ n: current.n }),
          methods: { ping: (params) => ({ pong: name, params }) },
        };
        return service;
      },
    });
  }
  return f;
}

function stateFile(doc: unknown): string {
  const p = join(dir, `state-${++fileNo}.json`);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
}

function supervisor(file: string, f: Fake, extra: { stopTimeoutMs?: number } = {}): Supervisor {
  return new Supervisor({
    stateFile: file,
    sections: [sectionOf('alpha', 10), sectionOf('beta', 20), sectionOf('gamma', 30)],
    services: f.providers,
    metrics: new Registry(),
    logger: quiet().logger,
    ...extra,
  });
}

test('start runs a service for each section present, in order; status and digest say what runs', async () => {
  const f = fakes([['gamma', 30], ['alpha', 10], ['beta', 20]]);
  const text = JSON.stringify({ version: 1, beta: { n: 2 }, alpha: { n: 1 } });
  const file = stateFile(text);
  const s = supervisor(file, f);
  const r = await s.start();
  assert.deepEqual(f.log, ['start alpha {"n":1}', 'start beta {"n":2}']);
  assert.equal(r.ok, true);
  assert.equal(r.digest, sha256(text));
  assert.deepEqual(r.changes.map((c) => `${c.action} ${c.section}`), ['started alpha', 'started beta']);
  const st = s.status();
  assert.equal(st.digest, sha256(text));
  assert.deepEqual(st.services.map((x) => [x.name, x.state, x.status]), [['alpha', 'running', { n: 1 }], ['beta', 'running', { n: 2 }]]);
  assert.deepEqual(s.methodNames(), ['alpha.ping', 'beta.ping']);
  await s.stop();
});

test('reload: unchanged untouched, changed reloaded, removed stopped, added started', async () => {
  const f = fakes([['alpha', 10], ['beta', 20], ['gamma', 30]]);
  const file = stateFile({ version: 1, alpha: { n: 1 }, beta: { n: 2 } });
  const s = supervisor(file, f);
  await s.start();
  f.log.length = 0;

  // the same data, other key order and spacing: nothing is touched
  writeFileSync(file, '{\n  "beta": {"n": 2},\n  "alpha": {"n": 1},\n  "version": 1\n}\n');
  let r = await s.reload();
  assert.deepEqual(f.log, []);
  assert.deepEqual(r.unchanged, ['alpha', 'beta']);
  assert.deepEqual(r.changes, []);
  assert.match(r.message, /nothing changed \(2 unchanged\)/);

  // one section changed: only its service hears of it
  writeFileSync(file, JSON.stringify({ version: 1, alpha: { n: 5 }, beta: { n: 2 } }));
  r = await s.reload();
  assert.deepEqual(f.log, ['reload alpha {"n":5}']);
  assert.deepEqual(r.changes, [{ section: 'alpha', action: 'reloaded', lines: ['n 1 -> 5'] }]);
  assert.deepEqual(r.unchanged, ['beta']);

  // beta removed, gamma added: beta stopped first, then gamma started
  f.log.length = 0;
  writeFileSync(file, JSON.stringify({ version: 1, alpha: { n: 5 }, gamma: { n: 3 } }));
  r = await s.reload();
  assert.deepEqual(f.log, ['stop beta', 'start gamma {"n":3}']);
  assert.deepEqual(r.changes.map((c) => `${c.action} ${c.section}`), ['stopped beta', 'started gamma']);
  assert.equal(r.ok, true);
  assert.deepEqual(s.status().services.map((x) => x.name), ['alpha', 'gamma']);
  await s.stop();
});

test('a file that does not validate is refused and the previous configuration keeps running', async () => {
  const f = fakes([['alpha', 10], ['beta', 20]]);
  const file = stateFile({ version: 1, alpha: { n: 1 }, beta: { n: 2 } });
  const s = supervisor(file, f);
  const first = await s.start();
  f.log.length = 0;
  const cases: Array<[string, RegExp, string]> = [
    [JSON.stringify({ version: 1, alpha: { n: 'x' }, beta: { n: 2 } }), /\$\.alpha\.n/, 'ESTATE'],
    [JSON.stringify({ version: 1, alpha: { n: 13 }, beta: { n: 2 } }), /\$\.alpha\.n: unlucky/, 'ESTATE'],
    ['{"version": 1, "alpha": {"n": 1}', /not valid JSON/, 'ESTATE'],
    ['{"version": 1, "alpha": {"n": 1}, "alpha": {"n": 2}}', /duplicate key "alpha"/, 'ESTATE'],
    [JSON.stringify({ version: 2 }), /unsupported version 2/, 'ESTATE'],
  ];
  for (const [text, why, code] of cases) {
    writeFileSync(file, text);
    const r = await s.reload();
    assert.equal(r.accepted, false, text);
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, code);
    assert.match(r.message, why);
    assert.match(r.message, /the agent keeps running the previous configuration$/);
    assert.equal(r.digest, sha256(text), 'the refused file is named by its digest');
  }
  assert.deepEqual(f.log, [], 'no service was touched');
  const st = s.status();
  assert.equal(st.digest, first.digest, 'the running configuration is still the first file');
  assert.equal(st.lastReload?.accepted, false);
  assert.deepEqual(st.services.map((x) => [x.name, x.state]), [['alpha', 'running'], ['beta', 'running']]);

  // a file that went away is refused too, once running
  rmSync(file);
  const gone = await s.reload();
  assert.equal(gone.accepted, false);
  assert.equal(gone.error?.code, 'ENOFILE');
  assert.deepEqual(f.log, []);
  await s.stop();
});

test('an invalid file at start throws (exit 2); a missing one runs nothing until it appears', async () => {
  const f = fakes([['alpha', 10]]);
  const bad = supervisor(stateFile({ version: 1, alpha: { n: 1000 } }), f);
  await assert.rejects(bad.start(), (e: HaError) => e.exitCode === 2 && e.code === 'ESTATE' && /\$\.alpha\.n/.test(e.message));
  assert.deepEqual(f.log, []);

  const file = join(dir, 'not-yet.json');
  const s = supervisor(file, f);
  const r = await s.start();
  assert.equal(r.ok, true);
  assert.match(r.message, /missing/);
  assert.equal(s.status().services.length, 0);
  writeFileSync(file, JSON.stringify({ version: 1, alpha: { n: 4 } }));
  await s.reload();
  assert.deepEqual(f.log, ['start alpha {"n":4}']);
  await s.stop();
});

test('a failed reload keeps the old section (and is retried); a failed start is retried', async () => {
  const f = fakes([['alpha', 10], ['beta', 20]]);
  const file = stateFile({ version: 1, alpha: { n: 1 } });
  const s = supervisor(file, f);
  await s.start();
  f.failNext.add('reload alpha');
  writeFileSync(file, JSON.stringify({ version: 1, alpha: { n: 2 } }));
  let r = await s.reload();
  assert.equal(r.accepted, true);
  assert.equal(r.ok, false);
  assert.equal(r.changes[0]?.action, 'failed');
  assert.match(r.changes[0]?.error ?? '', /still running the previous section: alpha refuses/);
  assert.deepEqual(s.status().services[0]?.status, { n: 1 });
  // the same file again: the service is not yet running it, so it is asked again
  r = await s.reload();
  assert.deepEqual(r.changes.map((c) => c.action), ['reloaded']);
  assert.deepEqual(s.status().services[0]?.status, { n: 2 });

  f.failNext.add('start beta');
  writeFileSync(file, JSON.stringify({ version: 1, alpha: { n: 2 }, beta: { n: 1 } }));
  r = await s.reload();
  assert.equal(r.ok, false);
  assert.match(r.message, /beta failed: could not start: beta cannot start/);
  assert.deepEqual(s.status().services.map((x) => [x.name, x.state]), [['alpha', 'running'], ['beta', 'failed']]);
  assert.equal(s.method('beta.ping'), undefined);
  r = await s.reload();
  assert.deepEqual(r.changes.map((c) => `${c.action} ${c.section}`), ['started beta']);
  assert.deepEqual(r.unchanged, ['alpha']);
  await s.stop();
});

test('stop goes in reverse order, and within its deadline even when a service hangs', async () => {
  const f = fakes([['alpha', 10], ['beta', 20], ['gamma', 30]]);
  const s = supervisor(stateFile({ version: 1, alpha: { n: 1 }, beta: { n: 1 }, gamma: { n: 1 } }), f, { stopTimeoutMs: 300 });
  await s.start();
  f.log.length = 0;
  f.hang.add('beta');
  const t0 = Date.now();
  const r = await s.stop();
  const took = Date.now() - t0;
  assert.deepEqual(f.log, ['stop gamma', 'stop beta', 'stop alpha']);
  // the hung one is left behind; the ones after it still get their stop
  assert.deepEqual(r, { stopped: ['gamma', 'alpha'], abandoned: ['beta'] });
  assert.ok(took >= 290, `stop gave up on beta after ${took} ms`);
  assert.ok(took < 1000, `stop took ${took} ms`);
  const again = await s.reload();
  assert.equal(again.accepted, false, 'no reload once stopping');
});

test('control methods: own methods of running services only', async () => {
  const f = fakes([['alpha', 10]]);
  const s = supervisor(stateFile({ version: 1, alpha: { n: 1 } }), f);
  await s.start();
  assert.deepEqual(await s.call('alpha.ping', { a: 1 }, { method: 'alpha.ping', client: 'test' }), { pong: 'alpha', params: { a: 1 } });
  for (const name of ['alpha.constructor', 'alpha.toString', 'alpha.__proto__', 'alpha', 'beta.ping', '.ping', 'alpha.']) assert.equal(s.method(name), undefined, name);
  await assert.rejects(s.call('alpha.nope', {}, { method: 'alpha.nope', client: 'test' }), /no method alpha\.nope/);
  await s.stop();
});

test('reloads run one at a time, and many requests during one are served by one more', async () => {
  let active = 0;
  let maxActive = 0;
  let reloads = 0;
  const provider: ServiceProvider = {
    name: 'alpha', order: 10,
    start: async () => ({
      async reload() {
        active++;
        reloads++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 20));
        active--;
        return [];
      },
      stop: async () => undefined,
      status: () => null,
    }),
  };
  const file = stateFile({ version: 1, alpha: { n: 1 } });
  const s = new Supervisor({ stateFile: file, sections: [sectionOf('alpha', 10)], services: [provider], metrics: new Registry(), logger: quiet().logger });
  await s.start();
  let n = 1;
  const results = [];
  writeFileSync(file, JSON.stringify({ version: 1, alpha: { n: ++n } }));
  results.push(s.reload());
  await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 5; i++) {
    writeFileSync(file, JSON.stringify({ version: 1, alpha: { n: ++n } }));
    results.push(s.reload());
  }
  const all = await Promise.all(results);
  assert.equal(maxActive, 1, 'two reloads overlapped');
  assert.equal(reloads, 2, 'the queued requests were served by one reload');
  assert.equal(all.at(-1)?.digest, sha256(JSON.stringify({ version: 1, alpha: { n } })), 'the last reload read the last file');
  await s.stop();
});

test('bus: every subscriber gets every event in order, whatever its pace', async () => {
  const bus = new EventBus();
  const got: number[][] = [[], [], []];
  bus.subscribe((e) => { got[0]!.push(e.seq); });
  bus.subscribe(async (e) => { got[1]!.push(e.seq); if (e.seq % 7 === 0) await new Promise((r) => setTimeout(r, 1)); });
  // a subscriber that publishes while handling: everybody still sees its events after the cause
  bus.subscribe((e) => { got[2]!.push(e.seq); if (e.source === 'a' && e.seq % 10 === 0) bus.publish('b', 'echo', { of: e.seq }); });
  const published: number[] = [];
  for (let i = 0; i < 300; i++) {
    published.push(bus.publish('a', 'tick', { i }).seq);
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 200));
  const total = bus.lastSeq;
  assert.equal(total, 330);
  for (const list of got) assert.deepEqual(list, Array.from({ length: total }, (_, k) => k + 1));
});

test('bus: publish never runs a handler inside it; sources filter; a throwing handler does not stop delivery', async () => {
  const { logger, lines } = quiet();
  const bus = new EventBus({ logger });
  const seen: string[] = [];
  bus.subscribe((e) => { seen.push(`${e.source}:${e.seq}`); if (e.seq === 2) throw new Error('boom'); }, { sources: ['vrrp'] });
  bus.publish('vrrp', 'x');
  bus.publish('vrrp', 'x');
  bus.publish('checks', 'x');
  bus.publish('vrrp', 'x');
  assert.deepEqual(seen, [], 'delivered after publish returns');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['vrrp:1', 'vrrp:2', 'vrrp:4']);
  assert.equal(lines.filter((l) => /an event handler failed/.test(l)).length, 1);
});

test('bus: a subscriber that does not keep up is dropped at its bound; the others are not held back', async () => {
  const bus = new EventBus({ maxQueue: 50 });
  let dropped: HaError | undefined;
  const fast: AgentEvent[] = [];
  bus.subscribe((e) => { fast.push(e); });
  const stuck = bus.subscribe(() => new Promise<void>(() => undefined), { name: 'client 9', onDrop: (e) => { dropped = e; } });
  let most = 0;
  for (let i = 0; i < 1000; i++) {
    bus.publish('a', 'tick', { i });
    most = Math.max(most, stuck.queued);
    if (i % 10 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  assert.ok(most <= 50, `the stuck subscriber's queue reached ${most}`);
  assert.equal(stuck.closed, true);
  assert.equal(dropped?.code, 'EOVERFLOW');
  assert.match(dropped?.message ?? '', /client 9 fell \d+ events behind/);
  assert.equal(bus.subscriberCount, 1);
  const ticks = fast.filter((e) => e.type === 'tick').length;
  assert.equal(ticks, 1000);
  const drop = fast.find((e) => e.type === 'subscriber-dropped');
  assert.deepEqual(drop?.data, { subscriber: 'client 9', queued: 50 });
  assert.deepEqual(fast.map((e) => e.seq), Array.from({ length: fast.length }, (_, k) => k + 1));
  // a burst far over the bound, to a subscriber that keeps up, drops nobody
  const before = fast.length;
  for (let i = 0; i < 5000; i++) bus.publish('a', 'burst');
  await new Promise((r) => setImmediate(r));
  assert.equal(fast.length - before, 5000);
  assert.equal(bus.subscriberCount, 1);
});

test('manual clock: timers fire in due order, with now() at their due time, including ones set meanwhile', () => {
  const clock = new ManualClock(1000);
  const fired: string[] = [];
  clock.setTimer(30, () => fired.push(`b@${clock.now()}`));
  clock.setTimer(10, () => {
    fired.push(`a@${clock.now()}`);
    clock.setTimer(5, () => fired.push(`c@${clock.now()}`));
  });
  const gone = clock.setTimer(20, () => fired.push('never'));
  clock.clearTimer(gone);
  clock.setTimer(100, () => fired.push('later'));
  clock.advance(50);
  assert.deepEqual(fired, ['a@1010', 'c@1015', 'b@1030']);
  assert.equal(clock.now(), 1050);
  assert.equal(clock.pending, 1);
});

test('a service\'s context: its own logger, the bus, the clock, and a signal aborted before stop()', async () => {
  const { logger, lines } = quiet();
  const clock = new ManualClock();
  const seen: string[] = [];
  let ctxSignal: AbortSignal | undefined;
  const provider: ServiceProvider = {
    name: 'alpha', order: 10,
    start: async (ctx) => {
      ctxSignal = ctx.signal;
      ctx.logger.info('hello', { k: 1 });
      ctx.clock.setTimer(1000, () => ctx.bus.publish('alpha', 'timer'));
      assert.equal(ctx.stateFile, file);
      assert.ok(ctx.metrics instanceof Registry);
      return { reload: async () => [], stop: async () => { seen.push(`stop aborted=${ctx.signal.aborted}`); }, status: () => null };
    },
  };
  const file = stateFile({ version: 1, alpha: { n: 1 } });
  const bus = new EventBus();
  bus.subscribe((e) => { seen.push(`${e.source}/${e.type}`); });
  const s = new Supervisor({ stateFile: file, sections: [sectionOf('alpha', 10)], services: [provider], metrics: new Registry(), logger, bus, clock });
  await s.start();
  assert.ok(lines.some((l) => /info alpha: hello k=1/.test(l)), lines.join(''));
  clock.advance(999);
  await new Promise((r) => setImmediate(r));
  assert.ok(!seen.includes('alpha/timer'));
  clock.advance(1);
  await new Promise((r) => setImmediate(r));
  assert.ok(seen.includes('alpha/timer'));
  assert.equal(ctxSignal?.aborted, false);
  await s.stop();
  await new Promise((r) => setImmediate(r));
  assert.ok(seen.includes('stop aborted=true'));
  assert.deepEqual(seen.filter((x) => x.startsWith('agent/')), ['agent/service-started', 'agent/reload', 'agent/service-stopped']);
});

test('unit words are quoted and escaped as systemd reads them; listen addresses are checked', () => {
  assert.equal(execWord('/usr/bin/ha'), '/usr/bin/ha');
  assert.equal(execWord('[::1]:9105'), '[::1]:9105');
  assert.equal(execWord('/etc/ha/my state.json'), '"/etc/ha/my state.json"');
  assert.equal(execWord('50%'), '50%%');
  assert.equal(execWord('$HOME'), '"$$HOME"');
  assert.equal(execWord('a"b\\c'), '"a\\"b\\\\c"');
  assert.deepEqual(parseListenAddress('127.0.0.1:9105'), { host: '127.0.0.1', port: 9105 });
  assert.deepEqual(parseListenAddress('[2001:db8::1]:80'), { host: '2001:db8::1', port: 80 });
  assert.deepEqual(parseListenAddress('localhost:1'), { host: '127.0.0.1', port: 1 });
  for (const bad of ['9105', ':9105', '127.0.0.1:0', '127.0.0.1:65536', '2001:db8::1:80', '[192.0.2.1]:80', 'host.example:80', '127.0.0.1:9105x']) {
    assert.throws(() => parseListenAddress(bad), (e: HaError) => e.exitCode === 2 && !e.message.includes('\n'), bad);
  }
});
