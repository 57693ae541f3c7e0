/**
 * Every number the ipvs plugin takes has one range (src/limits.ts), and the state file's schema,
 * the command line and the rules parser all keep to it: for each field, the schema's bounds are
 * the table's, and the values at each bound are taken by both while the values just past it are
 * refused by both. (What the kernel takes is measured in the UML tests.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '@ha/lib';
import { validate } from '@ha/lib/state';
import { ha } from '@ha/lib/testing';
import { LIMITS, LimitName } from '../src/limits.js';
import { serverFromOptions, serviceFromOptions } from '../src/ipvsadm/options.js';
import { applyRulesText } from '../src/ipvsadm/rules.js';
import { ipvsSectionSchema, checkSection } from '../src/section.js';
import type { IpvsSection } from '../src/model.js';

type Place = (v: number) => IpvsSection;
const svc = (over: Record<string, unknown>): Record<string, unknown> => ({ protocol: 'tcp', address: '192.0.2.1', port: 80, ...over });
const srv = (over: Record<string, unknown>): Record<string, unknown> => ({ address: '198.51.100.1', ...over });

/** Where each field sits in a state-file section. */
const inSchema: Record<LimitName, Place> = {
  port: (v) => ({ services: [svc({ port: v, persistence: { timeout: 60 } })] }) as unknown as IpvsSection,
  fwmark: (v) => ({ services: [{ fwmark: v }] }) as unknown as IpvsSection,
  weight: (v) => ({ services: [svc({ servers: [srv({ weight: v })] })] }) as unknown as IpvsSection,
  threshold: (v) => ({ services: [svc({ servers: [srv({ upperThreshold: v })] })] }) as unknown as IpvsSection,
  persistence: (v) => ({ services: [svc({ persistence: { timeout: v } })] }) as unknown as IpvsSection,
  timeout: (v) => ({ services: [], timeouts: { tcp: v, tcpfin: 120, udp: 300 } }) as unknown as IpvsSection,
  syncid: (v) => ({ services: [], daemons: [{ state: 'master', interface: 'eth0', syncid: v }] }) as unknown as IpvsSection,
  syncMaxlen: (v) => ({ services: [], daemons: [{ state: 'master', interface: 'eth0', maxlen: v }] }) as unknown as IpvsSection,
  mcastPort: (v) => ({ services: [], daemons: [{ state: 'master', interface: 'eth0', port: v }] }) as unknown as IpvsSection,
  mcastTtl: (v) => ({ services: [], daemons: [{ state: 'master', interface: 'eth0', ttl: v }] }) as unknown as IpvsSection,
  tunPort: (v) => ({ services: [svc({ servers: [srv({ forward: 'tunnel', tunnel: { type: 'gue', port: v } })] })] }) as unknown as IpvsSection,
  prefix6: (v) => ({ services: [{ protocol: 'tcp', address: '2001:db8::1', port: 80, persistence: { timeout: 60, netmask: v } }] }) as unknown as IpvsSection,
};

const schemaTakes = (section: IpvsSection): boolean => validate(ipvsSectionSchema, section).length === 0 && checkSection(section).length === 0;

/** The command line (or the rules parser, which shares its code) for each field: true when taken. */
const K = { tcpService: '192.0.2.1:80' };
const parsed = (fn: () => unknown): boolean => {
  try {
    fn();
    return true;
  } catch (error) {
    if (error instanceof UsageError) return false;
    throw error;
  }
};
/** For the fields only a command parses: exit 2 is a refusal; anything else means it was taken (the kernel is absent here). */
const cli = (args: string[]): boolean => ha(args, { env: { HA_LOCK_TIMEOUT: '0' } }).code !== 2;
const daemon = (flag: string) => (v: number): boolean => cli(['ipvs', 'sync', 'start', 'master', '--mcast-interface', 'eth0', flag, String(v)]);

