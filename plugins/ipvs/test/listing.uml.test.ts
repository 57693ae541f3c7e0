/**
 * Runs inside User-Mode Linux: the basic listing (the kernel's text table plus netlink where it is
 * not enough) must give the same real servers as the full netlink listing, for everything that
 * ha ipvs list and ha ipvs save print, and both commands must still match ipvsadm byte for byte.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { ha } from '@ha/lib/testing';
import { listServices } from '../src/kernel.js';
import { NetlinkSession } from '@ha/lib/netlink';

const RULES = `-A -t 192.0.2.80:80 -s wrr
-a -t 192.0.2.80:80 -r 198.51.100.1:8080 -m -w 3
-a -t 192.0.2.80:80 -r 198.51.100.2:80 -g -w 1
-A -u 192.0.2.80:53 -s rr -o
-a -u 192.0.2.80:53 -r 198.51.100.3:53 -m -w 0
-A -t [2001:db8::80]:443 -s lc -p 60
-a -t [2001:db8::80]:443 -r [2001:db8::1]:443 -m -w 2
-a -t [2001:db8::80]:443 -r [2001:db8::2]:8443 -m -w 1
-A -f 5 -s sh -b sh-port
-a -f 5 -r 198.51.100.4:0 -g -w 1
-A -f 5 -6 -s rr
-a -f 5 -6 -r [2001:db8::5]:0 -g -w 1
-A -f 6 -s rr
-a -f 6 -r 198.51.100.6:0 -g -w 4
-A -t 192.0.2.81:80 -s rr
-a -t 192.0.2.81:80 -r 198.51.100.7:80 -i --tun-type gue --tun-port 6080 --tun-csum -w 1
-a -t 192.0.2.81:80 -r 198.51.100.8:80 -m -w 1 -x 50 -y 5
`;

after(() => {
  NetlinkSession.closeAll();
  execFileSync('ipvsadm', ['-C']);
});

test('the basic listing gives the same real servers as the full one (what list and save show)', async () => {
  execFileSync('ipvsadm', ['-C']);
  execFileSync('ipvsadm', ['-R'], { input: RULES });
  const pick = (s: Awaited<ReturnType<typeof listServices>>) => s.map((x) => ({
    ...x, stats: undefined,
    servers: x.servers.map((r) => ({ family: r.family, address: r.address, port: r.port, forward: r.forward, weight: r.weight, activeConns: r.activeConns, inactiveConns: r.inactiveConns, tunnel: r.tunnel })),
  }));
  const full = await listServices();
  const basic = await listServices({ detail: 'basic' });
  assert.equal(full.length, 7);
  assert.deepEqual(pick(basic), pick(full));
});

test('ha ipvs save and list --format ipvsadm still match ipvsadm byte for byte', () => {
  execFileSync('ipvsadm', ['-C']);
  execFileSync('ipvsadm', ['-R'], { input: RULES });
  assert.equal(ha(['ipvs', 'save']).stdout, execFileSync('ipvsadm', ['-Sn'], { encoding: 'utf8' }));
  assert.equal(ha(['ipvs', 'list', '--format', 'ipvsadm']).stdout, execFileSync('ipvsadm', ['-Ln'], { encoding: 'utf8' }));
  assert.equal(ha(['ipvs', 'list', '--format', 'ipvsadm', '--thresholds']).stdout, execFileSync('ipvsadm', ['-Ln', '--thresholds'], { encoding: 'utf8' }));
});
