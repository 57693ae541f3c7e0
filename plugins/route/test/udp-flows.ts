/**
 * Flows for the traffic tests, run inside the client namespace:
 *   udp-flows HOST FIRST_DPORT FLOWS [PACKETS_PER_FLOW] [SPORT]
 * sends PACKETS_PER_FLOW UDP datagrams to each destination port FIRST_DPORT … FIRST_DPORT+FLOWS-1
 * from one socket (bound to SPORT if given), so that every port is a flow of its own for the
 * multipath hash (policy l4). Paced, so that the veth backlog never drops; prints the count sent.
 */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';

const [host, first, flows, per, sport] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 1), process.argv[6]];
const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
if (sport) await new Promise<void>((resolve) => sock.bind(Number(sport), resolve));
const payload = Buffer.from('ha route test\n');
let sent = 0;
for (let i = 0; i < flows; i++) {
  for (let k = 0; k < per; k++) {
    await new Promise<void>((resolve, reject) => sock.send(payload, first + i, host, (e) => (e ? reject(e) : resolve())));
    sent++;
    if (sent % 50 === 0) await new Promise((r) => setTimeout(r, 2));
  }
}
sock.close();
process.stdout.write(`${sent}\n`);
