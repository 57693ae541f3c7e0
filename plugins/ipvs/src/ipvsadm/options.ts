/**
 * ipvsadm's options turned into model objects. Shared by the `ha ipvs` commands (oclif flags with
 * ipvsadm's long names and short letters, see ../flags.ts) and by the save-format parser
 * (rules.ts), so that both accept and refuse exactly the same things, with the same messages.
 *
 * The rules follow ipvsadm 1.31 (checked against its source and against the real tool on a 6.1
 * kernel); where ipvsadm lets a mistake through to the kernel (which then answers with a bare
 * errno) we refuse it here, with one line that names the option, the bad value and what is
 * accepted. Every refusal is a UsageError (exit 2): nothing has been changed yet.
 *
 * Defaults, as ipvsadm sets them:
 * - service: scheduler wlc; no persistence; `-p` without a value is 360 s (ipvsadm's
 *   IPVS_SVC_PERSISTENT_TIMEOUT, although its manual says 300); netmask 255.255.255.255 or 128;
 *   no persistence engine, no one-packet scheduling, no scheduler flags.
 * - real server: direct routing (-g), weight 1, thresholds 0 (none), tunnel type ipip without
 *   checksum; the port defaults to the service's port (0 for a firewall-mark service), and with
 *   -g or -i the service's port is used whatever port was written (the packet keeps its port).
 *
 * Editing (-E, -e) is not a merge in ipvsadm: it sends a complete service or real server built
 * from the command line and the defaults above, so an option left out goes back to its default
 * (`ipvsadm -E -t VIP:80` turns a persistent rr service into a non-persistent wlc one; `-e`
 * without -w sets the weight back to 1, and without -m sends the server to direct routing). That
 * is what these functions do by default. `merge: true` keeps the current value of each option
 * left out instead (boolean options can then only be switched on).
 */
import { UsageError, wholeNumber as parseWholeNumber } from '@ha/lib';
import { parseIpCached } from '@ha/lib/netlink';
import { LIMITS } from '../limits.js';
import {
  DEFAULT_PERSISTENCE_TIMEOUT, DEFAULT_SCHEDULER, Family, Forward, Protocol, SCHEDULERS, SCHED_FLAGS, SchedFlag, Server,
  Service, ServiceKey, TUNNEL_TYPES, Tunnel, TunnelChecksum, TunnelType, defaultNetmask, isFwmark, parseHostPort,
  schedFlagAllowed, schedFlagBit, schedFlagNames, serverId, serverLabel, serviceId, serviceLabel,
} from '../model.js';

/** ipvsadm's options, named after its long options in camelCase. */
export interface IpvsOptions {
  /** -t, --tcp-service ADDR:PORT */
  tcpService?: string;
  /** -u, --udp-service ADDR:PORT */
  udpService?: string;
  /** --sctp-service ADDR:PORT */
  sctpService?: string;
  /** -f, --fwmark-service MARK */
  fwmarkService?: string;
  /** -6, --ipv6: the firewall-mark service is IPv6 */
  ipv6?: boolean;
  /** -s, --scheduler */
  scheduler?: string;
  /** -p, --persistent [TIMEOUT]: true when given without a value */
  persistent?: string | true;
  /** -M, --netmask: IPv4 netmask, or IPv6 prefix length */
  netmask?: string;
  /** --pe ENGINE */
  pe?: string;
  /** -b, --sched-flags FLAG[,FLAG...] */
  schedFlags?: string;
  /** -o, --ops */
  ops?: boolean;
  /** -r, --real-server ADDR[:PORT] */
  realServer?: string;
  /** -g, --gatewaying (direct routing) */
  gatewaying?: boolean;
  /** -i, --ipip (tunnelling) */
  ipip?: boolean;
  /** -m, --masquerading (NAT) */
  masquerading?: boolean;
  /** -w, --weight */
  weight?: string;
  /** -x, --u-threshold */
  uThreshold?: string;
  /** -y, --l-threshold */
  lThreshold?: string;
  /** --tun-type ipip|gue|gre */
  tunType?: string;
  /** --tun-port PORT */
  tunPort?: string;
  /** --tun-nocsum */
  tunNocsum?: boolean;
  /** --tun-csum */
  tunCsum?: boolean;
  /** --tun-remcsum */
  tunRemcsum?: boolean;
}

