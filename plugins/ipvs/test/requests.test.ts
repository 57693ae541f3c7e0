/**
 * The generic netlink requests ha sends to IPVS, against the ones ipvsadm 1.31 sent for the same
 * services, real servers, timeouts and daemons on Linux 6.1 (test/golden/requests.json, captured
 * inside User-Mode Linux by scripts/capture-requests.ts): the same command, the same attributes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NLM_F_ACK, NLM_F_REQUEST, type GenlFamily, type Request } from '@ha/lib/netlink';
import { canonicalAttrs } from '@ha/lib/testing';
import { build } from '../src/kernel.js';

interface Golden {
  requests: Array<{ name: string; cmd: string; type: number; flags: number; payload: string; ha: Record<string, never> & { build: keyof typeof build } }>;
}
const golden = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'golden', 'requests.json'), 'utf8')) as Golden;

/**
 * What the kernel reads of a request (ip_vs_genl_parse_service/_dest): ipvsadm sends whole
 * services and real servers everywhere, and ha only what the command uses. For the commands on a
 * real server, and for deleting a service, the kernel takes only the service's key (af, protocol,
 * address, port, fwmark); deleting a real server, only its address, port and family; and a tunnel
 * attribute left out is 0, as ipvsadm writes it.
 */
const KEY_ONLY = new Set([3, 5, 6, 7, 16]); // DEL_SERVICE, NEW_DEST, SET_DEST, DEL_DEST, ZERO
function asKernelReads(cmd: number, attrs: string[]): string[] {
  return attrs.map((a) => {
    const m = /^(\d+)=\{(.*)\}$/.exec(a);
    if (!m) return a;
    let inner = m[2]!.split(' ').filter(Boolean);
    if (m[1] === '1' && KEY_ONLY.has(cmd)) inner = inner.filter((x) => /^[1-5]=/.test(x));
    if (m[1] === '2') {
      if (cmd === 7) inner = inner.filter((x) => /^(1|2|11)=/.test(x));
      inner = inner.filter((x) => !['13=00', '14=0000', '15=0000'].includes(x));
    }
    return `${m[1]}={${inner.join(' ')}}`;
  });
}

for (const g of golden.requests) {
  test(`request for ${g.name} is the one ipvsadm sends (${g.cmd})`, () => {
    const f: GenlFamily = { name: 'IPVS', id: g.type, version: 1, hdrSize: 0, maxAttr: 0, mcastGroups: {} };
    const h = g.ha as Record<string, unknown>;
    const make: Record<string, () => Request> = {
      addService: () => build.addService(f, h.service as never),
      editService: () => build.editService(f, h.service as never),
      deleteService: () => build.deleteService(f, h.service as never),
      addServer: () => build.addServer(f, h.service as never, h.server as never),
      editServer: () => build.editServer(f, h.service as never, h.server as never),
      deleteServer: () => build.deleteServer(f, h.service as never, h.server as never),
      setTimeouts: () => build.setTimeouts(f, h.timeouts as never),
      startDaemon: () => build.startDaemon(f, h.daemon as never),
      flush: () => build.flush(f),
    };
    const req = make[g.ha.build]!();
    const ours = Buffer.concat((Array.isArray(req.payload) ? req.payload : [req.payload]).map((p) => Buffer.from(p)));
    const theirs = Buffer.from(g.payload, 'hex');
    assert.equal(req.type, g.type);
    assert.equal(NLM_F_REQUEST | NLM_F_ACK | (req.flags ?? 0), g.flags, 'message flags');
    assert.equal(ours.subarray(0, 4).toString('hex'), theirs.subarray(0, 4).toString('hex'), 'genl header (command, version)');
    // IPVS_CMD_ATTR_SERVICE (1), _DEST (2), _DAEMON (3) are nested
    const nested = new Set(['1', '2', '3']);
    const cmd = theirs[0]!;
    assert.deepEqual(asKernelReads(cmd, canonicalAttrs(ours.subarray(4), nested)), asKernelReads(cmd, canonicalAttrs(theirs.subarray(4), nested)), 'attributes');
  });
}
