/**
 * Netlink attribute (TLV) encoding and decoding.
 *
 * An attribute is `struct nlattr { u16 nla_len; u16 nla_type; }` followed by its payload, padded to
 * a 4-byte boundary. `nla_len` counts header + payload, not the padding. Nested attributes carry
 * `NLA_F_NESTED` in the type; the `netlink` npm package's own attribute stream cannot set it, which
 * is why the codec lives here.
 *
 * Codecs are table driven: `attrCodec({name: [type, kind]})` gives a typed `encode(object)` and
 * `decode(buffer)` pair. Unknown attribute types are skipped on decode (a newer kernel may send
 * attributes this code does not know), and absent ones are left undefined (an older kernel may lack
 * them).
 */

export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const align4 = (n: number): number => (n + 3) & ~3;

/** One raw attribute: its type (flags removed), the flags, and a view of its payload. */
export interface RawAttr {
  type: number;
  nested: boolean;
  netByteOrder: boolean;
  data: Buffer;
}

/** Encode one attribute with an arbitrary payload. */
export function encodeAttr(type: number, payload: Uint8Array, flags = 0): Buffer {
  const len = NLA_HDRLEN + payload.length;
  if (len > 0xffff) throw new RangeError(`netlink attribute ${type} is too long (${len} bytes, at most 65535)`);
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE((type & NLA_TYPE_MASK) | flags, 2);
  out.set(payload, NLA_HDRLEN);
  return out;
}

/** Encode a nested attribute (sets `NLA_F_NESTED` unless told not to). */
export function encodeNested(type: number, children: Uint8Array[], nestedFlag = true): Buffer {
  return encodeAttr(type, Buffer.concat(children), nestedFlag ? NLA_F_NESTED : 0);
}

/** Split a buffer of attributes into raw attributes. Throws on a malformed stream. */
export function parseAttrs(buf: Buffer): RawAttr[] {
  const out: RawAttr[] = [];
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off);
    const rawType = buf.readUInt16LE(off + 2);
    if (len < NLA_HDRLEN || off + len > buf.length) {
      throw new NetlinkCodecError(`malformed netlink attribute at offset ${off}: length ${len}, ${buf.length - off} bytes left`);
    }
    out.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      data: buf.subarray(off + NLA_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export class NetlinkCodecError extends Error {
  override name = 'NetlinkCodecError';
}

/** Scalar and composite payload kinds an attribute table can name. */
export type ScalarKind =
  | 'flag' | 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 'be16' | 'be32'
  | 'string' | 'binary';

type KindValue<K> =
  K extends 'flag' ? true :
  K extends 'u64' ? bigint :
  K extends 'u8' | 'u16' | 'u32' | 's32' | 'be16' | 'be32' ? number :
  K extends 'string' ? string :
  K extends 'binary' ? Buffer :
  never;

/** `[type, kind]`, `[type, codec]` for a nested table, or `[type, codec, 'array']` for a list of nests. */
export type FieldSpec =
  | readonly [number, ScalarKind]
  | readonly [number, AttrCodec<any>]
  | readonly [number, AttrCodec<any>, 'array'];

export type TableSpec = Record<string, FieldSpec>;

type FieldValue<F> =
  F extends readonly [number, AttrCodec<infer T>, 'array'] ? T[] :
  F extends readonly [number, AttrCodec<infer T>] ? T :
  F extends readonly [number, infer K] ? KindValue<K> :
  never;

export type Decoded<S extends TableSpec> = { -readonly [N in keyof S]?: FieldValue<S[N]> };

export interface AttrCodec<T> {
  readonly spec: TableSpec;
  /** Encode the fields that are present (undefined fields are left out), in table order. */
  encode(value: T): Buffer;
  /** Encode as a nested attribute of the given type. */
  nest(type: number, value: T): Buffer;
  decode(buf: Buffer): T;
}

export interface CodecOptions {
  /** Set NLA_F_NESTED on nested attributes this codec emits (default true). */
  nestedFlag?: boolean;
}

function encodeScalar(kind: ScalarKind, value: unknown, name: string): Buffer {
  const fail = (): never => {
    throw new TypeError(`attribute ${name}: ${String(value)} is not a valid ${kind}`);
  };
  const int = (min: number, max: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail();
    return value as number;
  };
  let b: Buffer;
  switch (kind) {
    case 'flag':
      return Buffer.alloc(0);
    case 'u8':
      b = Buffer.alloc(1); b.writeUInt8(int(0, 0xff)); return b;
    case 'u16':
      b = Buffer.alloc(2); b.writeUInt16LE(int(0, 0xffff)); return b;
    case 'be16':
      b = Buffer.alloc(2); b.writeUInt16BE(int(0, 0xffff)); return b;
    case 'u32':
      b = Buffer.alloc(4); b.writeUInt32LE(int(0, 0xffffffff)); return b;
    case 'be32':
      b = Buffer.alloc(4); b.writeUInt32BE(int(0, 0xffffffff)); return b;
    case 's32':
      b = Buffer.alloc(4); b.writeInt32LE(int(-0x80000000, 0x7fffffff)); return b;
    case 'u64': {
      const v = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
      if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) fail();
      b = Buffer.alloc(8); b.writeBigUInt64LE(v as bigint); return b;
    }
    case 'string':
      if (typeof value !== 'string') fail();
      return Buffer.from(`${value as string}\0`, 'utf8');
    case 'binary':
      if (!(value instanceof Uint8Array)) fail();
      return Buffer.from(value as Uint8Array);
  }
}