const onCommandLine: Record<LimitName, (v: number) => boolean> = {
  port: (v) => parsed(() => serviceFromOptions({ tcpService: `192.0.2.1:${v}`, persistent: '60' })),
  fwmark: (v) => parsed(() => applyRulesText([], `-A -f ${v}\n`, 'rules')),
  weight: (v) => parsed(() => serverFromOptions({ ...K, realServer: '198.51.100.1', weight: String(v) }, { family: 'ipv4', protocol: 'tcp', address: '192.0.2.1', port: 80 })),
  threshold: (v) => parsed(() => serverFromOptions({ ...K, realServer: '198.51.100.1', uThreshold: String(v) }, { family: 'ipv4', protocol: 'tcp', address: '192.0.2.1', port: 80 })),
  persistence: (v) => parsed(() => serviceFromOptions({ ...K, persistent: String(v) })),
  timeout: (v) => cli(['ipvs', 'timeout', String(v), '0', '0']),
  syncid: daemon('--syncid'),
  syncMaxlen: daemon('--sync-maxlen'),
  mcastPort: daemon('--mcast-port'),
  mcastTtl: daemon('--mcast-ttl'),
  tunPort: (v) => parsed(() => serverFromOptions({ ...K, realServer: '198.51.100.1', ipip: true, tunType: 'gue', tunPort: String(v) }, { family: 'ipv4', protocol: 'tcp', address: '192.0.2.1', port: 80 })),
  prefix6: (v) => parsed(() => serviceFromOptions({ tcpService: '[2001:db8::1]:80', persistent: '60', netmask: String(v) })),
};

for (const name of Object.keys(LIMITS) as LimitName[]) {
  test(`one range for ${name}: ${LIMITS[name].min} to ${LIMITS[name].max}, in the schema and on the command line`, () => {
    const { min, max } = LIMITS[name];
    // the command line's 0 for a timeout means "keep this one"; the file has no such value
    const cliMin = name === 'timeout' ? 0 : min;
    for (const v of [min, max]) {
      assert.ok(schemaTakes(inSchema[name](v)), `schema takes ${name} ${v}`);
    }
    for (const v of [cliMin, max]) assert.ok(onCommandLine[name](v), `command line takes ${name} ${v}`);
    assert.ok(!schemaTakes(inSchema[name](min - 1)), `schema refuses ${name} ${min - 1}`);
    assert.ok(!schemaTakes(inSchema[name](max + 1)), `schema refuses ${name} ${max + 1}`);
    if (cliMin > 0) assert.ok(!onCommandLine[name](cliMin - 1), `command line refuses ${name} ${cliMin - 1}`);
    assert.ok(!onCommandLine[name](max + 1), `command line refuses ${name} ${max + 1}`);
  });
}

test('the schema states exactly the table\'s bounds', () => {
  const json = JSON.stringify(ipvsSectionSchema);
  for (const [name, { min, max }] of Object.entries(LIMITS)) {
    assert.ok(json.includes(`"minimum":${min},"maximum":${max}`), `${name}: ${min}-${max} in the schema`);
  }
});

test('a persistence engine the kernel does not have is refused by the schema, as by --pe', () => {
  assert.ok(!schemaTakes({ services: [svc({ persistence: { timeout: 60 }, pe: 'nosuchpe' })] } as unknown as IpvsSection));
  assert.ok(schemaTakes({ services: [svc({ persistence: { timeout: 60 }, pe: 'sip' })] } as unknown as IpvsSection));
  assert.ok(!parsed(() => serviceFromOptions({ ...K, persistent: '60', pe: 'nosuchpe' })));
});

test('a negative firewall mark: refused on the command line, read from rules files as ipvsadm -S writes large marks', () => {
  const r = ha(['ipvs', 'add-service', '-f', '-1']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /-f\/--fwmark-service: "-1" is not a firewall mark from 1 to 4294967295/);
  assert.equal((applyRulesText([], '-A -f -1\n', 'rules')[0] as { fwmark: number }).fwmark, 4294967295);
});
