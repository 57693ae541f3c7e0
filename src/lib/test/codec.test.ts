import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  NLA_F_NESTED, NLMSG_ERROR, NetlinkCodecError, NetlinkError, attrCodec, ctrlAttrs, decodeLink, encodeAttr, encodeIfInfo,
  encodeMessage, encodeNested, errorCode, linkAttrs, linkInfoAttrs, parseAttrs, parseGenl, parseMessages,
} from '../src/netlink/index.js';

const golden = (name: string): Buffer =>
  Buffer.from(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'golden', `${name}.hex`), 'utf8').trim(), 'hex');

test('scalar attributes encode to the documented layout (len, type, payload, padding)', () => {
  assert.deepEqual(encodeAttr(3, Buffer.from('lo\0')), Buffer.from([7, 0, 3, 0, 0x6c, 0x6f, 0, 0]));
  const c = attrCodec({ a: [1, 'u8'], b: [2, 'u16'], c: [3, 'u32'], d: [4, 'be16'], e: [5, 'u64'], f: [6, 'flag'], g: [7, 's32'] });
  const bytes = c.encode({ a: 1, b: 0x0203, c: 0x04050607, d: 80, e: 0x0102030405060708n, f: true, g: -2 });
  assert.equal(bytes.toString('hex'),
    '0500010001000000' + '0600020003020000' + '0800030007060504' + '0600040000500000'
    + '0c00050008070605040302010' + '' .padEnd(0) + '4000600' + '08000700feffffff');
  assert.deepEqual(c.decode(bytes), { a: 1, b: 0x0203, c: 0x04050607, d: 80, e: 0x0102030405060708n, f: true, g: -2 });
});

test('nested attributes carry NLA_F_NESTED unless the codec is told not to', () => {
  const inner = attrCodec({ x: [1, 'u32'] });
  const outer = attrCodec({ n: [2, inner] });
  const flagged = outer.encode({ n: { x: 1 } });
  assert.equal(flagged.readUInt16LE(2), 2 | NLA_F_NESTED);
  assert.deepEqual(outer.decode(flagged), { n: { x: 1 } });
  const plain = attrCodec({ n: [2, inner] }, { nestedFlag: false }).encode({ n: { x: 1 } });
  assert.equal(plain.readUInt16LE(2), 2);
  assert.deepEqual(outer.decode(plain), { n: { x: 1 } }, 'decoding accepts both');
  assert.deepEqual(encodeNested(9, []), Buffer.from([4, 0, 9, 0x80]));
});

test('arrays of nests round-trip, unknown attributes are skipped, absent ones stay undefined', () => {
  const item = attrCodec({ name: [1, 'string'], id: [2, 'u32'] });
  const c = attrCodec({ list: [7, item, 'array'], extra: [8, 'u32'] });
  const bytes = Buffer.concat([c.encode({ list: [{ name: 'a', id: 1 }, { name: 'bb', id: 2 }] }), encodeAttr(99, Buffer.from([1, 2, 3, 4]))]);
  assert.deepEqual(c.decode(bytes), { list: [{ name: 'a', id: 1 }, { name: 'bb', id: 2 }] });
});

test('bad values and malformed streams are refused with a message naming the attribute', () => {
  const c = attrCodec({ port: [1, 'u16'], name: [2, 'string'] });
  assert.throws(() => c.encode({ port: 70000 }), /attribute port: 70000 is not a valid u16/);
  assert.throws(() => c.encode({ port: 1.5 }), /not a valid u16/);
  assert.throws(() => c.encode({ name: 5 as unknown as string }), /attribute name/);
  assert.throws(() => parseAttrs(Buffer.from([9, 0, 1, 0, 0])), NetlinkCodecError);
  assert.throws(() => parseAttrs(Buffer.from([2, 0, 1, 0])), /malformed/);
  assert.throws(() => attrCodec({ a: [1, 'u8'], b: [1, 'u16'] }), /used twice/);
});

test('golden: the kernel reply for lo decodes and re-encodes byte for byte', () => {
  const bytes = golden('rtm-newlink-lo');
  const msgs = parseMessages(bytes);
  assert.equal(msgs.length, 1);
  const m = msgs[0]!;
  assert.equal(m.type, 16);
  const link = decodeLink(m);
  assert.equal(link.name, 'lo');
  assert.equal(link.index, 1);
  assert.equal(link.type, 772, 'ARPHRD_LOOPBACK');
  assert.equal(link.mtu, 65536);
  assert.equal(link.address, '00:00:00:00:00:00');
  assert.equal(link.up, false, 'lo starts down in a new namespace');
  assert.deepEqual(encodeMessage(m, m.data), bytes);
  // every attribute the kernel sent parses, including the ones our table does not name
  assert.ok(parseAttrs(m.data.subarray(16)).length > 20);
});

