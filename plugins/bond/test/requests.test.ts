/**
 * The rtnetlink requests ha sends for bonds, against the ones ip(8) sent for the same bonds on
 * Linux 6.1 (test/golden/requests.json, captured inside User-Mode Linux by
 * scripts/capture-requests.ts): the same message, the same attributes, IFLA_INFO_DATA included.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NLM_F_ACK, NLM_F_REQUEST, type Request } from '@ha/lib/netlink';
import { canonicalAttrs } from '@ha/lib/testing';
import { bondRequests } from '../src/kernel.js';
import { resolveOptions } from '../src/options.js';

interface Golden {
  setup: { links: Record<string, number> };
  requests: Array<{ name: string; cmd: string; type: number; flags: number; payload: string; ha: Record<string, unknown> & { build: string } }>;
}
const golden = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'golden', 'requests.json'), 'utf8')) as Golden;
const index = golden.setup.links;
const ref = (name: unknown): { name: string; index: number } => ({ name: String(name), index: index[String(name)]! });

for (const g of golden.requests) {
  test(`request for ${g.name} is the one ip sends (${g.cmd})`, () => {
    const h = g.ha;
    const make: Record<string, () => Request> = {
      // what ha bond create sends: the options it resolves (link monitoring default included)
      create: () => bondRequests.create(String(h.name), h.mode as never, resolveOptions(h.mode as never, h.options as never)),
      change: () => bondRequests.change(ref(h.bond), h.req as never),
      master: () => bondRequests.master(ref(h.bond), ref(h.port), h.master === 0 ? 0 : ref(h.master).index),
      setUp: () => bondRequests.setUp(ref(h.link), Boolean(h.up)),
      delete: () => bondRequests.delete(ref(h.bond)),
    };
    const req = make[h.build]!();
    const ours = Buffer.concat((Array.isArray(req.payload) ? req.payload : [req.payload]).map((p) => Buffer.from(p)));
    const theirs = Buffer.from(g.payload, 'hex');
    assert.equal(req.type, g.type);
    assert.equal(NLM_F_REQUEST | NLM_F_ACK | (req.flags ?? 0), g.flags, 'message flags');
    assert.equal(ours.subarray(0, 16).toString('hex'), theirs.subarray(0, 16).toString('hex'), 'ifinfomsg');
    // IFLA_LINKINFO (18) and its IFLA_INFO_DATA (2) are nested, and the targets inside it
    const nested = new Set(['18', '18.2', '18.2.8', '18.2.31']);
    assert.deepEqual(canonicalAttrs(ours.subarray(16), nested), canonicalAttrs(theirs.subarray(16), nested), 'attributes');
  });
}
