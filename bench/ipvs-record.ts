/**
 * Records the netlink requests `ha ipvs restore FILE` sends, for the restore benchmark's floor
 * (bench/ipvs-floor.c replays them). The command runs here, in this process, unchanged: through
 * oclif, as `ha ipvs restore FILE`, on a netlink handle whose transport is ha's own socket wrapped
 * so that every datagram that the kernel accepted is also kept. The replies flow as usual, so the
 * kernel's table ends up exactly as ha's restore leaves it. Run it where IPVS is (inside UML), in
 * a fresh network namespace:
 *
 *   node dist/bench/ipvs-record.js RULES_FILE RECORDING
 *
 * It prints what the command prints, then one line of JSON ({messages, datagrams, bytes, ms}).
 *
 * Only the requests that change the table are written: messages of the IPVS family that are
 * neither dumps nor GET commands (the family lookup, the read of the current table and any
 * per-service dumps are left out). The recording's format (integers little-endian):
 *
 *   offset  size  field
 *        0     8  magic "HANLREC1"
 *        8     4  header size in bytes (48): the first datagram starts there
 *       12     4  netlink protocol (16, NETLINK_GENERIC)
 *       16    16  generic netlink family name, NUL-padded ("IPVS")
 *       32     2  the family id the messages carry in nlmsg_type (valid in the boot that recorded it)
 *       34     2  reserved, 0
 *       36     4  number of messages
 *       40     4  number of datagrams
 *       44     4  reserved, 0
 *       48        the datagrams, in the order ha sent them, each as:
 *                   4 bytes: its length L
 *                   L bytes: whole netlink messages (nlmsghdr in host byte order, then the genl
 *                            header and attributes), each padded to 4 bytes, as ha framed them:
 *                            ha's sequence numbers, pid 0, NLM_F_ACK on the last of each datagram
 *
 * A datagram keeps only its recorded messages (with a plain restore, ha's datagrams hold nothing
 * else). A replayer renumbers, repacks and re-flags the messages as it likes, and puts the family
 * id of its own boot in nlmsg_type.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  GENL_ID_CTRL, NETLINK_GENERIC, NLM_F_DUMP, NetlinkHandle, Transport, TransportFactory, socketTransport, useDefaultHandle,
} from '@ha/lib/netlink';
import { ROOT } from '@ha/lib/testing';

export const RECORDING_MAGIC = 'HANLREC1';
export const RECORDING_HEADER_SIZE = 48;
const NLMSG_HDRLEN = 16;
const NLMSG_MIN_TYPE = 16;
/** IPVS_CMD_GET_SERVICE, GET_DEST, GET_DAEMON, GET_CONFIG, GET_INFO: reads, not changes. */
const IPVS_GET_COMMANDS = new Set([4, 8, 11, 13, 15]);

export interface RecordStats {
  messages: number;
  datagrams: number;
  /** Bytes of netlink messages recorded. */
  bytes: number;
  /** The family id the messages carry. */
  familyId: number;
  /** How long the restore command took, in this process (ms). */
  ms: number;
}

/** A transport that forwards everything to another and keeps a copy of each datagram the kernel took. */
class RecordingTransport implements Transport {
  constructor(private readonly inner: Transport, private readonly keep: (datagram: Buffer) => void) {}

  get receiveBuffer(): number {
    return this.inner.receiveBuffer;
  }

  get onDatagram(): (datagram: Buffer) => void {
    return this.inner.onDatagram;
  }

  set onDatagram(f: (datagram: Buffer) => void) {
    this.inner.onDatagram = f;
  }

  get onError(): (errno: number) => void {
    return this.inner.onError;
  }

  set onError(f: (errno: number) => void) {
    this.inner.onError = f;
  }

  send(datagram: Buffer | Buffer[]): number {
    const rc = this.inner.send(datagram);
    if (rc === 0) this.keep(Array.isArray(datagram) ? Buffer.concat(datagram) : Buffer.from(datagram));
    return rc;
  }

  addMembership(group: number): void {
    this.inner.addMembership(group);
  }

