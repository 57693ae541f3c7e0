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
  /** 'string' is NUL-terminated; 'text' is not (as iproute2 sends IFLA_INFO_KIND); both decode the same. */
  | 'string' | 'text' | 'binary';

type KindValue<K> =
  K extends 'flag' ? true :
  K extends 'u64' ? bigint :
  K extends 'u8' | 'u16' | 'u32' | 's32' | 'be16' | 'be32' ? number :
  K extends 'string' | 'text' ? string :
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
  /** Encoded size in bytes (used to encode nested tables in one allocation). */
  size(value: T): number;
  /** Write the encoding at `off`; returns the offset after it. */
  write(buf: Buffer, off: number, value: T): number;
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
    case 'text':
      if (typeof value !== 'string') fail();
      return Buffer.from(value as string, 'utf8');
    case 'binary':
      if (!(value instanceof Uint8Array)) fail();
      return Buffer.from(value as Uint8Array);
  }
}

function scalarSize(kind: ScalarKind, value: unknown, name: string): number {
  switch (kind) {
    case 'flag': return 0;
    case 'u8': return 1;
    case 'u16': case 'be16': return 2;
    case 'u32': case 'be32': case 's32': return 4;
    case 'u64': return 8;
    case 'string': case 'text':
      if (typeof value !== 'string') throw new TypeError(`attribute ${name}: ${String(value)} is not a valid string`);
      return Buffer.byteLength(value, 'utf8') + (kind === 'string' ? 1 : 0);
    case 'binary':
      if (!(value instanceof Uint8Array)) throw new TypeError(`attribute ${name}: ${String(value)} is not a valid binary`);
      return value.length;
  }
}

/** Write a scalar payload at `off`, checking its range; returns the offset after it. */
function writeScalar(buf: Buffer, off: number, kind: ScalarKind, value: unknown, name: string): number {
  if (kind === 'string') {
    const n = buf.write(value as string, off, 'utf8');
    buf[off + n] = 0;
    return off + n + 1;
  }
  if (kind === 'text') return off + buf.write(value as string, off, 'utf8');
  if (kind === 'binary') {
    buf.set(value as Uint8Array, off);
    return off + (value as Uint8Array).length;
  }
  if (kind === 'flag') return off;
  const v = value as number;
  const ok = (min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  switch (kind) {
    case 'u8': if (ok(0, 0xff)) { buf[off] = v; return off + 1; } break;
    case 'u16': if (ok(0, 0xffff)) return buf.writeUInt16LE(v, off); break;
    case 'be16': if (ok(0, 0xffff)) return buf.writeUInt16BE(v, off); break;
    case 'u32': if (ok(0, 0xffffffff)) return buf.writeUInt32LE(v, off); break;
    case 'be32': if (ok(0, 0xffffffff)) return buf.writeUInt32BE(v, off); break;
    case 's32': if (ok(-0x80000000, 0x7fffffff)) return buf.writeInt32LE(v, off); break;
    default: {
      const bytes = encodeScalar(kind, value, name);
      bytes.copy(buf, off);
      return off + bytes.length;
    }
  }
  // out of range or not an integer: let encodeScalar word the error
  encodeScalar(kind, value, name);
  return off;
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
    case 'string': case 'text': {
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
/**
 * The same table without some fields: what it decodes leaves them out (they are skipped like
 * unknown attributes), so a listing that does not show counters never builds them.
 */
export function withoutFields<S extends TableSpec, K extends keyof S & string>(spec: S, ...names: K[]): Omit<S, K> {
  const out: Record<string, FieldSpec> = {};
  for (const [name, field] of Object.entries(spec)) if (!(names as string[]).includes(name)) out[name] = field;
  return out as Omit<S, K>;
}

export function attrCodec<S extends TableSpec>(spec: S, options: CodecOptions = {}): AttrCodec<Decoded<S>> {
  const nestedFlag = options.nestedFlag ?? true;
  const byType = new Map<number, [string, FieldSpec]>();
  for (const [name, field] of Object.entries(spec)) {
    if (byType.has(field[0])) throw new Error(`attribute table: type ${field[0]} used twice`);
    byType.set(field[0], [name, field]);
  }

  type Field = { name: string; type: number; kind: ScalarKind | AttrCodec<unknown>; many: boolean };
  const fields: Field[] = Object.entries(spec).map(([name, f]) => ({ name, type: f[0], kind: f[1] as ScalarKind | AttrCodec<unknown>, many: f[2] === 'array' }));
  const flag = nestedFlag ? NLA_F_NESTED : 0;

  const payloadSize = (f: Field, v: unknown): number => {
    if (typeof f.kind === 'string') return scalarSize(f.kind, v, f.name);
    if (f.many) {
      if (!Array.isArray(v)) throw new TypeError(`attribute ${f.name}: expected a list`);
      const k = f.kind;
      return v.reduce((n: number, item: unknown) => n + align4(NLA_HDRLEN + k.size(item)), 0);
    }
    return f.kind.size(v);
  };

  const header = (buf: Buffer, off: number, len: number, type: number): void => {
    if (len > 0xffff) throw new RangeError(`netlink attribute ${type} is too long (${len} bytes, at most 65535)`);
    buf.writeUInt16LE(len, off);
    buf.writeUInt16LE(type, off + 2);
  };
  const pad = (buf: Buffer, from: number, to: number): number => {
    buf.fill(0, from, to);
    return to;
  };

  const codec: AttrCodec<Decoded<S>> = {
    spec,
    size(value) {
      let n = 0;
      for (const f of fields) {
        const v = (value as Record<string, unknown>)[f.name];
        if (v === undefined || v === false) continue;
        n += align4(NLA_HDRLEN + payloadSize(f, v));
      }
      return n;
    },
    write(buf, off, value) {
      for (const f of fields) {
        const v = (value as Record<string, unknown>)[f.name];
        if (v === undefined || v === false) continue;
        const start = off;
        if (typeof f.kind === 'string') {
          const end = writeScalar(buf, off + NLA_HDRLEN, f.kind, v, f.name);
          header(buf, start, end - start, f.type);
          off = pad(buf, end, start + align4(end - start));
        } else if (f.many) {
          let at = off + NLA_HDRLEN;
          (v as unknown[]).forEach((item, i) => {
            const itemStart = at;
            const end = (f.kind as AttrCodec<unknown>).write(buf, at + NLA_HDRLEN, item);
            header(buf, itemStart, end - itemStart, (i + 1) | flag);
            at = end;
          });
          header(buf, start, at - start, f.type | flag);
          off = at;
        } else {
          const end = f.kind.write(buf, off + NLA_HDRLEN, v);
          header(buf, start, end - start, f.type | flag);
          off = end;
        }
      }
      return off;
    },
    encode(value) {
      const buf = Buffer.allocUnsafe(codec.size(value));
      codec.write(buf, 0, value);
      return buf;
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
