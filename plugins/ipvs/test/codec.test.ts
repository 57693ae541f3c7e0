/**
 * The in-place service decoder used by listings must give what the generic attribute decoder
 * gives, for every kind of service, with or without counters in the reply.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { NetlinkCodecError } from '@ha/lib/netlink';
import { cmdAttrs, decodeService, decodeServiceReply, serviceFullAttrs } from '../src/codec.js';
import type { Service } from '../src/model.js';

const services: Service[] = [
  { family: 'ipv4', protocol: 'tcp', address: '192.0.2.10', port: 80, scheduler: 'wrr', schedFlags: [], onePacket: false, servers: [] },
  { family: 'ipv4', protocol: 'udp', address: '192.0.2.11', port: 53, scheduler: 'sh', schedFlags: ['sh-fallback', 'sh-port'], onePacket: true, servers: [] },
  { family: 'ipv4', protocol: 'sctp', address: '198.51.100.1', port: 0, scheduler: 'rr', schedFlags: [], onePacket: false, servers: [], persistence: { timeout: 360, netmask: '255.255.255.0' } },
  { family: 'ipv6', protocol: 'tcp', address: '2001:db8::1', port: 443, scheduler: 'mh', schedFlags: ['mh-port'], onePacket: false, servers: [], persistence: { timeout: 60, netmask: 64 } },
  { family: 'ipv4', fwmark: 7, scheduler: 'lc', schedFlags: ['flag-3'], onePacket: false, servers: [], persistence: { timeout: 1, netmask: '255.255.255.255' }, pe: 'sip' },
  { family: 'ipv6', fwmark: 4294967295, scheduler: 'wlc', schedFlags: [], onePacket: false, servers: [] },
] as Service[];

const counters = { conns: 1, inpkts: 2, outpkts: 3, inbytes: 4n, outbytes: 5n, cps: 6, inpps: 7, outpps: 8, inbps: 9, outbps: 10 };

for (const s of services) {
  test(`in-place decode equals the generic decode: ${s.protocol ?? 'fwmark'} ${s.address ?? s.fwmark}`, () => {
    for (const withStats of [false, true]) {
      const attrs = { ...serviceFullAttrs(s), ...(withStats ? { stats: counters } : {}) };
      const reply = cmdAttrs.encode({ service: attrs });
      const generic = decodeService(cmdAttrs.decode(reply).service!);
      delete generic.stats;
      assert.deepEqual(decodeServiceReply(reply), generic);
      // and both are the service we encoded
      assert.deepEqual(decodeServiceReply(reply), s);
    }
  });
}

test('in-place decode: no service attribute gives undefined; a truncated attribute is an error', () => {
  assert.equal(decodeServiceReply(cmdAttrs.encode({ timeoutTcp: 900 })), undefined);
  const reply = cmdAttrs.encode({ service: serviceFullAttrs(services[0]!) });
  reply.writeUInt16LE(reply.length + 8, 0);
  assert.throws(() => decodeServiceReply(reply), NetlinkCodecError);
});
