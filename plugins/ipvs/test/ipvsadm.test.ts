/**
 * Host unit tests of the ipvsadm compatibility layer: options → model, the save/restore format,
 * and ipvsadm's text output from hand-built services. (ipvsadm.uml.test.ts compares all of it with
 * the real ipvsadm 1.31 on a real kernel.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '@ha/lib';
import { DEFAULT_PERSISTENCE_TIMEOUT, Server, Service, Stats } from '../src/model.js';
import {
  IpvsOptions, parseFwmark, serverFromOptions, serverKeyFromOptions, serviceFromOptions, serviceKeyFromOptions,
} from '../src/ipvsadm/options.js';
import { applyRules, applyRulesText, parseRules, thresholdsOmitted } from '../src/ipvsadm/rules.js';
import {
  compareServers, compareServiceKeys, formatDaemons, formatList, formatSave, formatTimeouts, largeNumber, sortServices, sortServicesInPlace,
} from '../src/ipvsadm/format.js';

/** Assert that fn throws one UsageError (exit 2) whose single-line message matches. */
function assertUsage(fn: () => unknown, pattern: RegExp, label: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof UsageError, `${label}: expected a UsageError, got ${error === undefined ? 'no error' : String(error)}`);
  assert.equal(error.exitCode, 2, label);
  assert.ok(!error.message.includes('\n'), `${label}: message is one line: ${JSON.stringify(error.message)}`);
  assert.match(error.message, pattern, label);
}

/** A service for tests; keys given as undefined are left out (a firewall-mark service has no address). */
const svc = (over: Partial<Service> & Record<string, unknown>): Service => {
  const s: Record<string, unknown> = { family: 'ipv4', protocol: 'tcp', address: '192.0.2.1', port: 80, scheduler: 'wlc', schedFlags: [], onePacket: false, servers: [], ...over };
  for (const k of Object.keys(s)) if (s[k] === undefined) delete s[k];
  return s as unknown as Service;
};
const srv = (over: Partial<Server>): Server => ({
  family: 'ipv4', address: '198.51.100.1', port: 80, forward: 'droute', weight: 1, upperThreshold: 0, lowerThreshold: 0, ...over,
});
const stats = (n: bigint): Stats => ({
  conns: n, inpkts: n * 2n, outpkts: n * 3n, inbytes: n * 4n, outbytes: n * 5n, cps: n, inpps: n, outpps: n, inbps: n * 7n, outbps: n * 8n,
});

// ---- options ----

describe('options → service', () => {
  test('ipvsadm defaults: wlc, not persistent, no flags', () => {
    assert.deepEqual(serviceFromOptions({ tcpService: '192.0.2.1:80' }), svc({}));
  });

  test('-p without a value is 360 s (ipvsadm IPVS_SVC_PERSISTENT_TIMEOUT), netmask one address', () => {
    assert.equal(DEFAULT_PERSISTENCE_TIMEOUT, 360);
    assert.deepEqual(serviceFromOptions({ udpService: '192.0.2.1:53', persistent: true }).persistence, { timeout: 360, netmask: '255.255.255.255' });
    assert.deepEqual(serviceFromOptions({ tcpService: '[2001:db8::1]:443', persistent: '60' }).persistence, { timeout: 60, netmask: 128 });
    assert.deepEqual(serviceFromOptions({ tcpService: '192.0.2.1:80', persistent: '2678400', netmask: '255.255.255.0' }).persistence, { timeout: 2678400, netmask: '255.255.255.0' });
    assert.deepEqual(serviceFromOptions({ fwmarkService: '7', ipv6: true, persistent: true, netmask: '48' }).persistence, { timeout: 360, netmask: 48 });
  });

  test('keys: protocols, IPv6, firewall marks (v4 and -6), port 0 with persistence', () => {
    assert.deepEqual(serviceKeyFromOptions({ sctpService: '192.0.2.1:3868' }), { family: 'ipv4', protocol: 'sctp', address: '192.0.2.1', port: 3868 });
    assert.deepEqual(serviceKeyFromOptions({ tcpService: '[2001:DB8:0::1]:80' }), { family: 'ipv6', protocol: 'tcp', address: '2001:db8::1', port: 80 });
    assert.deepEqual(serviceKeyFromOptions({ fwmarkService: '5' }), { family: 'ipv4', fwmark: 5 });
    assert.deepEqual(serviceKeyFromOptions({ fwmarkService: '5', ipv6: true }), { family: 'ipv6', fwmark: 5 });
    assert.equal(serviceFromOptions({ tcpService: '192.0.2.1', persistent: true }).port, 0);
  });

  test('firewall marks above 2^31 as ipvsadm -S prints them (negative) read back as the mark', () => {
    assert.equal(parseFwmark('-1'), 4294967295);
    assert.equal(parseFwmark('-1294967296'), 3000000000);
    assert.equal(parseFwmark('4294967295'), 4294967295);
  });

  test('scheduler flags are canonical: bit order, named as the scheduler names them', () => {
    assert.deepEqual(serviceFromOptions({ tcpService: '192.0.2.1:80', scheduler: 'sh', schedFlags: 'sh-port,sh-fallback' }).schedFlags, ['sh-fallback', 'sh-port']);
    assert.deepEqual(serviceFromOptions({ tcpService: '192.0.2.1:80', scheduler: 'rr', schedFlags: 'flag-3,flag-1,flag-1' }).schedFlags, ['flag-1', 'flag-3']);
    assert.deepEqual(serviceFromOptions({ tcpService: '192.0.2.1:80', scheduler: 'mh', schedFlags: 'flag-1,mh-port' }).schedFlags, ['mh-fallback', 'mh-port']);
  });

  test('-o for UDP and firewall marks; --pe with persistence', () => {
    assert.equal(serviceFromOptions({ udpService: '192.0.2.1:53', ops: true }).onePacket, true);
    assert.equal(serviceFromOptions({ fwmarkService: '1', ops: true }).onePacket, true);
    assert.equal(serviceFromOptions({ udpService: '192.0.2.1:5060', persistent: true, pe: 'sip' }).pe, 'sip');
  });

  test('-E is not a merge: every option left out goes back to its default (as ipvsadm -E)', () => {
    const old = svc({ scheduler: 'sh', schedFlags: ['sh-port'], persistence: { timeout: 60, netmask: '255.255.255.0' }, servers: [srv({})] });
    const edited = serviceFromOptions({ tcpService: '192.0.2.1:80', scheduler: 'rr' }, { forEdit: old });
    assert.deepEqual(edited, svc({ scheduler: 'rr', servers: [srv({})] }));
    const again = serviceFromOptions({ tcpService: '192.0.2.1:80', persistent: true }, { forEdit: old });
    assert.deepEqual(again.persistence, { timeout: 360, netmask: '255.255.255.255' });
    assert.equal(again.scheduler, 'wlc');
  });

  test('merge: true keeps what is left out', () => {
    const old = svc({ scheduler: 'sh', schedFlags: ['sh-port'], persistence: { timeout: 60, netmask: '255.255.255.0' } });
    const m = serviceFromOptions({ tcpService: '192.0.2.1:80', persistent: '90' }, { forEdit: old, merge: true });
    assert.deepEqual(m, svc({ scheduler: 'sh', schedFlags: ['sh-port'], persistence: { timeout: 90, netmask: '255.255.255.0' } }));
  });

  test('oclif-style records (kebab-case flags renamed) are accepted', () => {
    const flags: Record<string, unknown> = { tcpService: '192.0.2.1:80', scheduler: 'rr', ops: false, persistent: '300' };
    assert.equal(serviceFromOptions(flags).persistence?.timeout, 300);
  });
});

