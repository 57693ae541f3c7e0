/**
 * A small program the kernel tests run inside a namespace or inside User-Mode Linux: it drives the
 * shared netlink layer and prints what it got back as JSON, so the test can compare it with what
 * the reference tool (`ip`, `ipvsadm`) reads from the same kernel.
 *
 *   probe veth NAME PEER          create a veth pair, bring both up, print both links
 *   probe link NAME               print one link (exit 1 with the error message if missing)
 *   probe links                   print every link
 *   probe bulk-veth PREFIX N W P  create N veth pairs with window W, P messages per datagram
 *   probe bulk-delete PREFIX N    delete them again in one bulk
 *   probe family NAME             resolve a generic netlink family (twice: the second is cached)
 *   probe ipvs-info               IPVS_CMD_GET_INFO
 */
import {
  NETLINK_GENERIC, NETLINK_ROUTE, NetlinkSession, RTM_DELLINK, RTM_NEWLINK, attrCodec, createVeth, encodeAttr, encodeIfInfo,
  encodeNested, genlRequest, getLink, linkAttrs, linkInfoAttrs, listLinks, parseGenl, resolveFamily, setLinkUp,
  NLM_F_CREATE, NLM_F_EXCL, IFLA_LINKINFO, IFLA_INFO_DATA, VETH_INFO_PEER,
} from '@ha/lib/netlink';
import { HaError } from '@ha/lib';

const IPVS_CMD_GET_INFO = 15;
const ipvsInfo = attrCodec({ version: [1, 'u32'], connTabSize: [2, 'u32'] });

function vethRequest(name: string, peer: string) {
  return {
    type: RTM_NEWLINK,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    payload: [
      encodeIfInfo(), linkAttrs.encode({ name }),
      encodeNested(IFLA_LINKINFO, [linkInfoAttrs.encode({ kind: 'veth' }),
        encodeNested(IFLA_INFO_DATA, [encodeAttr(VETH_INFO_PEER, Buffer.concat([encodeIfInfo(), linkAttrs.encode({ name: peer })]))])]),
    ],
    context: { object: `interface ${name}` },
  };
}

async function main(argv: string[]): Promise<unknown> {
  const [op, ...a] = argv;
  switch (op) {
    case 'veth': {
      await createVeth(a[0]!, a[1]!);
      await setLinkUp(a[0]!, true);
      await setLinkUp(a[1]!, true);
      return [await getLink(a[0]!), await getLink(a[1]!)];
    }
    case 'link':
      return getLink(a[0]!);
    case 'links':
      return listLinks();
    case 'bulk-veth': {
      const [prefix, n, window, per] = [a[0]!, Number(a[1]), Number(a[2]), Number(a[3])];
      const rtnl = NetlinkSession.get(NETLINK_ROUTE);
      const reqs = Array.from({ length: n }, (_, i) => vethRequest(`${prefix}${i}a`, `${prefix}${i}b`));
      const outcomes = await rtnl.bulk(reqs, { window, perDatagram: per });
      return { ok: outcomes.filter((o) => o?.ok).length, errors: outcomes.filter((o) => o && !o.ok).map((o) => (o as { error: Error }).error.message), datagrams: rtnl.datagramsSent };
    }
    case 'bulk-delete': {
      const [prefix, n] = [a[0]!, Number(a[1])];
      const rtnl = NetlinkSession.get(NETLINK_ROUTE);
      const outcomes = await rtnl.bulk(Array.from({ length: n }, (_, i) => ({
        type: RTM_DELLINK, payload: [encodeIfInfo(), linkAttrs.encode({ name: `${prefix}${i}a` })], context: { object: `interface ${prefix}${i}a` },
      })), { stopOnError: false });
      return { ok: outcomes.filter((o) => o?.ok).length, errors: outcomes.filter((o) => o && !o.ok).map((o) => (o as { error: Error }).error.message), datagrams: rtnl.datagramsSent };
    }
    case 'family': {
      const genl = NetlinkSession.get(NETLINK_GENERIC);
      const first = await resolveFamily(a[0]!, 'load its module');
      const before = genl.datagramsSent;
      const second = await resolveFamily(a[0]!);
      return { family: first, cachedWithoutRequest: genl.datagramsSent === before && second === first };
    }
    case 'ipvs-info': {
      const family = await resolveFamily('IPVS', 'load it with: modprobe ip_vs');
      const [reply] = await NetlinkSession.get(NETLINK_GENERIC).request(genlRequest(family, IPVS_CMD_GET_INFO, Buffer.alloc(0), { context: { object: 'IPVS info' } }));
      const info = ipvsInfo.decode(parseGenl(reply!).attrs);
      const v = info.version ?? 0;
      return { familyId: family.id, version: `${v >> 16}.${(v >> 8) & 0xff}.${v & 0xff}`, connTabSize: info.connTabSize };
    }
    default:
      throw new Error(`probe: unknown operation ${op}`);
  }
}

main(process.argv.slice(2)).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r, (_k, v: unknown) => ((v as { type?: string } | null)?.type === 'Buffer' ? undefined : v))}\n`);
    NetlinkSession.closeAll();
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof HaError ? error.message : (error as Error).stack}\n`);
    NetlinkSession.closeAll();
    process.exitCode = 1;
  },
);