  keepAlive(on: boolean): void {
    this.inner.keepAlive(on);
  }

  close(): void {
    this.inner.close();
  }
}

/** The messages of a datagram that change the IPVS table (as whole, 4-byte padded messages). */
function mutations(datagram: Buffer): { bytes: Buffer; count: number; type: number } {
  const kept: Buffer[] = [];
  let type = 0;
  for (let off = 0; off + NLMSG_HDRLEN <= datagram.length;) {
    const len = datagram.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > datagram.length) throw new Error(`recorded datagram has a bad message at byte ${off}`);
    const padded = Math.min((len + 3) & ~3, datagram.length - off);
    const t = datagram.readUInt16LE(off + 4);
    const flags = datagram.readUInt16LE(off + 6);
    const cmd = len > NLMSG_HDRLEN ? datagram.readUInt8(off + NLMSG_HDRLEN) : 0;
    if (t >= NLMSG_MIN_TYPE && t !== GENL_ID_CTRL && (flags & NLM_F_DUMP) === 0 && !IPVS_GET_COMMANDS.has(cmd)) {
      if (type && t !== type) throw new Error(`recorded messages of two generic netlink families (${type}, ${t})`);
      type = t;
      const m = Buffer.alloc((len + 3) & ~3);
      datagram.copy(m, 0, off, off + padded);
      kept.push(m);
    }
    off += padded;
  }
  return { bytes: Buffer.concat(kept), count: kept.length, type };
}

/**
 * Run `ha ipvs restore rulesFile` in this process, recording its table-changing requests into
 * outFile. Changes this process's default netlink handle (for good: run it in a process of its
 * own, as the script below does). Throws if the command fails.
 */
export async function recordInProcess(rulesFile: string, outFile: string): Promise<RecordStats> {
  const datagrams: Buffer[] = [];
  let messages = 0;
  let familyId = 0;
  const socket = socketTransport();
  const transport: TransportFactory = (protocol) => {
    const inner = socket(protocol);
    if (protocol !== NETLINK_GENERIC) return inner;
    return new RecordingTransport(inner, (d) => {
      const m = mutations(d);
      if (m.count === 0) return;
      datagrams.push(m.bytes);
      messages += m.count;
      familyId ||= m.type;
    });
  };
  useDefaultHandle(new NetlinkHandle({ transport }));
  const { run } = await import('@oclif/core');
  const t0 = performance.now();
  await run(['ipvs', 'restore', rulesFile], ROOT);
  const ms = performance.now() - t0;

  const header = Buffer.alloc(RECORDING_HEADER_SIZE);
  header.write(RECORDING_MAGIC, 0, 'latin1');
  header.writeUInt32LE(RECORDING_HEADER_SIZE, 8);
  header.writeUInt32LE(NETLINK_GENERIC, 12);
  header.write('IPVS', 16, 'latin1');
  header.writeUInt16LE(familyId, 32);
  header.writeUInt32LE(messages, 36);
  header.writeUInt32LE(datagrams.length, 40);
  const parts: Buffer[] = [header];
  let bytes = 0;
  for (const d of datagrams) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(d.length, 0);
    parts.push(len, d);
    bytes += d.length;
  }
  writeFileSync(outFile, Buffer.concat(parts));
  return { messages, datagrams: datagrams.length, bytes, familyId, ms };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [rules, out] = process.argv.slice(2);
  if (!rules || !out) {
    process.stderr.write('usage: node dist/bench/ipvs-record.js RULES_FILE RECORDING\n');
    process.exit(2);
  }
  try {
    const stats = await recordInProcess(rules, out);
    process.stdout.write(`${JSON.stringify(stats)}\n`);
  } catch (error) {
    // the command has said why (oclif's exit carries its code)
    const exit = (error as { oclif?: { exit?: number } }).oclif?.exit;
    if (typeof exit !== 'number') process.stderr.write(`ipvs-record: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(typeof exit === 'number' && exit !== 0 ? exit : 1);
  }
  // nothing else is meant to keep the process alive; do not wait for oclif's stragglers
  process.exit(0);
}
