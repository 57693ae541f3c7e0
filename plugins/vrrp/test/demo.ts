/**
 * The README demonstration's VRRP step (run by scripts/demo.ts, on the host kernel, in network
 * namespaces of its own): two ha nodes and one keepalived node on one LAN sharing a VIP, a client
 * talking to the VIP the whole time, the master killed, then stopped, and what `ha vrrp status`
 * and `ha vrrp peers` say along the way. Exits non-zero if anything does not behave as shown.
 */
import { BIN } from '@ha/lib/testing';
import { FILTER, Lan, LanNode, now, waitFor } from './lan.js';
import { startHa } from './ha-node.js';

let failures = 0;
const say = (text: string): void => { process.stdout.write(`${text}\n`); };
function check(ok: boolean, what: string): void {
  say(ok ? `ok: ${what}` : `!! ${what}`);
  if (!ok) failures++;
}

/** Show a command as the user would type it inside the node, and its output. */
function show(node: LanNode, args: string[], socket?: string): string {
  say(`\n[${node.name}]$ ha ${args.join(' ')}`);
  const r = node.exec([process.execPath, BIN, ...args, ...(socket ? ['--socket', socket] : [])]);
  const out = `${r.stdout}${r.stderr}`.trimEnd();
  say(out);
  if (r.status !== 0) check(false, `ha ${args.join(' ')} exited ${r.status}`);
  return out;
}

const VIP = '192.0.2.100';
const instance = (priority: number) => ({ interface: 'eth0', vrid: 51, priority, vips: [`${VIP}/24`], authPass: 'demo' });

say('== VRRP: a floating VIP shared by two ha nodes and a keepalived node (network namespaces on this kernel) ==');
const lan = await Lan.create({ nodes: ['ha1', 'ha2', 'ka1'], clients: ['client'] });
try {
  const [ha1, ha2, ka1] = lan.nodes as [LanNode, LanNode, LanNode];
  const client = lan.clients[0]!;
  say(`(ha1 ${ha1.address} priority 150, ha2 ${ha2.address} priority 100, keepalived on ka1 ${ka1.address} priority 50; VIP ${VIP}; client ${client.address})`);
  const capture = await lan.capture('hub', FILTER.vrrp);
  for (const n of lan.nodes) await lan.echoServer(n, VIP, 7777);
  const a1 = await startHa(ha1, { instances: { VI_1: instance(150) } });
  const a2 = await startHa(ha2, { instances: { VI_1: instance(100) } });
  const ka = await lan.keepalived(ka1, { vrid: 51, priority: 50, vips: [`${VIP}/24`], authPass: 'demo' });
  await a1.waitState('VI_1', 'MASTER', 10_000);
  const echo = await lan.client(client, VIP, 7777, { intervalMs: 50 });
  await waitFor(() => echo.lastBy() === 'ha1', 5000, 'the client answered by ha1');
  check(ha1.vips().includes(VIP) && !ha2.vips().includes(VIP) && !ka1.vips().includes(VIP), 'ha1 holds the VIP, nobody else does');
  show(ha1, ['vrrp', 'status'], a1.socket);
  show(client, ['vrrp', 'peers', '-i', 'eth0', '--seconds', '2.5']);

  say('\n-- ha1 dies (kill -9, cable cut): ha2 takes over after 3 x 1 s + skew --');
  await a1.kill();
  ha1.linkDown();
  await new Promise((r) => setTimeout(r, 200));
  const lastFromHa1 = capture.vrrp({ from: ha1 }).at(-1)?.t ?? now();
  await a2.waitState('VI_1', 'MASTER', 8000);
  const first = await capture.waitFor((p) => ha2.sent(p) && p.kind === 'vrrp' && p.t > lastFromHa1, 2000, 'ha2 advert');
  const bound = 3 + (256 - 100) / 256;
  say(`ha2 advertised ${(first.t - lastFromHa1).toFixed(3)} s after ha1's last advert (the protocol's bound: ${bound.toFixed(3)} s)`);
  check(Math.abs(first.t - lastFromHa1 - bound) < 0.1, 'takeover within the protocol bound');
  await waitFor(() => echo.lastBy() === 'ha2', 5000, 'the client answered by ha2');
  const outage = echo.outage();
  say(`the client's longest gap: ${(outage.gap * 1000).toFixed(0)} ms`);
  const neigh = lan.neighbour(client, VIP);
  check(neigh?.lladdr === ha2.mac, `the client's neighbour entry for ${VIP} moved to ha2's MAC ${ha2.mac} (gratuitous ARP): ${neigh?.lladdr}`);
  show(ha2, ['vrrp', 'status'], a2.socket);

  say('\n-- ha2 stops (SIGTERM): priority 0, keepalived takes over after its skew --');
  const stopAt = now();
  await a2.stop();
  await ka.waitState('MASTER', 5000);
  check(ka1.vips().includes(VIP), `keepalived on ka1 holds the VIP ${((now() - stopAt)).toFixed(2)} s after ha2 stopped`);
  await waitFor(() => echo.lastBy() === 'ka1', 5000, 'the client answered by ka1');
  show(client, ['vrrp', 'peers', '-i', 'eth0', '--seconds', '2.5']);
  await echo.stop();
  await capture.stop();
} catch (error) {
  check(false, (error as Error).message);
} finally {
  await lan.destroy();
}
say(failures === 0 ? '\nvrrp demo: every step behaved as expected' : `\nvrrp demo: ${failures} step(s) misbehaved`);
process.exitCode = failures ? 1 : 0;
