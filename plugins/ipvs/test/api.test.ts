/**
 * The ipvs plugin's API on a fake kernel (no root): what a health checker does to a real server
 * (weight to 0 and back, out and in again) is read from the kernel first and sent as one request
 * that keeps everything else the server has.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { parseGenl, useDefaultHandle } from '@ha/lib/netlink';
import { FakeKernel, type FakeRequest } from '@ha/lib/testing';
import { removeServer, setServerWeight, addServer, getServer, type Server, type ServiceKey } from '../src/api.js';
import { CMD, cmdAttrs, decodeServer, serverAttrs } from '../src/codec.js';

afterEach(() => useDefaultHandle(undefined));

const IPVS_ID = 31;
const service: ServiceKey = { family: 'ipv4', protocol: 'tcp', address: '192.0.2.10', port: 80 };
const kept: Server = {
  family: 'ipv4', address: '198.51.100.11', port: 8080, forward: 'masq', weight: 3, upperThreshold: 100, lowerThreshold: 10,
};
const other: Server = { family: 'ipv4', address: '198.51.100.12', port: 8080, forward: 'tunnel', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'gue', port: 6080, checksum: 'csum' } };

/** A kernel with one service and two real servers, answering GET_DEST dumps and taking SET/DEL/NEW_DEST. */
function ipvsKernel(): { kernel: FakeKernel; servers: Server[]; commands: () => Array<{ cmd: number; server?: Server }> } {
  const servers = [{ ...kept }, { ...other }];
  const kernel = new FakeKernel((r: FakeRequest) => {
    if (r.type !== IPVS_ID) return { error: 95 };
    const g = parseGenl(r);
    const a = cmdAttrs.decode(g.attrs);
    const dest = a.dest ? decodeServer(a.dest, 'ipv4') : undefined;
    const at = dest ? servers.findIndex((s) => s.address === dest.address && s.port === dest.port) : -1;
    switch (g.cmd) {
      case CMD.GET_DEST:
        return { replies: servers.map((s) => ({ type: IPVS_ID, data: Buffer.concat([Buffer.from([CMD.NEW_DEST, 1, 0, 0]), cmdAttrs.encode({ dest: { ...serverAttrs(s), activeConns: 7, inactConns: 2, persistConns: 0 } })]) })) };
      case CMD.SET_DEST:
        if (at === -1) return { error: 2 };
        servers[at] = dest!;
        return undefined;
      case CMD.DEL_DEST:
        if (at === -1) return { error: 2 };
        servers.splice(at, 1);
        return undefined;
      case CMD.NEW_DEST:
        if (at !== -1) return { error: 17 };
        servers.push(dest!);
        return undefined;
      default:
        return { error: 95 };
    }
  }).family('IPVS', IPVS_ID);
  const commands = (): Array<{ cmd: number; server?: Server }> => kernel.sent(IPVS_ID).map((r) => {
    const g = parseGenl(r);
    const a = cmdAttrs.decode(g.attrs);
    return a.dest && g.cmd !== CMD.GET_DEST ? { cmd: g.cmd, server: decodeServer(a.dest, 'ipv4') } : { cmd: g.cmd };
  });
  return { kernel, servers, commands };
}

test('weight to 0 and back: one SET_DEST each, everything else the server has kept (forwarding, thresholds)', async () => {
  const { kernel, servers, commands } = ipvsKernel();
  useDefaultHandle(kernel.handle());
  const before = await setServerWeight(service, kept, 0);
  assert.equal(before.weight, 3);
  assert.equal(before.activeConns, 7, 'the server as it was, counters and all');
  assert.deepEqual(servers[0], { ...kept, weight: 0 });
  assert.deepEqual(servers[1], other, 'the other server untouched');
  await setServerWeight(service, kept, before.weight);
  assert.deepEqual(servers[0], kept);
  const sent = commands();
  assert.deepEqual(sent.map((c) => c.cmd), [CMD.GET_DEST, CMD.SET_DEST, CMD.GET_DEST, CMD.SET_DEST]);
  assert.deepEqual(sent[1]!.server, { ...kept, weight: 0 });
});

test('a tunnelled server taken out and put back keeps its tunnel; a server that is not there is said so', async () => {
  const { kernel, servers } = ipvsKernel();
  useDefaultHandle(kernel.handle());
  const was = await removeServer(service, other);
  assert.equal(servers.length, 1);
  assert.equal(await getServer(service, other), undefined);
  await addServer(service, was);
  assert.deepEqual(servers[1], other);
  await assert.rejects(setServerWeight(service, { family: 'ipv4', address: '198.51.100.99', port: 80 }, 1), /real server 198\.51\.100\.99:80 of service 192\.0\.2\.10:80\/tcp does not exist/);
});