export type OptionName = keyof IpvsOptions;

/** How each option is written on ipvsadm's command line, for messages. */
export const OPTION_LABELS: Record<OptionName, string> = {
  tcpService: '-t/--tcp-service',
  udpService: '-u/--udp-service',
  sctpService: '--sctp-service',
  fwmarkService: '-f/--fwmark-service',
  ipv6: '-6/--ipv6',
  scheduler: '-s/--scheduler',
  persistent: '-p/--persistent',
  netmask: '-M/--netmask',
  pe: '--pe',
  schedFlags: '-b/--sched-flags',
  ops: '-o/--ops',
  realServer: '-r/--real-server',
  gatewaying: '-g/--gatewaying',
  ipip: '-i/--ipip',
  masquerading: '-m/--masquerading',
  weight: '-w/--weight',
  uThreshold: '-x/--u-threshold',
  lThreshold: '-y/--l-threshold',
  tunType: '--tun-type',
  tunPort: '--tun-port',
  tunNocsum: '--tun-nocsum',
  tunCsum: '--tun-csum',
  tunRemcsum: '--tun-remcsum',
};

export const SERVICE_KEY_OPTIONS: readonly OptionName[] = ['tcpService', 'udpService', 'sctpService', 'fwmarkService'];
/** Options of -A/-E besides the service key. */
export const SERVICE_SETTING_OPTIONS: readonly OptionName[] = ['scheduler', 'persistent', 'netmask', 'pe', 'schedFlags', 'ops'];
export const FORWARD_OPTIONS: readonly OptionName[] = ['gatewaying', 'ipip', 'masquerading'];
export const TUNNEL_OPTIONS: readonly OptionName[] = ['tunType', 'tunPort', 'tunNocsum', 'tunCsum', 'tunRemcsum'];
/** Options of -a/-e besides the service key and -r. */
export const SERVER_SETTING_OPTIONS: readonly OptionName[] = [...FORWARD_OPTIONS, 'weight', 'uThreshold', 'lThreshold', ...TUNNEL_OPTIONS];

/** Persistence engines the kernel has (ip_vs_pe_sip). */
export const PERSISTENCE_ENGINES = ['sip'] as const;
export const MAX_WEIGHT = LIMITS.weight.max;

export interface EditOptions<T> {
  /** The object being edited (-E / -e); its key must be the one the options name. */
  forEdit?: T;
  /** Keep forEdit's value for every option left out, instead of ipvsadm's reset to defaults. */
  merge?: boolean;
}

/** The options as a loose record (what oclif's parsed flags are), or typed. */
export type OptionsInput = IpvsOptions | Readonly<Record<string, unknown>>;

const FORWARD_OF: Record<'gatewaying' | 'ipip' | 'masquerading', Forward> = { gatewaying: 'droute', ipip: 'tunnel', masquerading: 'masq' };

// ---- reading the loose input ----

function fail(message: string): never {
  throw new UsageError(message);
}

function raw(o: OptionsInput, name: OptionName): unknown {
  return (o as Record<string, unknown>)[name];
}

/** Was the option given? (false and undefined mean no.) */
export function given(o: OptionsInput, name: OptionName): boolean {
  const v = raw(o, name);
  return v !== undefined && v !== null && v !== false;
}

function text(o: OptionsInput, name: OptionName): string | undefined {
  const v = raw(o, name);
  if (v === undefined || v === null || v === false) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return fail(`${OPTION_LABELS[name]} needs a value`);
}

function flag(o: OptionsInput, name: OptionName): boolean {
  const v = raw(o, name);
  if (v === undefined || v === null || v === false) return false;
  if (v === true) return true;
  return fail(`${OPTION_LABELS[name]} takes no value (got "${String(v)}")`);
}