function decodeScalar(kind: ScalarKind, data: Buffer, name: string): unknown {
  const need = (n: number): void => {
    if (data.length < n) throw new NetlinkCodecError(`attribute ${name}: ${data.length} bytes, expected ${n}`);
  };
  switch (kind) {
    case 'flag': return true;
    case 'u8': need(1); return data.readUInt8(0);
    case 'u16': need(2); return data.readUInt16LE(0);
    case 'be16': need(2); return data.readUInt16BE(0);
    case 'u32': need(4); return data.readUInt32LE(0);
    case 'be32': need(4); return data.readUInt32BE(0);
    case 's32': need(4); return data.readInt32LE(0);
    case 'u64': need(8); return data.readBigUInt64LE(0);
    case 'string': {
      const nul = data.indexOf(0);
      return data.subarray(0, nul === -1 ? data.length : nul).toString('utf8');
    }
    case 'binary': return Buffer.from(data);
  }
}

/**
 * Build a typed codec from a table `{field: [attrType, kind | nestedCodec, 'array'?]}`.
 * An `'array'` field is a nest whose children are each a nest of the given codec (their
 * attribute types are 1, 2, 3… on encode and ignored on decode), as kernels use for lists.
 */
export function attrCodec<S extends TableSpec>(spec: S, options: CodecOptions = {}): AttrCodec<Decoded<S>> {
  const nestedFlag = options.nestedFlag ?? true;
  const byType = new Map<number, [string, FieldSpec]>();
  for (const [name, field] of Object.entries(spec)) {
    if (byType.has(field[0])) throw new Error(`attribute table: type ${field[0]} used twice`);
    byType.set(field[0], [name, field]);
  }

  const codec: AttrCodec<Decoded<S>> = {
    spec,
    encode(value) {
      const parts: Buffer[] = [];
      for (const [name, field] of Object.entries(spec)) {
        const v = (value as Record<string, unknown>)[name];
        if (v === undefined || v === false) continue;
        const [type, kind, many] = field as [number, ScalarKind | AttrCodec<unknown>, 'array' | undefined];
        if (typeof kind === 'string') {
          parts.push(encodeAttr(type, encodeScalar(kind, v, name)));
        } else if (many === 'array') {
          if (!Array.isArray(v)) throw new TypeError(`attribute ${name}: expected a list`);
          parts.push(encodeNested(type, v.map((item, i) => encodeAttr(i + 1, kind.encode(item), nestedFlag ? NLA_F_NESTED : 0)), nestedFlag));
        } else {
          parts.push(encodeAttr(type, kind.encode(v), nestedFlag ? NLA_F_NESTED : 0));
        }
      }
      return Buffer.concat(parts);
    },
    nest(type, value) {
      return encodeAttr(type, codec.encode(value), nestedFlag ? NLA_F_NESTED : 0);
    },
    decode(buf) {
      const out: Record<string, unknown> = {};
      for (const attr of parseAttrs(buf)) {
        const entry = byType.get(attr.type);
        if (!entry) continue;
        const [name, field] = entry;
        const [, kind, many] = field as [number, ScalarKind | AttrCodec<unknown>, 'array' | undefined];
        if (typeof kind === 'string') out[name] = decodeScalar(kind, attr.data, name);
        else if (many === 'array') out[name] = parseAttrs(attr.data).map((child) => kind.decode(child.data));
        else out[name] = kind.decode(attr.data);
      }
      return out as Decoded<S>;
    },
  };
  return codec;
}