test('golden: the kernel EEXIST error decodes, and the echoed request is ours byte for byte', () => {
  const bytes = golden('nlmsgerr-eexist');
  const [m] = parseMessages(bytes);
  assert.equal(m!.type, NLMSG_ERROR);
  assert.equal(errorCode(m!), 17);
  const echoed = m!.data.subarray(4);
  const ours = encodeMessage({ type: 16, flags: 1 | 4 | 0x400 | 0x200, seq: 2, pid: echoed.readUInt32LE(12) },
    encodeIfInfo(), linkAttrs.encode({ name: 'lo' }), encodeNested(18, [linkInfoAttrs.encode({ kind: 'veth' })]));
  assert.deepEqual(echoed, ours);
  const err = new NetlinkError(errorCode(m!), { object: 'interface lo' });
  assert.equal(err.message, 'interface lo already exists');
  assert.equal(err.errnoName, 'EEXIST');
});

test('golden: the generic netlink controller reply decodes', () => {
  const [m] = parseMessages(golden('genl-ctrl-nlctrl'));
  const g = parseGenl(m!);
  assert.equal(g.cmd, 1, 'CTRL_CMD_NEWFAMILY');
  const a = ctrlAttrs.decode(g.attrs);
  assert.equal(a.familyId, 16);
  assert.equal(a.familyName, 'nlctrl');
  assert.ok(a.mcastGroups?.some((x) => x.name === 'notify'));
});

test('several messages in one datagram split correctly, a truncated tail is ignored', () => {
  const a = encodeMessage({ type: 20, flags: 1, seq: 1, pid: 0 }, Buffer.from([1, 2, 3]));
  const b = encodeMessage({ type: 21, flags: 1, seq: 2, pid: 0 }, Buffer.alloc(8));
  const msgs = parseMessages(Buffer.concat([a, b, Buffer.from([50, 0, 0, 0])]));
  assert.deepEqual(msgs.map((x) => [x.type, x.seq, x.data.length]), [[20, 1, 3], [21, 2, 8]]);
});

test('the progress counter: drawn on a terminal at most ten times a second, erased when done; silent otherwise', async () => {
  const { Progress } = await import('../src/output.js');
  const written: string[] = [];
  const tty = { isTTY: true, write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream;
  const p = new Progress('restoring', 1000, { stream: tty });
  for (let i = 0; i < 1000; i++) p.tick();
  p.done();
  assert.ok(written.length >= 2 && written.length <= 4, `a few redraws, not one per step: ${written.length}`);
  assert.match(written[0]!, /^\rrestoring: 1\/1,000 \(0%\)$/);
  assert.equal(written.at(-2), '\rrestoring: 1,000/1,000 (100%)');
  assert.equal(written.at(-1), '\r\x1b[K');
  const quiet: string[] = [];
  const pipe = { isTTY: false, write: (s: string) => { quiet.push(s); return true; } } as unknown as NodeJS.WriteStream;
  const q = new Progress('restoring', 10, { stream: pipe });
  q.tick();
  q.done();
  assert.deepEqual(quiet, []);
  const before = written.length;
  const off = new Progress('restoring', 10, { stream: tty, enabled: false });
  off.tick();
  off.done();
  assert.equal(written.length, before, 'disabled (--json): nothing drawn');
});

test('the logger: one line per event, text (key=value) or JSON lines, levels and parts', async () => {
  const { Logger } = await import('../src/log.js');
  const lines: string[] = [];
  const now = (): Date => new Date('2026-12-02T00:00:00.000Z');
  const text = new Logger({ write: (l) => lines.push(l), now });
  text.child('vrrp').info('became master', { instance: 'vi1', priority: 150, reason: 'master down timer expired' });
  text.debug('not shown at info');
  text.warn('odd', { error: new Error('boom'), n: 12n });
  assert.deepEqual(lines, [
    '2026-12-02T00:00:00.000Z info vrrp: became master instance=vi1 priority=150 reason="master down timer expired"\n',
    '2026-12-02T00:00:00.000Z warn: odd error="boom" n=12\n',
  ]);
  lines.length = 0;
  const json = new Logger({ write: (l) => lines.push(l), now, format: 'json', level: 'debug' }).child('agent');
  json.debug('reload', { changed: 2 });
  assert.deepEqual(JSON.parse(lines[0]!), { time: '2026-12-02T00:00:00.000Z', level: 'debug', component: 'agent', msg: 'reload', changed: 2 });
});
