/**
 * The ipvs section of the state file: its JSON Schema, normalization of hand-written sections
 * (defaults filled in), and conversion of kernel state into the saved form.
 */
import type { JsonSchema } from '@ha/lib/state';
import { canonicalIp, parseIpCached } from '@ha/lib/netlink';
import {
  DEFAULT_SCHEDULER, FORWARDS, Family, IpvsSection, PROTOCOLS, SCHEDULERS, SCHED_FLAGS, Server, Service, SyncDaemon,
  TUNNEL_TYPES, checkService, defaultNetmask, isFwmark,
} from './model.js';
import { compareServers, compareServiceKeys } from './ipvsadm/format.js';
import { PERSISTENCE_ENGINES } from './ipvsadm/options.js';
import { intSchema } from './limits.js';

const port = intSchema('port');
const threshold = intSchema('threshold');
const timeout = intSchema('timeout');

const serverSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['address'],
  properties: {
    family: { enum: ['ipv4', 'ipv6'], description: 'Defaults to the family of the address.' },
    address: { type: 'string', format: 'ip' },
    port: intSchema('port', 'Defaults to the service port.'),
    forward: { enum: [...FORWARDS], description: 'masq (NAT, -m), droute (direct routing, -g, the default), tunnel (-i), local.' },
    weight: intSchema('weight', 'Defaults to 1.'),
    upperThreshold: { ...threshold, description: 'Upper connection threshold; 0 = none.' },
    lowerThreshold: { ...threshold, description: 'Lower connection threshold; 0 = none; at most the upper one.' },
    tunnel: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { enum: [...TUNNEL_TYPES] },
        port: intSchema('tunPort'),
        checksum: { enum: ['nocsum', 'csum', 'remcsum'] },
      },
    },
  },
};

const serviceSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    family: { enum: ['ipv4', 'ipv6'], description: 'Defaults to the family of the address (ipv4 for fwmark services).' },
    protocol: { enum: [...PROTOCOLS] },
    address: { type: 'string', format: 'ip' },
    port,
    fwmark: intSchema('fwmark'),
    scheduler: { enum: [...SCHEDULERS], description: `Defaults to ${DEFAULT_SCHEDULER}.` },
    persistence: {
      type: 'object',
      additionalProperties: false,
      required: ['timeout'],
      properties: {
        timeout: intSchema('persistence', 'Seconds.'),
        netmask: { anyOf: [{ type: 'string' }, intSchema('prefix6')], description: 'IPv4: dotted mask; IPv6: prefix length.' },
      },
    },
    pe: { enum: [...PERSISTENCE_ENGINES] },
    schedFlags: { type: 'array', uniqueItems: true, items: { enum: [...SCHED_FLAGS] } },
    onePacket: { type: 'boolean' },
    servers: { type: 'array', items: serverSchema },
  },
};

const daemonSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['state', 'interface'],
  properties: {
    state: { enum: ['master', 'backup'] },
    interface: { type: 'string', format: 'ifname' },
    syncid: intSchema('syncid'),
    maxlen: intSchema('syncMaxlen'),
    group: { type: 'string', format: 'ip' },
    port: intSchema('mcastPort'),
    ttl: intSchema('mcastTtl'),
  },
};

export const ipvsSectionSchema: JsonSchema = {
  type: 'object',
  description: 'IPVS virtual services, real servers, timeouts and the connection sync daemons (ha ipvs).',
  additionalProperties: false,
  required: ['services'],
  properties: {
    services: { type: 'array', items: serviceSchema },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      required: ['tcp', 'tcpfin', 'udp'],
      properties: { tcp: timeout, tcpfin: timeout, udp: timeout },
    },
    daemons: { type: 'array', maxItems: 2, items: daemonSchema },
  },
};

function familyOf(address: string | undefined, given: Family | undefined): Family {
  if (given) return given;
  return address && parseIpCached(address)?.family === 'ipv6' ? 'ipv6' : 'ipv4';
}

const canon = (a: string): string => canonicalIp(a)!.text;