const wholeNumber = (value: string, name: OptionName, min: number, max: number, what?: string): number =>
  parseWholeNumber(value, OPTION_LABELS[name], { min, max }, what);

const givenNames = (o: OptionsInput, names: readonly OptionName[]): OptionName[] => names.filter((n) => given(o, n));
const labels = (names: readonly OptionName[]): string => names.map((n) => OPTION_LABELS[n]).join(', ');

/** Refuse options that have no meaning for this command. */
export function refuseOptions(o: OptionsInput, names: readonly OptionName[], where: string): void {
  const bad = givenNames(o, names);
  if (bad.length) fail(`${labels(bad)}: not an option of ${where}`);
}

// ---- the service key ----

/** The service named by exactly one of -t, -u, --sctp-service, -f (with -6 for an IPv6 mark). */
export function serviceKeyFromOptions(o: OptionsInput): ServiceKey {
  const keys = givenNames(o, SERVICE_KEY_OPTIONS);
  if (keys.length === 0) fail('no virtual service: give one of -t/--tcp-service, -u/--udp-service, --sctp-service ADDRESS:PORT or -f/--fwmark-service MARK');
  if (keys.length > 1) fail(`${labels(keys)}: give only one virtual service`);
  const which = keys[0]!;
  const value = text(o, which)!;
  const ipv6 = flag(o, 'ipv6');
  if (which === 'fwmarkService') {
    return { family: ipv6 ? 'ipv6' : 'ipv4', fwmark: parseFwmark(value) };
  }
  if (ipv6) fail(`-6/--ipv6 is only for firewall-mark services (-f); with ${OPTION_LABELS[which]} the address gives the family`);
  const protocol: Protocol = which === 'tcpService' ? 'tcp' : which === 'udpService' ? 'udp' : 'sctp';
  const hp = parseHostPort(value, OPTION_LABELS[which], 0);
  return { family: hp.family, protocol, address: hp.address, port: hp.port };
}

/**
 * A firewall mark, 1 to 4294967295. ipvsadm -S prints marks above 2147483647 as negative
 * numbers (printf %d), which ipvsadm -R then refuses; we read them back as the mark they stand for.
 */
export function parseFwmark(value: string): number {
  const s = value.trim();
  let n = Number.NaN;
  if (/^\d+$/.test(s)) n = Number(s);
  else if (/^-\d+$/.test(s) && Number(s) >= -2147483648) n = Number(s) + 4294967296;
  if (!(n >= 1 && n <= 4294967295)) fail(`-f/--fwmark-service: "${value}" is not a firewall mark from 1 to 4294967295`);
  return n;
}

function sameKey(a: ServiceKey, b: ServiceKey): boolean {
  return serviceId(a) === serviceId(b);
}

// ---- a service (-A, -E) ----

function parseScheduler(value: string): string {
  if (!(SCHEDULERS as readonly string[]).includes(value)) fail(`-s/--scheduler: unknown scheduler "${value}" (one of ${SCHEDULERS.join(', ')})`);
  return value;
}

/** -b: names to canonical names (in bit order, named as the scheduler names them). */
function parseSchedFlags(value: string, scheduler: string, schedulerGiven: boolean): SchedFlag[] {
  const names = value.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) fail(`-b/--sched-flags: "${value}" is not a comma-separated list of flags (${SCHED_FLAGS.join(', ')})`);
  let bits = 0;
  for (const n of names) {
    if (!(SCHED_FLAGS as readonly string[]).includes(n)) fail(`-b/--sched-flags: unknown flag "${n}" (one of ${SCHED_FLAGS.join(', ')})`);
    const f = n as SchedFlag;
    if (!schedFlagAllowed(f, scheduler)) {
      const needs = f.slice(0, 2);
      fail(`-b/--sched-flags: ${f} is only for the ${needs} scheduler (-s ${needs}), not ${scheduler}${schedulerGiven ? '' : ' (the default)'}`);
    }
    bits |= 1 << (schedFlagBit(f) - 1);
  }
  return schedFlagNames(bits, scheduler);
}