describe('options → real server', () => {
  const key = serviceKeyFromOptions({ tcpService: '192.0.2.1:80' });
  const fwm = serviceKeyFromOptions({ fwmarkService: '3' });

  test('ipvsadm defaults: direct routing, weight 1, no thresholds, the service port', () => {
    assert.deepEqual(serverFromOptions({ realServer: '198.51.100.1' }, key), srv({}));
  });

  test('-g and -i use the service port whatever port was written; -m keeps it', () => {
    assert.equal(serverFromOptions({ realServer: '198.51.100.1:8080' }, key).port, 80);
    assert.equal(serverFromOptions({ realServer: '198.51.100.1:8080', ipip: true }, key).port, 80);
    assert.equal(serverFromOptions({ realServer: '198.51.100.1:8080', masquerading: true }, key).port, 8080);
    assert.equal(serverFromOptions({ realServer: '198.51.100.1', masquerading: true }, key).port, 80);
    assert.equal(serverFromOptions({ realServer: '198.51.100.1:0', masquerading: true }, key).port, 0);
  });

  test('firewall-mark services: port as written, else 0', () => {
    assert.equal(serverFromOptions({ realServer: '198.51.100.1' }, fwm).port, 0);
    assert.equal(serverFromOptions({ realServer: '198.51.100.1:443', gatewaying: true }, fwm).port, 443);
  });

  test('tunnels: ipip by default; gue with port and checksum; gre; the other family', () => {
    assert.deepEqual(serverFromOptions({ realServer: '198.51.100.1', ipip: true }, key).tunnel, { type: 'ipip', checksum: 'nocsum' });
    assert.deepEqual(serverFromOptions({ realServer: '198.51.100.1', ipip: true, tunType: 'gue', tunPort: '6080' }, key).tunnel, { type: 'gue', port: 6080, checksum: 'nocsum' });
    assert.deepEqual(serverFromOptions({ realServer: '198.51.100.1', ipip: true, tunType: 'gue', tunPort: '6080', tunRemcsum: true }, key).tunnel, { type: 'gue', port: 6080, checksum: 'remcsum' });
    assert.deepEqual(serverFromOptions({ realServer: '198.51.100.1', ipip: true, tunType: 'gre', tunCsum: true }, key).tunnel, { type: 'gre', checksum: 'csum' });
    const six = serverFromOptions({ realServer: '[2001:db8::5]:99', ipip: true }, key);
    assert.deepEqual([six.family, six.address, six.port], ['ipv6', '2001:db8::5', 80]);
  });

  test('weights and thresholds', () => {
    const r = serverFromOptions({ realServer: '198.51.100.1', weight: '0', uThreshold: '100', lThreshold: '100' }, key);
    assert.deepEqual([r.weight, r.upperThreshold, r.lowerThreshold], [0, 100, 100]);
    assert.equal(serverFromOptions({ realServer: '198.51.100.1', weight: '65535' }, key).weight, 65535);
  });

  test('-e is not a merge either (weight back to 1, direct routing); merge: true keeps', () => {
    const old = srv({ port: 8080, forward: 'masq', weight: 5, upperThreshold: 9 });
    assert.deepEqual(serverFromOptions({ realServer: '198.51.100.1:8080', masquerading: true }, key, { forEdit: old }), srv({ port: 8080, forward: 'masq' }));
    assert.deepEqual(serverFromOptions({ realServer: '198.51.100.1:8080', weight: '7' }, key, { forEdit: old, merge: true }), srv({ port: 8080, forward: 'masq', weight: 7, upperThreshold: 9 }));
  });

  test('-d names the server by the port as written (no -g rewrite)', () => {
    assert.deepEqual(serverKeyFromOptions({ realServer: '198.51.100.1:8080' }, key), { family: 'ipv4', address: '198.51.100.1', port: 8080 });
    assert.deepEqual(serverKeyFromOptions({ realServer: '198.51.100.1' }, key), { family: 'ipv4', address: '198.51.100.1', port: 80 });
  });
});

// ---- every refusal, as a rules line (table-driven) ----