/** Fill in defaults of a schema-valid section written by hand. */
export function normalizeSection(raw: IpvsSection): IpvsSection {
  const services = raw.services.map((s) => normalizeService(s as Partial<Service> & Record<string, unknown>));
  const out: IpvsSection = { services };
  if (raw.timeouts) out.timeouts = { ...raw.timeouts };
  if (raw.daemons) out.daemons = raw.daemons.map((d) => ({ ...d, syncid: d.syncid ?? 0 }));
  return out;
}

export function normalizeService(s: Partial<Service> & Record<string, unknown>): Service {
  const family = familyOf(s.address as string | undefined, s.family);
  const base = s.fwmark !== undefined
    ? { family, fwmark: s.fwmark }
    : { family, protocol: s.protocol ?? 'tcp', address: canon(String(s.address)), port: s.port ?? 0 };
  const svc = {
    ...base,
    scheduler: s.scheduler ?? DEFAULT_SCHEDULER,
    schedFlags: [...(s.schedFlags ?? [])],
    onePacket: s.onePacket ?? false,
    servers: (s.servers ?? []).map((r) => normalizeServer(r as Partial<Server>, base.port ?? 0)),
  } as Service;
  if (s.persistence) svc.persistence = { timeout: s.persistence.timeout, netmask: s.persistence.netmask ?? defaultNetmask(family) };
  if (s.pe) svc.pe = s.pe;
  return svc;
}

function normalizeServer(r: Partial<Server>, servicePort: number): Server {
  const family = familyOf(r.address, r.family);
  const out: Server = {
    family,
    address: canon(String(r.address)),
    port: r.port ?? servicePort,
    forward: r.forward ?? 'droute',
    weight: r.weight ?? 1,
    upperThreshold: r.upperThreshold ?? 0,
    lowerThreshold: r.lowerThreshold ?? 0,
  };
  if (r.tunnel) out.tunnel = { type: r.tunnel.type, checksum: r.tunnel.checksum ?? 'nocsum', ...(r.tunnel.port ? { port: r.tunnel.port } : {}) };
  else if (out.forward === 'tunnel') out.tunnel = { type: 'ipip', checksum: 'nocsum' };
  return out;
}

/** Cross-field checks the schema cannot express, as [path, message] relative to the section. */
export function checkSection(raw: IpvsSection): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const seen = new Map<string, number>();
  raw.services.forEach((s0, i) => {
    const s = s0 as Partial<Service> & Record<string, unknown>;
    const at = `.services[${i}]`;
    if ((s.fwmark === undefined) === (s.address === undefined)) {
      problems.push([at, 'give either address (with protocol and port) or fwmark']);
      return;
    }
    if (s.fwmark !== undefined && (s.protocol !== undefined || s.port !== undefined)) {
      problems.push([at, 'a fwmark service has no protocol or port']);
      return;
    }
    if (s.address !== undefined && s.family && familyOf(s.address as string, undefined) !== s.family) {
      problems.push([`${at}.family`, `${s.family} does not match address ${String(s.address)}`]);
      return;
    }
    const n = normalizeService(s);
    for (const [p, m] of checkService(n)) problems.push([`${at}${p}`, m]);
    const id = isFwmark(n) ? `fwmark ${n.fwmark}/${n.family}` : `${n.protocol} ${n.address}:${n.port}`;
    if (seen.has(id)) problems.push([at, `duplicate of services[${seen.get(id)}] (${id})`]);
    else seen.set(id, i);
  });
  return problems;
}

/** The saved form of kernel state: no live counters, stable order. */
export function toSection(services: Service[], timeouts?: IpvsSection['timeouts'], daemons?: SyncDaemon[]): IpvsSection {
  const clean = services.map((s) => {
    const { stats: _stats, servers, ...rest } = s;
    return {
      ...rest,
      servers: servers.map(({ stats: _s, activeConns: _a, inactiveConns: _i, persistentConns: _p, ...r }) => r).sort(compareServers),
    } as Service;
  }).sort(compareServiceKeys);
  const out: IpvsSection = { services: clean };
  if (timeouts) out.timeouts = timeouts;
  if (daemons && daemons.length) out.daemons = daemons;
  return out;
}