function parsePersistence(value: string | true): number {
  if (value === true) return DEFAULT_PERSISTENCE_TIMEOUT;
  return wholeNumber(value, 'persistent', LIMITS.persistence.min, LIMITS.persistence.max, 'a timeout in seconds');
}

function parseNetmask(value: string, family: Family): string | number {
  if (family === 'ipv6') {
    const s = value.trim();
    if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 128) fail(`-M/--netmask: "${value}" is not an IPv6 prefix length from 1 to 128`);
    return Number(s);
  }
  const p = parseIpCached(value.trim());
  const n = p?.family === 'ipv4' ? p.bytes.readUInt32BE(0) : undefined;
  const inv = n === undefined ? 1 : ~n >>> 0;
  if (n === undefined || n === 0 || (inv & (inv + 1)) !== 0) {
    fail(`-M/--netmask: "${value}" is not an IPv4 netmask like 255.255.255.0 (contiguous ones; IPv6 services take a prefix length)`);
  }
  return [...p!.bytes].join('.');
}

/**
 * The service -A or -E describes. Without `forEdit`/`merge` this is ipvsadm's behaviour for both
 * (-E replaces every setting). With `forEdit` the key must match and its real servers are kept.
 */
export function serviceFromOptions(o: OptionsInput, opts: EditOptions<Service> = {}): Service {
  const key = serviceKeyFromOptions(o);
  refuseOptions(o, ['realServer', ...SERVER_SETTING_OPTIONS], 'a virtual service (-A/-E); they belong to real servers (-a/-e)');
  const old = opts.forEdit;
  if (old && !sameKey(old, key)) fail(`the options name service ${serviceLabel(key)}, not ${serviceLabel(old)} being edited`);
  const keep = opts.merge === true && old !== undefined;

  const schedText = text(o, 'scheduler');
  const scheduler = schedText !== undefined ? parseScheduler(schedText) : keep ? old.scheduler : DEFAULT_SCHEDULER;

  const flagsText = text(o, 'schedFlags');
  let schedFlags: SchedFlag[];
  if (flagsText !== undefined) schedFlags = parseSchedFlags(flagsText, scheduler, schedText !== undefined);
  else if (keep) {
    schedFlags = [...old.schedFlags];
    const bad = schedFlags.find((f) => !schedFlagAllowed(f, scheduler));
    if (bad) fail(`-s/--scheduler: ${scheduler} does not take the service's flag ${bad}: give -b/--sched-flags too`);
  } else schedFlags = [];

  let persistence: Service['persistence'];
  const pRaw = raw(o, 'persistent');
  const pGiven = given(o, 'persistent');
  if (pGiven) {
    const timeout = parsePersistence(pRaw === true ? true : text(o, 'persistent')!);
    persistence = { timeout, netmask: keep && old.persistence ? old.persistence.netmask : defaultNetmask(key.family) };
  } else if (keep && old.persistence) {
    persistence = { ...old.persistence };
  }
  const maskText = text(o, 'netmask');
  if (maskText !== undefined) {
    const netmask = parseNetmask(maskText, key.family);
    if (!persistence) fail(`-M/--netmask ${maskText}: the netmask is the granularity of persistence; add -p/--persistent`);
    persistence.netmask = netmask;
  }

  let pe: string | undefined;
  const peText = text(o, 'pe');
  if (peText !== undefined) {
    if (!(PERSISTENCE_ENGINES as readonly string[]).includes(peText)) fail(`--pe: unknown persistence engine "${peText}" (one of ${PERSISTENCE_ENGINES.join(', ')})`);
    pe = peText;
  } else if (keep) pe = old.pe;
  if (pe && !persistence) fail(`--pe ${pe}: a persistence engine only works for a persistent service; add -p/--persistent`);

  const onePacket = flag(o, 'ops') || (keep && old.onePacket);
  if (onePacket && !isFwmark(key) && key.protocol !== 'udp') {
    fail(`-o/--ops: one-packet scheduling is only for UDP services and firewall marks, not ${key.protocol} service ${serviceLabel(key)}`);
  }
  if (!isFwmark(key) && key.port === 0 && !persistence) {
    fail(`${OPTION_LABELS[key.protocol === 'tcp' ? 'tcpService' : key.protocol === 'udp' ? 'udpService' : 'sctpService']}: port 0 (every port) needs persistence: add -p/--persistent`);
  }

  const svc = { ...key, scheduler, schedFlags, onePacket, servers: old ? old.servers.map((r) => ({ ...r })) : [] } as Service;
  if (persistence) svc.persistence = persistence;
  if (pe) svc.pe = pe;
  return svc;
}

