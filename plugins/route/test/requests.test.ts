/**
 * The requests ha sends for routes and nexthop objects, against the ones iproute2 sent for the
 * same objects (test/golden/requests.json, captured by scripts/capture-requests.ts): the same
 * message type and flags, the same header, the same attributes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NLM_F_ACK, NLM_F_REQUEST } from '@ha/lib/netlink';
import { canonicalAttrs } from '@ha/lib/testing';
import { nexthopRequest, routeRequest } from '../src/kernel.js';
import { NHMSG_LEN, RTMSG_LEN } from '../src/codec.js';
import type { Nexthop, Route } from '../src/model.js';

interface Golden {
  setup: { links: Record<string, number> };
  requests: Array<{ name: string; cmd: string; flags: number; payload: string; ha: { op: 'add' | 'replace' | 'delete'; route?: Route; nexthop?: Nexthop } }>;
}

const golden = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'golden', 'requests.json'), 'utf8')) as Golden;
const names = golden.setup.links;
const links = {
  index: (n: string): number => names[n]!,
  name: (i: number): string => Object.keys(names).find((k) => names[k] === i)!,
  has: (n: string): boolean => n in names,
};

for (const g of golden.requests) {
  test(`request for ${g.name} is the one iproute2 sends (${g.cmd.replace(/^ip netns exec \S+ /, '')})`, () => {
    const req = g.ha.route ? routeRequest(g.ha.op, g.ha.route, links) : nexthopRequest(g.ha.op, g.ha.nexthop!, links);
    const parts = Array.isArray(req.payload) ? req.payload : [req.payload];
    const ours = Buffer.concat(parts.map((p) => Buffer.from(p)));
    const theirs = Buffer.from(g.payload, 'hex');
    assert.equal(NLM_F_REQUEST | NLM_F_ACK | (req.flags ?? 0), g.flags, 'message flags');
    const head = g.ha.route ? RTMSG_LEN : NHMSG_LEN;
    assert.equal(ours.subarray(0, head).toString('hex'), theirs.subarray(0, head).toString('hex'), 'header');
    const nested = new Set(['13']); // NHA_RES_GROUP
    assert.deepEqual(canonicalAttrs(ours.subarray(head), nested), canonicalAttrs(theirs.subarray(head), nested), 'attributes');
  });
}
