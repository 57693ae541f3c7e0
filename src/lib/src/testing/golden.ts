/**
 * Comparing the netlink requests ha builds with the ones a reference tool sent (captured by
 * scripts/capture-requests.ts): attributes are compared as a set at each level, since tools put
 * them in different orders (the kernel reads them by type), with nested attributes compared the
 * same way inside, and the NLA_F_NESTED flag left out (iproute2 and libnl do not always set it;
 * the kernel accepts both).
 */
import { NLA_HDRLEN, NLA_TYPE_MASK, align4 } from '../netlink/attr.js';

/**
 * A canonical text of an attribute stream: one "type=hex" per attribute, sorted; attributes whose
 * path of types (from the top, "18" or "18.2") is in `nested` are expanded the same way.
 */
export function canonicalAttrs(buf: Buffer, nested: ReadonlySet<string> = new Set(), path = ''): string[] {
  const out: string[] = [];
  for (let off = 0; off + NLA_HDRLEN <= buf.length;) {
    const len = buf.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > buf.length) {
      out.push(`malformed@${off}`);
      break;
    }
    const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    const here = path ? `${path}.${type}` : String(type);
    const data = buf.subarray(off + NLA_HDRLEN, off + len);
    out.push(nested.has(here) ? `${type}={${canonicalAttrs(data, nested, here).join(' ')}}` : `${type}=${data.toString('hex')}`);
    off += align4(len);
  }
  return out.sort();
}