// ---- a real server (-a, -e, -d) ----

function realServerText(o: OptionsInput): string {
  const t = text(o, 'realServer');
  if (t === undefined) fail('-r/--real-server is required: give the real server ADDRESS[:PORT] ([IPv6]:PORT)');
  return t;
}

/** The kernel refuses real servers that are not unicast addresses (with a bare EINVAL). */
function checkUnicast(family: Family, address: string, value: string): void {
  const b = parseIpCached(address)!.bytes;
  let why: string | undefined;
  if (family === 'ipv4') {
    if (b[0] === 0) why = 'is in 0.0.0.0/8';
    else if (b[0]! >= 224 && b[0]! <= 239) why = 'is a multicast address';
    else if (b.every((x) => x === 255)) why = 'is the broadcast address';
  } else if (b.every((x) => x === 0)) why = 'is the unspecified address';
  else if (b[0] === 0xff) why = 'is a multicast address';
  else if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) why = 'is link-local';
  if (why) fail(`-r/--real-server: "${value}" ${why}; a real server needs a unicast address`);
}

/** The real server -d names: its address and port (the given port, else the service's). */
export function serverKeyFromOptions(o: OptionsInput, service: ServiceKey): Pick<Server, 'family' | 'address' | 'port'> {
  const value = realServerText(o);
  const hp = parseHostPort(value, OPTION_LABELS.realServer, isFwmark(service) ? 0 : service.port);
  return { family: hp.family, address: hp.address, port: hp.port };
}

function forwardFromOptions(o: OptionsInput): Forward | undefined {
  const fwd = givenNames(o, FORWARD_OPTIONS) as Array<'gatewaying' | 'ipip' | 'masquerading'>;
  for (const n of fwd) flag(o, n);
  if (fwd.length > 1) fail(`${labels(fwd)}: choose one forwarding method (-g direct routing, -i tunnelling, -m NAT)`);
  return fwd.length ? FORWARD_OF[fwd[0]!] : undefined;
}

function tunnelFromOptions(o: OptionsInput, base: Tunnel | undefined): Tunnel {
  const typeText = text(o, 'tunType');
  if (typeText !== undefined && !(TUNNEL_TYPES as readonly string[]).includes(typeText)) {
    fail(`--tun-type: unknown tunnel type "${typeText}" (one of ${TUNNEL_TYPES.join(', ')})`);
  }
  const type = (typeText ?? base?.type ?? 'ipip') as TunnelType;
  const portText = text(o, 'tunPort');
  const csums = (['tunNocsum', 'tunCsum', 'tunRemcsum'] as const).filter((n) => flag(o, n));
  if (csums.length > 1) fail(`${labels(csums)}: choose one checksum option`);
  const keepBase = base !== undefined && base.type === type;

  if (type === 'ipip') {
    const bad = givenNames(o, ['tunPort', 'tunNocsum', 'tunCsum', 'tunRemcsum']);
    if (bad.length) fail(`${labels(bad)}: not an option of an ipip tunnel (only gue takes --tun-port; gue and gre take checksum options)`);
    return { type, checksum: 'nocsum' };
  }
  let port: number | undefined;
  if (type === 'gue') {
    if (portText !== undefined) port = wholeNumber(portText, 'tunPort', LIMITS.tunPort.min, LIMITS.tunPort.max, 'a UDP port');
    else if (keepBase) port = base.port;
    if (!port) fail('--tun-type gue: a gue tunnel needs --tun-port PORT (the UDP port of the real server\'s gue receiver)');
  } else if (portText !== undefined) {
    fail(`--tun-port ${portText}: only gue tunnels have a port, not ${type}`);
  }
  const csumOf: Record<string, TunnelChecksum> = { tunNocsum: 'nocsum', tunCsum: 'csum', tunRemcsum: 'remcsum' };
  const checksum: TunnelChecksum = csums.length ? csumOf[csums[0]!]! : keepBase ? base.checksum : 'nocsum';
  if (type === 'gre' && checksum === 'remcsum') fail('--tun-remcsum: remote checksum offload is only for gue tunnels, not gre (use --tun-csum or --tun-nocsum)');
  const t: Tunnel = { type, checksum };
  if (port !== undefined) t.port = port;
  return t;
}