const A = '-A -t 192.0.2.1:80';
const a = '-a -t 192.0.2.1:80 -r 198.51.100.1';
const INVALID_LINES: Array<[string, RegExp]> = [
  // the service key
  ['-A', /-A needs a virtual service: -t\/--tcp-service, -u\/--udp-service, --sctp-service ADDRESS:PORT or -f/],
  ['-A -t 192.0.2.1:80 -u 192.0.2.1:53', /-t\/--tcp-service, -u\/--udp-service: give only one virtual service/],
  ['-A -t 192.0.2.1:80 --sctp-service 192.0.2.1:80', /-t\/--tcp-service, --sctp-service: give only one virtual service/],
  ['-A -t 192.0.2.1:80 -f 1', /-t\/--tcp-service, -f\/--fwmark-service: give only one virtual service/],
  ['-A -f 0', /-f\/--fwmark-service: "0" is not a firewall mark from 1 to 4294967295/],
  ['-A -f 4294967296', /-f\/--fwmark-service: "4294967296" is not a firewall mark from 1 to 4294967295/],
  ['-A -f mark', /-f\/--fwmark-service: "mark" is not a firewall mark/],
  ['-A -t 192.0.2.1:80 -6', /-6\/--ipv6 is only for firewall-mark services \(-f\); with -t\/--tcp-service the address gives the family/],
  ['-A -t 2001:db8::1:80', /-t\/--tcp-service: "2001:db8::1:80": write IPv6 addresses in brackets/],
  ['-A -t www.example.com:80', /-t\/--tcp-service: "www.example.com" is not an IPv4 or IPv6 address \(hostnames are not resolved/],
  ['-A -t 192.0.2.1:http', /-t\/--tcp-service: port "http" is not a number from 0 to 65535/],
  ['-A -u 192.0.2.1:65536', /-u\/--udp-service: port "65536" is not a number from 0 to 65535/],
  ['-A -t 192.0.2.1:0', /-t\/--tcp-service: port 0 \(every port\) needs persistence: add -p\/--persistent/],
  ['-A --sctp-service 192.0.2.1', /--sctp-service: port 0 \(every port\) needs persistence/],
  // scheduler, flags
  [`${A} -s foo`, /-s\/--scheduler: unknown scheduler "foo" \(one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos\)/],
  [`${A} -b sh-port`, /-b\/--sched-flags: sh-port is only for the sh scheduler \(-s sh\), not wlc \(the default\)/],
  [`${A} -s rr -b mh-fallback`, /-b\/--sched-flags: mh-fallback is only for the mh scheduler \(-s mh\), not rr$/],
  [`${A} -s sh -b sh-port,bogus`, /-b\/--sched-flags: unknown flag "bogus" \(one of sh-fallback, sh-port, mh-fallback, mh-port, flag-1, flag-2, flag-3\)/],
  [`${A} -s sh -b sh-port,`, /-b\/--sched-flags: "sh-port," is not a comma-separated list of flags/],
  // persistence
  [`${A} -p 0`, /-p\/--persistent: "0" is not a timeout in seconds from 1 to 2678400/],
  [`${A} -p 2678401`, /-p\/--persistent: "2678401" is not a timeout in seconds from 1 to 2678400/],
  [`${A} -p soon`, /-p\/--persistent: "soon" is not a timeout in seconds/],
  [`${A} -p -M 255.0.255.0`, /-M\/--netmask: "255.0.255.0" is not an IPv4 netmask like 255.255.255.0/],
  [`${A} -p -M 24`, /-M\/--netmask: "24" is not an IPv4 netmask like 255.255.255.0 \(contiguous ones; IPv6 services take a prefix length\)/],
  ['-A -t [2001:db8::1]:80 -p -M 129', /-M\/--netmask: "129" is not an IPv6 prefix length from 1 to 128/],
  ['-A -t [2001:db8::1]:80 -p -M 255.255.255.0', /-M\/--netmask: "255.255.255.0" is not an IPv6 prefix length from 1 to 128/],
  [`${A} -M 255.255.255.0`, /-M\/--netmask 255.255.255.0: the netmask is the granularity of persistence; add -p\/--persistent/],
  ['-A -u 192.0.2.1:5060 --pe sip', /--pe sip: a persistence engine only works for a persistent service; add -p\/--persistent/],
  ['-A -u 192.0.2.1:5060 -p --pe h323', /--pe: unknown persistence engine "h323" \(one of sip\)/],
  [`${A} -o`, /-o\/--ops: one-packet scheduling is only for UDP services and firewall marks, not tcp service 192.0.2.1:80\/tcp/],
  // options of the other object
  [`${A} -r 198.51.100.1`, /-r\/--real-server is not an option of -A\/--add-service \(it belongs to -a\/-e\)/],
  [`${A} -w 3`, /-w\/--weight is not an option of -A\/--add-service \(it belongs to -a\/-e\)/],
  ['-E -t 192.0.2.1:80 -m', /-m\/--masquerading is not an option of -E\/--edit-service/],
  [`${a} -s rr`, /-s\/--scheduler is not an option of -a\/--add-server \(it belongs to -A\/-E\)/],
  [`${a} -p 10`, /-p\/--persistent is not an option of -a\/--add-server/],
  ['-d -t 192.0.2.1:80 -r 198.51.100.1 -m', /-m\/--masquerading is not an option of -d\/--delete-server/],
  ['-D -t 192.0.2.1:80 -s rr', /-s\/--scheduler is not an option of -D\/--delete-service/],
  ['-C -t 192.0.2.1:80', /-t\/--tcp-service is not an option of -C\/--clear/],
  // the real server
  ['-a -t 192.0.2.1:80', /-a needs -r\/--real-server ADDRESS\[:PORT\]/],
  [`${a} -w 65536`, /-w\/--weight: "65536" is not a whole number from 0 to 65535/],
  [`${a} -w -1`, /-w\/--weight: "-1" is not a whole number from 0 to 65535/],
  [`${a} -x lots`, /-x\/--u-threshold: "lots" is not a whole number from 0 to 2147483647/],
  [`${a} -y 2147483648`, /-y\/--l-threshold: "2147483648" is not a whole number from 0 to 2147483647/],
  [`${a} -x 5 -y 10`, /-y\/--l-threshold 10 is above -x\/--u-threshold 5/],
  [`${a} -y 5`, /-y\/--l-threshold 5: a lower threshold needs an upper threshold \(-x\) at least as high/],
  [`${a} -g -m`, /-g\/--gatewaying, -m\/--masquerading: choose one forwarding method \(-g direct routing, -i tunnelling, -m NAT\)/],
  [`${a} -i -m`, /-i\/--ipip, -m\/--masquerading: choose one forwarding method/],
  [`${a} --tun-type gue`, /--tun-type: tunnel options need tunnelling \(-i\/--ipip\), not direct routing \(-g, the default\)/],
  [`${a} -m --tun-port 5`, /--tun-port: tunnel options need tunnelling \(-i\/--ipip\), not NAT \(-m\)/],
  [`${a} -i --tun-type vxlan`, /--tun-type: unknown tunnel type "vxlan" \(one of ipip, gue, gre\)/],
  [`${a} -i --tun-type gue`, /--tun-type gue: a gue tunnel needs --tun-port PORT/],
  [`${a} -i --tun-type gue --tun-port 0`, /--tun-port: "0" is not a UDP port from 1 to 65535/],
  [`${a} -i --tun-type gue --tun-port 5 --tun-csum --tun-remcsum`, /--tun-csum, --tun-remcsum: choose one checksum option/],
  [`${a} -i --tun-type gre --tun-remcsum`, /--tun-remcsum: remote checksum offload is only for gue tunnels, not gre/],
  [`${a} -i --tun-type gre --tun-port 5`, /--tun-port 5: only gue tunnels have a port, not gre/],
  [`${a} -i --tun-csum`, /--tun-csum: not an option of an ipip tunnel/],
  [`${a} -i --tun-port 5`, /--tun-port: not an option of an ipip tunnel/],
  ['-a -t 192.0.2.1:80 -r [2001:db8::1]:80', /-r\/--real-server: IPv6 real server \[2001:db8::1\]:80 in IPv4 service 192.0.2.1:80\/tcp needs tunnelling \(-i\)/],
  ['-a -f 1 -r [2001:db8::1] -m', /-r\/--real-server: IPv6 real server \[2001:db8::1\] in IPv4 service fwmark 1 needs tunnelling/],
  ['-a -t 192.0.2.1:80 -r 2001:db8::1', /-r\/--real-server: "2001:db8::1": write IPv6 addresses in brackets/],
  ['-a -t 192.0.2.1:80 -r 198.51.100.1:99999 -m', /-r\/--real-server: port "99999" is not a number from 0 to 65535/],
  ['-a -t 192.0.2.1:80 -r 224.0.0.1', /-r\/--real-server: "224.0.0.1" is a multicast address; a real server needs a unicast address/],
  ['-a -t 192.0.2.1:80 -r 0.0.0.0', /-r\/--real-server: "0.0.0.0" is in 0.0.0.0\/8/],
  ['-a -t 192.0.2.1:80 -r 255.255.255.255', /-r\/--real-server: "255.255.255.255" is the broadcast address/],
  ['-a -t [2001:db8::1]:80 -r [fe80::1]', /-r\/--real-server: "\[fe80::1\]" is link-local/],
  ['-a -t [2001:db8::1]:80 -r [ff02::1]', /-r\/--real-server: "\[ff02::1\]" is a multicast address/],
  ['-a -t [2001:db8::1]:80 -r [::]', /-r\/--real-server: "\[::\]" is the unspecified address/],
  // the line itself
  ['-A -t 192.0.2.1:80 -E', /-E: only one command per line \(this line already has -A\)/],
  ['-L', /-L is not a table command \(a rules file holds only -A -E -D -a -e -d -C\)/],
  ['-Z -t 192.0.2.1:80', /-Z is not a table command/],
  ['--set 900 120 300', /--set is not a table command .*timeouts and sync daemons are not part of it/],
  ['--start-daemon master', /--start-daemon is not a table command/],
  ['-S -n', /-S is not a table command/],
  [`${A} -n`, /-n is a listing option, not part of a rule/],
  [`${A} --stats`, /--stats is a listing option/],
  [`${A} --mcast-interface eth0`, /--mcast-interface is a sync daemon option/],
  [`${A} -q`, /unknown option -q \(a rule takes -A -E -D -a -e -d -C with -t -u/],
  [`${A} -oq`, /unknown option -q in -oq \(a rule takes/],
  [`${A} --bogus`, /unknown option --bogus/],
  ['-A -t', /-t needs a value \(ADDRESS:PORT\)/],
  ['-A --tcp-service', /--tcp-service needs a value \(ADDRESS:PORT\)/],
  [`${a} --tun-type`, /--tun-type needs a value \(ipip\|gue\|gre\)/],
  [`${A} extra`, /unexpected word "extra"/],
  [`${A} -s rr -s wrr`, /-s\/--scheduler is given twice/],
  [`${A} -s rr --scheduler wrr`, /-s\/--scheduler is given twice/],
  ['-t 192.0.2.1:80 -s rr', /no command: a rule starts with one of -A -E -D -a -e -d -C/],
  [`${A} --ops=1`, /--ops takes no value \(got "1"\)/],
];

describe('every invalid line is refused with one line naming the option', () => {
  test(`at least 40 cases (${INVALID_LINES.length})`, () => assert.ok(INVALID_LINES.length >= 40));
  for (const [line, pattern] of INVALID_LINES) {
    test(line, () => {
      assertUsage(() => parseRules(`# a valid line first\n-A -t 192.0.2.99:80\n${line}\n`, 'lb.rules'), new RegExp(`^lb\\.rules:3: (?:${pattern.source})`), line);
    });
  }
});

describe('invalid options from the commands (oclif flags)', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['no service', () => serviceFromOptions({}), /^no virtual service: give one of -t\/--tcp-service/],
    ['empty -p', () => serviceFromOptions({ tcpService: '192.0.2.1:80', persistent: '' }), /-p\/--persistent: "" is not a timeout/],
    ['a value for a switch', () => serviceFromOptions({ udpService: '192.0.2.1:53', ops: 'yes' } as unknown as IpvsOptions), /-o\/--ops takes no value \(got "yes"\)/],
    ['-E of another service', () => serviceFromOptions({ tcpService: '192.0.2.1:81' }, { forEdit: svc({}) }), /the options name service 192.0.2.1:81\/tcp, not 192.0.2.1:80\/tcp being edited/],
    ['-e of another server', () => serverFromOptions({ realServer: '198.51.100.2' }, svc({}), { forEdit: srv({}) }), /the options name real server 198.51.100.2:80, not 198.51.100.1:80 being edited/],
    ['merge keeps sh flags under rr', () => serviceFromOptions({ tcpService: '192.0.2.1:80', scheduler: 'rr' }, { forEdit: svc({ scheduler: 'sh', schedFlags: ['sh-port'] }), merge: true }), /-s\/--scheduler: rr does not take the service's flag sh-port: give -b\/--sched-flags too/],
    ['no -r', () => serverFromOptions({ weight: '2' }, svc({})), /^-r\/--real-server is required/],
    ['server options on a service', () => serviceFromOptions({ tcpService: '192.0.2.1:80', weight: '3', masquerading: true }), /-m\/--masquerading, -w\/--weight: not an option of a virtual service/],
    ['service options on a server', () => serverFromOptions({ realServer: '198.51.100.1', scheduler: 'rr' }, svc({})), /-s\/--scheduler: not an option of a real server/],
  ];
  for (const [label, fn, pattern] of cases) test(label, () => assertUsage(fn, pattern, label));
});

// ---- rules ----

describe('rules: parsing', () => {
  test('ipvsadm -S output, long and short forms, comments, clusters, attached values, CRLF', () => {
    const text = [
      '# saved by hand',
      '',
      'ipvsadm -A -t 192.0.2.1:80 -s rr -p   # trailing comment',
      '-At 192.0.2.2:80',
      '--add-service --tcp-service=192.0.2.3:80 --scheduler=wrr --persistent=20 --netmask 255.255.0.0',
      '-A -t192.0.2.4:80 -srr -p20\r',
      '-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -mw 5',
      '--add-server --tcp-service 192.0.2.1:80 --real-server 198.51.100.2 --ipip --tun-type=gue --tun-port 6080 --tun-csum',
      '-A -f -1 -s wlc',
      '\t',
    ].join('\n');
    const cmds = parseRules(text, 'x');
    assert.deepEqual(cmds.map((c) => [c.line, c.command]), [[3, 'add-service'], [4, 'add-service'], [5, 'add-service'], [6, 'add-service'], [7, 'add-server'], [8, 'add-server'], [9, 'add-service']]);
    const table = applyRules([], cmds);
    assert.deepEqual(table[0]!.persistence, { timeout: 360, netmask: '255.255.255.255' });
    assert.deepEqual(table[2]!.persistence, { timeout: 20, netmask: '255.255.0.0' });
    assert.deepEqual(table[3]!.persistence?.timeout, 20);
    assert.deepEqual(table[0]!.servers.map((r) => [r.port, r.forward, r.weight]), [[8080, 'masq', 5], [80, 'tunnel', 1]]);
    assert.deepEqual(table[0]!.servers[1]!.tunnel, { type: 'gue', port: 6080, checksum: 'csum' });
    assert.deepEqual(table[4], svc({ fwmark: 4294967295, protocol: undefined, address: undefined, port: undefined }));
  });

  test('the first bad line is reported; nothing is returned', () => {
    assertUsage(() => parseRules('-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80 -s nope\n-A -t bad\n', 'f.rules'), /^f\.rules:2: -s\/--scheduler: unknown scheduler "nope"/, 'first bad');
    assertUsage(() => parseRules('-A -t 192.0.2.1:80 -x'), /^stdin:1: /, 'default source');
  });

  test('one-pass reading (restore) gives the table that parsing then applying gives', () => {
    const text = [
      '-A -t 192.0.2.1:80 -s wrr',
      '-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 1',
      '-a -t 192.0.2.1:80 -r 198.51.100.2:8080 -g -w 3',
      '-a -t 192.0.2.1:80 -r 198.51.100.3:8080 -i -w 0',
      '-A -u [2001:db8::1]:53 -s sh -b sh-port -p 30 -M 64',
      '-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m -w 2 -x 10 -y 5',
      '-A -f 7 -s rr',
      'ipvsadm -e -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 9',
      '-d -t 192.0.2.1:80 -r 198.51.100.2',
      '-E -t 192.0.2.1:80 -s lc # comment',
      '',
    ].join('\n');
    const twoPass = applyRules([], parseRules(text, 'r'));
    assert.deepEqual(applyRulesText([], text, 'r'), twoPass);
    // in pieces ending at line ends (as restore reads a file), the same table; line numbers go on
    const lines = text.split(/(?<=\n)/);
    assert.deepEqual(applyRulesText([], [lines.slice(0, 3).join(''), lines.slice(3, 4).join(''), lines.slice(4).join('')], 'r'), twoPass);
    assertUsage(() => applyRulesText([], ['-A -t 192.0.2.1:80 -s rr\n\n', '-A -t 192.0.2.2:80 -s nope\n'], 'r'), /^r:3: -s\/--scheduler: unknown scheduler "nope"/, 'line numbers across pieces');
    assert.equal(twoPass.length, 3);
    assert.deepEqual(twoPass[0]!.servers.map((r) => [r.address, r.port, r.forward, r.weight]), [['198.51.100.1', 8080, 'masq', 9], ['198.51.100.3', 80, 'tunnel', 0]]);
    // the fast path for -Sn's shapes checks what the general parser checks
    assertUsage(() => applyRulesText([], '-A -t 192.0.2.1:80 -s nope\n', 'r'), /^r:1: -s\/--scheduler: unknown scheduler "nope"/, 'fast path scheduler');
    assertUsage(() => applyRulesText([], '-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 70000\n', 'r'), /^r:2: -w\/--weight/, 'fast path weight');
    assertUsage(() => applyRulesText([], '-A -t 192.0.2.300:80 -s rr\n', 'r'), /^r:1: /, 'fast path address');
    // the first bad line of either kind is the one reported
    assertUsage(() => applyRulesText([], '-a -t 192.0.2.9:80 -r 198.51.100.1:80 -m -w 1\n-A -t bad\n', 'r'), /^r:1: service 192\.0\.2\.9:80\/tcp does not exist$/, 'missing service first');
    assertUsage(() => applyRulesText([], '-A -t 192.0.2.1:80 -s rr\n-A -t bad\n-a -t 192.0.2.9:80 -r 198.51.100.1:80 -m -w 1\n', 'r'), /^r:2: /, 'syntax first');
  });

  test('the fast path for -Sn\'s two line shapes makes exactly what the general parser makes, or leaves the line to it', () => {
    // every line is read after a base table, once through restore's one-pass reader (which takes
    // the fast path where it can) and once through parseRules + applyRules (general parser only):
    // same table, or the same error
    const base = '-A -t 192.0.2.1:80 -s wrr\n-A -u 192.0.2.2:53 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.9:8080 -m -w 1\n';
    const services = ['192.0.2.1:80', '192.0.2.3:80', '192.0.2.03:80', '192.0.2.1:0', '192.0.2.1:080', '192.0.2.256:80', '0.0.0.0:80', '255.255.255.255:65535', '192.0.2.1:65536', '192.0.2.1', '[2001:db8::1]:80', '192.0.2.2:53'];
    const lines: string[] = [];
    for (const p of ['-t', '-u']) {
      for (const v of services) {
        for (const sched of ['wrr', 'rr', 'mh', 'twos', 'nope', 'rr ', 'wrr\r']) lines.push(`-A ${p} ${v} -s ${sched}`);
        for (const r of ['198.51.100.1:8080', '198.51.100.9:8080', '198.51.100.1', '198.51.100.01:80', '0.1.2.3:80', '224.0.0.1:80', '239.255.255.255:80', '240.0.0.1:80', '255.255.255.255:80', '198.51.100.1:0', '198.51.100.1:65536', '[2001:db8::2]:80', '203.0.113.300:80']) {
          for (const fwd of ['-m', '-g', '-i', '-x']) {
            for (const w of ['0', '1', '65535', '65536', '007', '-1', 'x', '']) lines.push(`-a ${p} ${v} -r ${r} ${fwd} -w ${w}`);
          }
        }
      }
    }
    lines.push('-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 1 -x 5', '-a  -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 1', '-A -t 192.0.2.7:80 -s rr -p', '-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -w 1 -m');
    const outcome = (fn: () => Service[]): unknown => {
      try {
        return fn();
      } catch (e) {
        return (e as Error).message;
      }
    };
    let fast = 0;
    for (const line of lines) {
      const text = `${base}${line}\n`;
      const oneStep = outcome(() => applyRulesText([], text, 'r'));
      assert.deepEqual(oneStep, outcome(() => applyRules([], parseRules(text, 'r'))), line);
      if (typeof oneStep !== 'string') fast++;
      if (typeof oneStep !== 'string' && line.startsWith('-a')) {
        const table = oneStep as Service[];
        const added = table.flatMap((s) => s.servers).at(-1)!;
        assert.equal(thresholdsOmitted(added), !/ -[xy] /.test(line), `${line}: thresholds left out`);
      }
    }
    assert.ok(fast > 100, `many lines are valid (${fast})`);
  });

  test('real servers whose line leaves -x/-y out are marked; -e and lines with -x/-y are not', () => {
    const table = applyRulesText([], [
      '-A -t 192.0.2.1:80 -s rr',
      '-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1',
      '--add-server --tcp-service 192.0.2.1:80 --real-server 198.51.100.2:80 --masquerading',
      '-a -t 192.0.2.1:80 -r 198.51.100.3:80 -m -w 1 -x 10',
      '-a -t 192.0.2.1:80 -r 198.51.100.4:80 -m -w 1 -x 0 -y 0',
      '-a -t 192.0.2.1:80 -r 198.51.100.5:80 -m -w 1',
      '-e -t 192.0.2.1:80 -r 198.51.100.5:80 -m -w 2',
      '-E -t 192.0.2.1:80 -s wrr',
    ].join('\n'), 'r');
    assert.deepEqual(table[0]!.servers.map((r) => [r.address, thresholdsOmitted(r)]), [
      ['198.51.100.1', true], ['198.51.100.2', true], ['198.51.100.3', false], ['198.51.100.4', false], ['198.51.100.5', false],
    ]);
  });

  test('empty input and comment-only input give no commands', () => {
    assert.deepEqual(parseRules(''), []);
    assert.deepEqual(parseRules('# nothing\n\n   \n'), []);
  });
});

describe('rules: applying (as the kernel would)', () => {
  const base = applyRules([], parseRules('-A -t 192.0.2.1:80 -s rr -p 10\n-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 5 -x 9\n', 'base'));

  test('-E replaces settings and keeps the real servers; -e replaces a server; -d, -D, -C remove', () => {
    const t = applyRules(base, parseRules([
      '-E -t 192.0.2.1:80 -s wrr',
      '-e -t 192.0.2.1:80 -r 198.51.100.1:8080 -m',
      '-a -t 192.0.2.1:80 -r 198.51.100.2',
      '-A -u 192.0.2.1:53',
      '-d -t 192.0.2.1:80 -r 198.51.100.2',
    ].join('\n'), 'edit'));
    assert.equal(t.length, 2);
    assert.deepEqual(t[0], svc({ scheduler: 'wrr', servers: [srv({ port: 8080, forward: 'masq' })] }));
    assert.equal(base[0]!.scheduler, 'rr', 'base is not changed');
    assert.deepEqual(applyRules(t, parseRules('-D -t 192.0.2.1:80')).length, 1);
    assert.deepEqual(applyRules(t, parseRules('-C')), []);
  });

  const refused: Array<[string, RegExp]> = [
    ['-A -t 192.0.2.1:80', /^r:1: service 192\.0\.2\.1:80\/tcp already exists$/],
    ['-E -t 192.0.2.9:80', /^r:1: service 192\.0\.2\.9:80\/tcp does not exist$/],
    ['-D -f 3', /^r:1: service fwmark 3 does not exist$/],
    ['-a -t 192.0.2.9:80 -r 198.51.100.1', /^r:1: service 192\.0\.2\.9:80\/tcp does not exist$/],
    ['-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m', /^r:1: real server 198\.51\.100\.1:8080 of service 192\.0\.2\.1:80\/tcp already exists$/],
    ['-e -t 192.0.2.1:80 -r 198.51.100.1', /^r:1: real server 198\.51\.100\.1:80 of service 192\.0\.2\.1:80\/tcp does not exist$/],
    ['-d -t 192.0.2.1:80 -r 198.51.100.1:9', /^r:1: real server 198\.51\.100\.1:9 of service 192\.0\.2\.1:80\/tcp does not exist$/],
  ];
  for (const [line, pattern] of refused) test(`refused: ${line}`, () => assertUsage(() => applyRules(base, parseRules(line, 'r')), pattern, line));

  test('a later line may depend on an earlier one; the error names the failing line', () => {
    assertUsage(() => applyRules([], parseRules('-A -t 192.0.2.5:80\n-C\n-a -t 192.0.2.5:80 -r 198.51.100.1\n', 'c')), /^c:3: service 192\.0\.2\.5:80\/tcp does not exist$/, 'after -C');
  });
});

// ---- formatting ----

describe('format: ipvsadm -Sn', () => {
  const table: Service[] = [
    svc({ fwmark: 7, family: 'ipv6', protocol: undefined, address: undefined, port: undefined, persistence: { timeout: 360, netmask: 64 },
      servers: [srv({ family: 'ipv6', address: '2001:db8::5', port: 0, forward: 'masq' }), srv({ address: '192.0.2.77', port: 0, forward: 'tunnel', tunnel: { type: 'ipip', checksum: 'nocsum' } })] }),
    svc({ protocol: 'udp', port: 53, scheduler: 'rr', onePacket: true, persistence: { timeout: 60, netmask: '255.255.255.0' }, pe: 'sip' }),
    svc({ scheduler: 'sh', schedFlags: ['sh-fallback', 'sh-port'], servers: [
      srv({ address: '198.51.100.9', forward: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } }),
      srv({ address: '198.51.100.10', forward: 'tunnel', tunnel: { type: 'gre', checksum: 'csum' } }),
      srv({ address: '198.51.100.2', port: 8080, forward: 'masq', weight: 0, upperThreshold: 5 }),
    ] }),
    svc({ protocol: 'sctp', address: '192.0.2.3', port: 3868 }),
    svc({ family: 'ipv6', address: '2001:db8::1', port: 443 }),
  ];

  test('services and servers in ipvsadm order, every field as ipvsadm writes it', () => {
    assert.equal(formatSave(table), [
      '-A -t 192.0.2.1:80 -s sh -b sh-fallback,sh-port',
      '-a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 0',
      '-a -t 192.0.2.1:80 -r 198.51.100.9:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum',
      '-a -t 192.0.2.1:80 -r 198.51.100.10:80 -i -w 1 --tun-type gre --tun-csum',
      '-A -u 192.0.2.1:53 -s rr -p 60 -M 255.255.255.0 --pe sip -o',
      '-A --sctp-service 192.0.2.3:3868 -s wlc',
      '-A -t [2001:db8::1]:443 -s wlc',
      '-A -f 7 -6 -s wlc -p 360 -M 64',
      '-a -f 7 -6 -r 192.0.2.77:0 -i -w 1 --tun-type ipip',
      '-a -f 7 -6 -r [2001:db8::5]:0 -m -w 1',
      '',
    ].join('\n'));
  });

  test('round trip: formatSave → parseRules → applyRules → formatSave', () => {
    const text = formatSave(table);
    assert.equal(formatSave(applyRules([], parseRules(text, 'save'))), text);
  });

  test('deliberate differences: marks above 2^31 unsigned, flag-3 on sh named', () => {
    assert.equal(formatSave([svc({ fwmark: 4294967295, protocol: undefined, address: undefined, port: undefined })]), '-A -f 4294967295 -s wlc\n');
    assert.equal(formatSave([svc({ scheduler: 'sh', schedFlags: ['flag-3'] })]), '-A -t 192.0.2.1:80 -s sh -b flag-3\n');
  });
});

describe('format: order', () => {
  const keys = [
    svc({ fwmark: 3000000000, protocol: undefined, address: undefined, port: undefined }),
    svc({ fwmark: 1, family: 'ipv6', protocol: undefined, address: undefined, port: undefined }),
    svc({ fwmark: 1, protocol: undefined, address: undefined, port: undefined }),
    svc({ family: 'ipv6', address: '2001:db8:ffff::1' }),
    svc({ family: 'ipv6', address: '2001:db8::1' }),
    svc({ protocol: 'sctp', address: '192.0.2.1' }),
    svc({ protocol: 'udp', address: '192.0.2.1' }),
    svc({ address: '192.0.2.1', port: 443 }),
    svc({ address: '192.0.2.1', port: 80 }),
    svc({ address: '0.0.0.0', port: 0, persistence: { timeout: 1, netmask: '255.255.255.255' } }),
  ];

  test('mark (none first), family, protocol number, address, port: numerically', () => {
    const order = sortServices(keys).map((s) => formatSave([s]).split(' -s ')[0]);
    assert.deepEqual(order, [
      '-A -t 0.0.0.0:0', '-A -t 192.0.2.1:80', '-A -t 192.0.2.1:443', '-A -u 192.0.2.1:80', '-A --sctp-service 192.0.2.1:80',
      '-A -t [2001:db8::1]:80', '-A -t [2001:db8:ffff::1]:80', '-A -f 1', '-A -f 1 -6', '-A -f 3000000000',
    ]);
    assert.equal(compareServiceKeys(keys[0]!, keys[0]!), 0);
  });

  test('real servers by family, address, port', () => {
    const s = svc({ servers: [srv({ address: '203.0.113.1' }), srv({ family: 'ipv6', address: '2001:db8::1', forward: 'tunnel' }), srv({ address: '9.9.9.9' }), srv({ address: '198.51.100.1', port: 81, forward: 'masq' }), srv({ address: '198.51.100.1', port: 79, forward: 'masq' })] });
    assert.deepEqual(sortServices([s])[0]!.servers.map((r) => `${r.address}:${r.port}`), ['9.9.9.9:80', '198.51.100.1:79', '198.51.100.1:81', '203.0.113.1:80', '2001:db8::1:80']);
  });

  test('real servers sorted by their numbers come out as compareServers orders them, IPv4 alone or with IPv6', () => {
    let seed = 7;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    for (let round = 0; round < 200; round++) {
      const servers = Array.from({ length: 1 + rnd(9) }, () => (rnd(10) === 0
        ? srv({ family: 'ipv6', address: `2001:db8::${rnd(50).toString(16)}`, port: rnd(4), forward: 'tunnel' })
        : srv({ address: `${rnd(3) * 100}.${rnd(256)}.0.${rnd(4)}`, port: rnd(4) * 20000 })));
      const unique = [...new Map(servers.map((r) => [`${r.address}|${r.port}`, r])).values()];
      const expected = [...unique].sort(compareServers).map((r) => `${r.address}:${r.port}`);
      assert.deepEqual(sortServices([svc({ servers: unique })])[0]!.servers.map((r) => `${r.address}:${r.port}`), expected);
    }
  });

  test('sorting in place gives the order sortServices gives, in any starting order', () => {
    const withServers = keys.map((k, i) => ({ ...k, servers: [srv({ address: `198.51.100.${9 - i}` }), srv({ address: '9.9.9.9' }), srv({ address: '198.51.100.200', port: 1 })] }));
    for (let round = 0; round < 20; round++) {
      const shuffled = [...withServers].sort(() => Math.random() - 0.5).map((s) => ({ ...s, servers: [...s.servers].reverse() }));
      const expected = sortServices(shuffled);
      assert.deepEqual(shuffled.length, keys.length);
      assert.deepEqual(sortServicesInPlace(shuffled), expected);
      assert.deepEqual(shuffled, expected, 'the array itself is in order');
    }
  });
});

describe('format: ipvsadm -Ln', () => {
  const info = { version: '1.2.1', connTabSize: 4096 };
  const table: Service[] = [
    svc({ scheduler: 'sh', schedFlags: ['sh-port'], persistence: { timeout: 60, netmask: '255.255.255.0' }, pe: 'sip', stats: stats(123456789n), servers: [
      srv({ address: '198.51.100.1', port: 8080, forward: 'masq', weight: 5, upperThreshold: 10, lowerThreshold: 2, activeConns: 3, inactiveConns: 4, persistentConns: 1, stats: stats(99999999n) }),
      srv({ address: '198.51.100.3', forward: 'tunnel', tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' }, stats: stats(150000000000000n) }),
    ] }),
    svc({ family: 'ipv6', protocol: 'udp', address: '2001:db8::1234:5678:9abc', port: 53, onePacket: true, persistence: { timeout: 10, netmask: 48 },
      servers: [srv({ family: 'ipv6', address: '2001:db8::1234:5678:9abd', port: 5353, forward: 'masq' })] }),
    svc({ fwmark: 9, protocol: undefined, address: undefined, port: undefined, family: 'ipv6', servers: [srv({ forward: 'local', port: 0 })] }),
  ];

  test('default columns', () => {
    assert.equal(formatList(table, info), [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  192.0.2.1:80 sh (sh-port) persistent 60 mask 255.255.255.0 pe sip',
      '  -> 198.51.100.1:8080            Masq    5      3          4         ',
      '  -> 198.51.100.3:80              Tunnel  1      0          0         ',
      'UDP  [2001:db8::1234:5678:9abc]:53 wlc persistent 10 mask 48 ops',
      '  -> [2001:db8::1234:5678:9abd]:5353 Masq    1      0          0         ',
      'FWM  9 IPv6 wlc',
      '  -> 198.51.100.1:0               Local   1      0          0         ',
      '',
    ].join('\n'));
  });

  test('--stats with K/M/G/T, and --exact', () => {
    const lines = formatList(table, info, { stats: true }).split('\n');
    assert.equal(lines[1], 'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes');
    assert.equal(lines[2], '  -> RemoteAddress:Port');
    assert.equal(lines[3], 'TCP  192.0.2.1:80                  123456K  246913K  370370K  493827K  617283K');
    assert.equal(lines[4], '  -> 198.51.100.1:8080            99999999  199999K  299999K  399999K  499999K');
    assert.equal(lines[5], '  -> 198.51.100.3:80                  150T     300T     450T     600T     750T');
    assert.equal(lines[6], 'UDP  [2001:db8::1234:5678:9abc]:53        0        0        0        0        0');
    const exact = formatList(table, info, { stats: true, exact: true }).split('\n');
    assert.equal(exact[3], 'TCP  192.0.2.1:80                 123456789 246913578 370370367 493827156 617283945');
    assert.equal(exact[5], '  -> 198.51.100.3:80              150000000000000 300000000000000 450000000000000 600000000000000 750000000000000');
  });

  test('--rate: the server line prints CPS and the packet rates without suffixes', () => {
    const lines = formatList(table, info, { rate: true }).split('\n');
    assert.equal(lines[1], 'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS');
    assert.equal(lines[3], 'TCP  192.0.2.1:80                  123456K  123456K  123456K  864197K  987654K');
    assert.equal(lines[5], '  -> 198.51.100.3:80              150000000000000 150000000000000 150000000000000    1050T    1200T');
  });

  test('--thresholds, --persistent-conn, --tun-info', () => {
    const th = formatList(table, info, { thresholds: true }).split('\n');
    assert.equal(th[1], 'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn ');
    assert.equal(th[3], 'TCP  192.0.2.1:80 sh (sh-port) persistent 60 mask 255.255.255.0 pe sip');
    assert.equal(th[4], '  -> 198.51.100.1:8080            10         2          3          4         ');
    const pc = formatList(table, info, { persistentConn: true }).split('\n');
    assert.equal(pc[1], 'Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn ');
    assert.equal(pc[4], '  -> 198.51.100.1:8080            5         1           3          4         ');
    const ti = formatList(table, info, { tunInfo: true }).split('\n');
    assert.equal(ti[2], '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn');
    assert.equal(ti[4], '  -> 198.51.100.1:8080            Masq    n/a           5      3          4         ');
    assert.equal(ti[5], '  -> 198.51.100.3:80              Tunnel  gue:6080:r+c  1      0          0         ');
    assert.equal(formatList(table, info, { stats: true, thresholds: true }), formatList(table, info, { stats: true }), 'stats wins');
  });

  test('one service (ipvsadm -Ln -t …) has no version line; an empty table only the titles', () => {
    assert.ok(formatList(table.slice(0, 1), null).startsWith('Prot LocalAddress:Port Scheduler Flags\n'));
    assert.equal(formatList([], info), 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n');
  });

  test('largeNumber steps', () => {
    const cases: Array<[bigint, string]> = [
      [0n, '        0'], [99999999n, ' 99999999'], [100000000n, '  100000K'], [999999999n, '  999999K'], [1000000000n, '    1000M'],
      [99999999999n, '   99999M'], [100000000000n, '     100G'], [99999999999999n, '   99999G'], [100000000000000n, '     100T'],
    ];
    for (const [n, s] of cases) assert.equal(largeNumber(n), s, String(n));
    assert.equal(largeNumber(123n, true), '      123');
    assert.equal(largeNumber(12345678n, true), ' 12345678');
    assert.equal(largeNumber(123456789n, true), ' 123456789');
  });
});

describe('format: daemons and timeouts', () => {
  test('ipvsadm -Ln --daemon', () => {
    assert.equal(formatDaemons([]), '');
    assert.equal(formatDaemons([
      { state: 'backup', interface: 'vb', syncid: 7, maxlen: 1400, group: '239.1.2.3', port: 8849, ttl: 3 },
      { state: 'master', interface: 'va', syncid: 5, maxlen: 1472, group: '224.0.0.81', port: 8848, ttl: 1 },
    ]), 'master sync daemon (mcast=va, syncid=5, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\nbackup sync daemon (mcast=vb, syncid=7, maxlen=1400, group=239.1.2.3, port=8849, ttl=3)\n');
    assert.equal(formatDaemons([{ state: 'backup', interface: 'eth0', syncid: 0 }]), 'backup sync daemon (mcast=eth0, syncid=0)\n');
  });

  test('ipvsadm -Ln --timeout', () => {
    assert.equal(formatTimeouts({ tcp: 900, tcpfin: 120, udp: 300 }), 'Timeout (tcp tcpfin udp): 900 120 300\n');
  });
});
