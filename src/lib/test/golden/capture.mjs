// Captures the golden datagrams in this folder. Run as root inside a fresh namespace:
//   ip netns add cap && ip netns exec cap node capture.mjs . ; ip netns del cap
// A plain socket from ha's addon, without the options ha's sessions set (extended and capped
// ACKs), so the error reply echoes the request whole.
import { native } from '@ha/native';
const out = process.argv[2];
const fs = await import('node:fs');
function hdr(type, flags, seq, payload) { const b = Buffer.alloc(16 + payload.length); b.writeUInt32LE(16 + payload.length, 0); b.writeUInt16LE(type, 4); b.writeUInt16LE(flags, 6); b.writeUInt32LE(seq, 8); payload.copy(b, 16); return b; }
function ask(proto, msg) {
  const n = native();
  const fd = n.socket(16, 3, proto);
  const addr = Buffer.alloc(12); addr.writeUInt16LE(16, 0);
  n.bind(fd, addr);
  n.sendmsg(fd, msg, null, null);
  const buf = Buffer.alloc(65536);
  for (;;) { const r = n.recvNetlink(fd, buf); if (typeof r !== 'number') { n.close(fd); return Buffer.from(buf.subarray(0, r[0])); } }
}
// RTM_GETLINK index 1 (lo)
const ifi = Buffer.alloc(16); ifi.writeInt32LE(1, 4);
fs.writeFileSync(`${out}/rtm-newlink-lo.hex`, (await ask(0, hdr(18, 1, 1, ifi))).toString('hex') + '\n');
// RTM_NEWLINK for existing "lo" with CREATE|EXCL|ACK -> EEXIST
const name = Buffer.from([7, 0, 3, 0, 0x6c, 0x6f, 0, 0]);
// IFLA_LINKINFO { IFLA_INFO_KIND "veth" } (no NUL, as ip sends the kind and ha does)
const kind = Buffer.from([0x0c, 0, 0x12, 0x80, 0x08, 0, 1, 0, 0x76, 0x65, 0x74, 0x68]);
fs.writeFileSync(`${out}/nlmsgerr-eexist.hex`, (await ask(0, hdr(16, 1 | 4 | 0x400 | 0x200, 2, Buffer.concat([Buffer.alloc(16), name, kind])))).toString('hex') + '\n');
// genl CTRL_CMD_GETFAMILY nlctrl
const fam = Buffer.from([0x0b, 0, 2, 0, ...Buffer.from('nlctrl\0'), 0]);
fs.writeFileSync(`${out}/genl-ctrl-nlctrl.hex`, (await ask(16, hdr(16, 1, 3, Buffer.concat([Buffer.from([3, 1, 0, 0]), fam])))).toString('hex') + '\n');