/**
 * The real server -a or -e describes, for `service` (whose port and family supply defaults).
 * Without `merge` this is ipvsadm's behaviour for both (-e replaces every setting).
 */
export function serverFromOptions(o: OptionsInput, service: ServiceKey, opts: EditOptions<Server> = {}): Server {
  refuseOptions(o, SERVICE_SETTING_OPTIONS, 'a real server (-a/-e); they belong to the virtual service (-A/-E)');
  const value = realServerText(o);
  const old = opts.forEdit;
  const keep = opts.merge === true && old !== undefined;
  const forward = forwardFromOptions(o) ?? (keep ? old.forward : 'droute');

  const hp = parseHostPort(value, OPTION_LABELS.realServer, isFwmark(service) ? 0 : service.port);
  // direct routing and tunnelling do not change the packet's port: ipvsadm uses the service's
  if (!isFwmark(service) && (forward === 'droute' || forward === 'tunnel')) hp.port = service.port;
  checkUnicast(hp.family, hp.address, value);
  if (hp.family !== service.family && forward !== 'tunnel') {
    const fam = (f: Family): string => (f === 'ipv6' ? 'IPv6' : 'IPv4');
    fail(`-r/--real-server: ${fam(hp.family)} real server ${value} in ${fam(service.family)} service ${serviceLabel(service)} needs tunnelling (-i); only tunnels may change the address family`);
  }
  if (old && serverId(old) !== serverId(hp)) fail(`the options name real server ${serverLabel(hp)}, not ${serverLabel(old)} being edited`);

  const weightText = text(o, 'weight');
  const weight = weightText !== undefined ? wholeNumber(weightText, 'weight', LIMITS.weight.min, LIMITS.weight.max) : keep ? old.weight : 1;
  const uText = text(o, 'uThreshold');
  const lText = text(o, 'lThreshold');
  const upperThreshold = uText !== undefined ? wholeNumber(uText, 'uThreshold', LIMITS.threshold.min, LIMITS.threshold.max) : keep ? old.upperThreshold : 0;
  const lowerThreshold = lText !== undefined ? wholeNumber(lText, 'lThreshold', LIMITS.threshold.min, LIMITS.threshold.max) : keep ? old.lowerThreshold : 0;
  if (lowerThreshold > upperThreshold) {
    fail(upperThreshold === 0
      ? `-y/--l-threshold ${lowerThreshold}: a lower threshold needs an upper threshold (-x) at least as high; the kernel refuses it alone`
      : `-y/--l-threshold ${lowerThreshold} is above -x/--u-threshold ${upperThreshold}; the lower threshold must not exceed the upper one`);
  }

  const tunGiven = givenNames(o, TUNNEL_OPTIONS);
  if (tunGiven.length && forward !== 'tunnel') {
    fail(`${labels(tunGiven)}: tunnel options need tunnelling (-i/--ipip), not ${forward === 'masq' ? 'NAT (-m)' : forward === 'droute' ? 'direct routing (-g, the default)' : forward}`);
  }
  const r: Server = { family: hp.family, address: hp.address, port: hp.port, forward, weight, upperThreshold, lowerThreshold };
  if (forward === 'tunnel') r.tunnel = tunnelFromOptions(o, keep ? old.tunnel : undefined);
  return r;
}
