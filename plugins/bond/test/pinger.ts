/**
 * A UDP ping for the failover test (run inside namespaces in User-Mode Linux; node cannot send
 * ICMP without a raw socket):
 *   echo PORT                       answer every datagram with itself; print "ready" when bound
 *   ping HOST PORT INTERVAL_MS N    send N numbered datagrams, one every INTERVAL_MS; print
 *                                   {sent, received, lost, longestGap} as JSON (longestGap: the
 *                                   longest run of consecutive lost datagrams)
 */
import { createSocket } from 'node:dgram';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'echo') {
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
  sock.bind(Number(args[0]), () => process.stdout.write('ready\n'));
} else if (mode === 'ping') {
  const [host, port, interval, count] = [args[0]!, Number(args[1]), Number(args[2]), Number(args[3])];
  const sock = createSocket('udp4');
  const got = new Set<number>();
  sock.on('message', (msg) => got.add(msg.readUInt32BE(0)));
  let seq = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const b = Buffer.alloc(64);
      b.writeUInt32BE(seq++);
      sock.send(b, port, host);
      if (seq >= count) { clearInterval(timer); resolve(); }
    }, interval);
  });
  await new Promise((r) => setTimeout(r, 1000));
  let longestGap = 0;
  let run = 0;
  for (let i = 0; i < seq; i++) {
    run = got.has(i) ? 0 : run + 1;
    longestGap = Math.max(longestGap, run);
  }
  process.stdout.write(`${JSON.stringify({ sent: seq, received: got.size, lost: seq - got.size, longestGap })}\n`);
  sock.close();
} else {
  process.stderr.write(`pinger: unknown mode ${mode}\n`);
  process.exitCode = 2;
}
