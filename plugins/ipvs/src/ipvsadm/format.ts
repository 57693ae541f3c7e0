/**
 * ipvsadm's text output, byte for byte: `ipvsadm -Sn` (formatSave), `ipvsadm -Ln` with its
 * listing options (formatList), `ipvsadm -Ln --daemon` (formatDaemons) and
 * `ipvsadm -Ln --timeout` (formatTimeouts). Numeric output only (-n): no reverse DNS, no
 * service names.
 *
 * Order. ipvsadm 1.31 sorts services with libipvs' ipvs_cmp_services(): by firewall mark (0 for
 * address services, so those come first), then address family (IPv4 before IPv6), then protocol
 * number (TCP 6, UDP 17, SCTP 132), then address, then port; and real servers with
 * ipvs_cmp_dests(): by address, then port. It compares marks and addresses by subtracting two
 * unsigned 32-bit numbers and reading the difference as a signed int, so whenever two marks, two
 * IPv4 addresses or two 32-bit words of IPv6 addresses differ by 2^31 or more the order flips
 * (0.0.0.0 sorts after 192.0.2.1, 2001:db8:ffff::1 before 2001:db8::1, mark 3000000000 before
 * mark 1), and the comparison is not even consistent, so qsort's result then depends on the
 * kernel's order. It also compares a real server of the other family (tunnels) against the first
 * 32 bits of the IPv6 address. We sort the same keys numerically and correctly: marks and
 * addresses as unsigned numbers, real servers by family (IPv4 first), address, port. Without
 * such large differences the two orders are the same.
 *
 * Where ipvsadm 1.31's output is wrong we deliberately differ (the tests pin each case):
 * - firewall marks above 2147483647: ipvsadm prints them with %d (negative, e.g. "-f -1" for
 *   4294967295, which its own -R refuses); we print the mark.
 * - flag-3 on an sh or mh service: ipvsadm names only sh-/mh- flags for those schedulers and
 *   prints "sh ()" and "-b " (which -R cannot read); we print flag-3.
 * - real-server counters: ipvsadm reads the 64-bit counters of real servers with a 32-bit getter
 *   (libipvs ipvs_dests_parse_cb calls ipvs_parse_stats on IPVS_DEST_ATTR_STATS64), so every
 *   counter but the byte counts wraps at 2^32; we print the real value.
 */
import { compareIp, ipv4Number } from '@ha/lib/netlink';
import {
  Forward, Server, Service, ServiceKey, Stats, SyncDaemon, Timeouts, hostPort, isFwmark, schedFlagBit, schedFlagNames,
} from '../model.js';

export interface ListInfo {
  /** "1.2.1" */
  version: string;
  connTabSize: number;
}

/** ipvsadm -L's output options. The first of stats, rate, thresholds, persistentConn, tunInfo wins. */
export interface ListOptions {
  stats?: boolean;
  rate?: boolean;
  thresholds?: boolean;
  persistentConn?: boolean;
  tunInfo?: boolean;
  /** --exact: full numbers instead of K/M/G/T (stats and rate). */
  exact?: boolean;
  /** The services and their servers are already in sortServices() order. */
  sorted?: boolean;
}

const PROTO_NUM = { tcp: 6, udp: 17, sctp: 132 } as const;
const PROTO_LIST = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' } as const;
const PROTO_RULE = { tcp: '-t', udp: '-u', sctp: '--sctp-service' } as const;
const FWD_NAME: Record<Forward, string> = { masq: 'Masq', droute: 'Route', tunnel: 'Tunnel', local: 'Local' };
const FWD_SWITCH: Record<Forward, string> = { masq: '-m', droute: '-g', tunnel: '-i', local: '-g' };
const CSUM_SHORT = { nocsum: '-c', csum: '+c', remcsum: 'r+c' } as const;

// ---- order ----

/** ipvsadm's service order (mark, family, protocol, address, port), compared correctly. */
export function compareServiceKeys(a: ServiceKey, b: ServiceKey): number {
  const ma = a.fwmark ?? 0;
  const mb = b.fwmark ?? 0;
  if (ma !== mb) return ma - mb;
  if (a.family !== b.family) return a.family === 'ipv4' ? -1 : 1;
  if (isFwmark(a) || isFwmark(b)) return 0;
  return PROTO_NUM[a.protocol] - PROTO_NUM[b.protocol] || compareIp(a.address, b.address) || a.port - b.port;
}

/** ipvsadm's real-server order (address, port), compared correctly; IPv4 before IPv6. */
export function compareServers(a: Pick<Server, 'address' | 'port'>, b: Pick<Server, 'address' | 'port'>): number {
  return compareIp(a.address, b.address) || a.port - b.port;
}

/**
 * The services in ipvsadm's order, each with its real servers in order (copies; input untouched).
 * IPv4 services are sorted by a number made once per service rather than by comparing texts, and
 * real servers that are already in order are not sorted again: a listing sorts 10,000 services.
 */
export function sortServices(services: readonly Service[]): Service[] {
  return inServiceOrder(services).map((s) => ({ ...s, servers: serversInOrder([...s.servers]) }));
}

/**
 * sortServices() without the copies, for a listing the caller owns (fresh from the kernel): the
 * array and each service's real servers are sorted in place, and the same array is returned.
 */
export function sortServicesInPlace(services: Service[]): Service[] {
  const sorted = inServiceOrder(services);
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i]!;
    serversInOrder(s.servers);
    services[i] = s;
  }
  return services;
}

/** The same service objects in ipvsadm's order (a new array). */
function inServiceOrder(services: readonly Service[]): Service[] {
  const v4: Array<{ n: number; s: Service }> = [];
  const rest: Service[] = [];
  for (const s of services) {
    const n = !isFwmark(s) && s.family === 'ipv4' ? ipv4Number(s.address) : -1;
    // protocol, address, port in one exact number (2 + 32 + 16 bits)
    if (n >= 0 && !isFwmark(s)) v4.push({ n: (PROTO_RANK[s.protocol] * 2 ** 32 + n) * 65536 + s.port, s });
    else rest.push(s);
  }
  v4.sort((a, b) => a.n - b.n);
  rest.sort(compareServiceKeys);
  // every address service sorts before every fwmark one; IPv4 before IPv6
  const out: Service[] = [];
  let i = 0;
  for (const s of rest) {
    while (i < v4.length && compareServiceKeys(v4[i]!.s, s) <= 0) out.push(v4[i++]!.s);
    out.push(s);
  }
  while (i < v4.length) out.push(v4[i++]!.s);
  return out;
}

const PROTO_RANK = { tcp: 0, udp: 1, sctp: 2 } as const;

/** serversInOrder()'s keys, kept from one service to the next. */
let serverKeys = new Float64Array(64);

/**
 * Sort real servers in place into compareServers() order, and return them. IPv4 ones (all of a
 * service's, in practice) are sorted by one number each (address, port) made once, rather than
 * by comparing texts, which parses both addresses at every comparison; servers in order already
 * are left as they are.
 */
function serversInOrder(servers: Server[]): Server[] {
  const n = servers.length;
  if (n < 2) return servers;
  // (address, port) as one exact number per server, in a buffer kept from one service to the next
  if (serverKeys.length < n) serverKeys = new Float64Array(n * 2);
  const keys = serverKeys;
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const a = ipv4Number(servers[i]!.address);
    if (a < 0) return inOrder(servers) ? servers : servers.sort(compareServers);
    keys[i] = a * 65536 + servers[i]!.port;
    if (i > 0 && keys[i]! < keys[i - 1]!) sorted = false;
  }
  if (sorted) return servers;
  if (n > 16) {
    const keyed = servers.map((r, i) => ({ k: keys[i]!, r }));
    keyed.sort((x, y) => x.k - y.k);
    for (let i = 0; i < n; i++) servers[i] = keyed[i]!.r;
    return servers;
  }
  // a service's few servers: an insertion sort in place, keys alongside, nothing allocated
  for (let i = 1; i < n; i++) {
    const k = keys[i]!;
    const r = servers[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > k; j--) {
      keys[j + 1] = keys[j]!;
      servers[j + 1] = servers[j]!;
    }
    keys[j + 1] = k;
    servers[j + 1] = r;
  }
  return servers;
}

function inOrder(servers: readonly Server[]): boolean {
  for (let i = 1; i < servers.length; i++) if (compareServers(servers[i - 1]!, servers[i]!) > 0) return false;
  return true;
}

// ---- pieces ----

function schedFlagsText(s: Service): string {
  let bits = 0;
  for (const f of s.schedFlags) bits |= 1 << (schedFlagBit(f) - 1);
  return schedFlagNames(bits, s.scheduler).join(',');
}

/** The persistence mask as ipvsadm prints it, or undefined when it is the default (one address). */
function maskText(s: Service): string | undefined {
  const nm = s.persistence?.netmask;
  if (nm === undefined) return undefined;
  if (s.family === 'ipv6') return Number(nm) === 128 ? undefined : String(Number(nm));
  return String(nm) === '255.255.255.255' ? undefined : String(nm);
}

function ruleServiceName(s: ServiceKey): string {
  if (isFwmark(s)) return `-f ${s.fwmark}${s.family === 'ipv6' ? ' -6' : ''}`;
  return `${PROTO_RULE[s.protocol]} ${hostPort(s.family, s.address, s.port)}`;
}

function listServiceName(s: ServiceKey): string {
  const name = isFwmark(s)
    ? `FWM  ${s.fwmark}${s.family === 'ipv6' ? ' IPv6' : ''}`
    : `${PROTO_LIST[s.protocol].padEnd(4)} ${hostPort(s.family, s.address, s.port)}`;
  return s.family === 'ipv6' ? name : name.slice(0, 33);
}

function listServerName(r: Server): string {
  const name = hostPort(r.family, r.address, r.port);
  return r.family === 'ipv6' ? name : name.slice(0, 28);
}

function tunnelOf(r: Server): NonNullable<Server['tunnel']> {
  return r.tunnel ?? { type: 'ipip', checksum: 'nocsum' };
}

function tunnelInfo(r: Server): string {
  if (r.forward !== 'tunnel') return 'n/a';
  const t = tunnelOf(r);
  if (t.type === 'gue') return `gue:${t.port ?? 0}:${CSUM_SHORT[t.checksum]}`;
  if (t.type === 'gre') return `gre:${CSUM_SHORT[t.checksum]}`;
  return 'ipip';
}

function tunnelRule(r: Server): string {
  if (r.forward !== 'tunnel') return '';
  const t = tunnelOf(r);
  if (t.type === 'gue') return ` --tun-type gue --tun-port ${t.port ?? 0} --tun-${t.checksum}`;
  if (t.type === 'gre') return ` --tun-type gre --tun-${t.checksum}`;
  return ' --tun-type ipip';
}

/** printf("%9llu") and its K/M/G/T steps, or --exact's width. */
export function largeNumber(n: bigint | number, exact = false): string {
  const v = BigInt(n);
  const s = v.toString();
  if (exact) return s.padStart(s.length <= 8 ? 9 : s.length + 1);
  if (v < 100_000_000n) return s.padStart(9);
  if (v < 1_000_000_000n) return `${(v / 1_000n).toString().padStart(8)}K`;
  if (v < 100_000_000_000n) return `${(v / 1_000_000n).toString().padStart(8)}M`;
  if (v < 100_000_000_000_000n) return `${(v / 1_000_000_000n).toString().padStart(8)}G`;
  return `${(v / 1_000_000_000_000n).toString().padStart(8)}T`;
}

const ZERO: Stats = { conns: 0n, inpkts: 0n, outpkts: 0n, inbytes: 0n, outbytes: 0n, cps: 0n, inpps: 0n, outpps: 0n, inbps: 0n, outbps: 0n };
const STATS_KEYS = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'] as const;
const RATE_KEYS = ['cps', 'inpps', 'outpps', 'inbps', 'outbps'] as const;
const left = (v: string | number, width: number): string => String(v).padEnd(width);
const unsigned = (v: number | undefined): number => (v ?? 0) >>> 0;

// ---- ipvsadm -Sn ----

/**
 * What `ipvsadm -Sn` prints for these services (as kernel.listServices() reads them): returned,
 * or handed to `out` a service at a time.
 */
export function formatSave(services: readonly Service[], out?: (text: string) => void, sorted = false): string {
  let all = '';
  for (const s of sorted ? services : sortServices(services)) {
    const name = ruleServiceName(s);
    let text = `-A ${name} -s ${s.scheduler}`;
    if (s.persistence) {
      text += ` -p ${s.persistence.timeout >>> 0}`;
      const mask = maskText(s);
      if (mask !== undefined) text += ` -M ${mask}`;
    }
    if (s.pe) text += ` --pe ${s.pe}`;
    if (s.onePacket) text += ' -o';
    if (s.schedFlags.length) text += ` -b ${schedFlagsText(s)}`;
    text += '\n';
    for (const r of s.servers) {
      text += `-a ${name} -r ${hostPort(r.family, r.address, r.port)} ${FWD_SWITCH[r.forward]} -w ${r.weight}${tunnelRule(r)}\n`;
    }
    if (out) out(text);
    else all += text;
  }
  return all;
}

// ---- ipvsadm -Ln ----

function title(o: ListOptions): string {
  const head = 'Prot LocalAddress:Port'.padEnd(33);
  const below = '  -> RemoteAddress:Port\n';
  if (o.stats) return `${head} ${['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((h) => h.padStart(8)).join(' ')}\n${below}`;
  if (o.rate) return `${head} ${['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((h) => h.padStart(8)).join(' ')}\n${below}`;
  if (o.thresholds) return `${head} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((h) => left(h, 10)).join(' ')}\n${below}`;
  if (o.persistentConn) return `${head} ${left('Weight', 9)} ${left('PersistConn', 11)} ${left('ActiveConn', 10)} ${left('InActConn', 10)}\n${below}`;
  if (o.tunInfo) return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n';
  return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
}

function serviceLine(s: Service, o: ListOptions): string {
  const name = listServiceName(s);
  const st = s.stats ?? ZERO;
  if (o.stats) return `${name.padEnd(33)}${STATS_KEYS.map((k) => largeNumber(st[k], o.exact)).join('')}\n`;
  if (o.rate) return `${name.padEnd(33)}${RATE_KEYS.map((k) => largeNumber(st[k], o.exact)).join('')}\n`;
  let line = `${name} ${s.scheduler}`;
  if (s.schedFlags.length) line += ` (${schedFlagsText(s)})`;
  if (s.persistence) {
    line += ` persistent ${s.persistence.timeout >>> 0}`;
    const mask = maskText(s);
    if (mask !== undefined) line += ` mask ${mask}`;
    if (s.pe) line += ` pe ${s.pe}`;
  }
  if (s.onePacket) line += ' ops';
  return `${line}\n`;
}

function serverLine(r: Server, o: ListOptions): string {
  const name = `  -> ${left(listServerName(r), 28)}`;
  const st = r.stats ?? ZERO;
  const active = unsigned(r.activeConns);
  const inactive = unsigned(r.inactiveConns);
  if (o.stats) return `${name}${STATS_KEYS.map((k) => largeNumber(st[k], o.exact)).join('')}\n`;
  if (o.rate) return `${name} ${[st.cps, st.inpps, st.outpps].map((v) => v.toString().padStart(8)).join(' ')}${largeNumber(st.inbps, o.exact)}${largeNumber(st.outbps, o.exact)}\n`;
  if (o.thresholds) return `${name} ${[unsigned(r.upperThreshold), unsigned(r.lowerThreshold), active, inactive].map((v) => left(v, 10)).join(' ')}\n`;
  if (o.persistentConn) return `${name} ${left(unsigned(r.weight), 9)} ${left(unsigned(r.persistentConns), 11)} ${left(active, 10)} ${left(inactive, 10)}\n`;
  if (o.tunInfo) return `${name} ${left(FWD_NAME[r.forward], 7)} ${left(tunnelInfo(r), 13)} ${left(r.weight | 0, 6)} ${left(active, 10)} ${left(inactive, 10)}\n`;
  return `${name} ${left(FWD_NAME[r.forward], 7)} ${left(r.weight | 0, 6)} ${left(active, 10)} ${left(inactive, 10)}\n`;
}

/**
 * What `ipvsadm -Ln [options]` prints. With `info` null/undefined the version header is left out,
 * as `ipvsadm -Ln -t ADDR:PORT` (one service) does.
 */
export function formatList(services: readonly Service[], info: ListInfo | null | undefined, opts: ListOptions = {}, out?: (text: string) => void): string {
  let all = info ? `IP Virtual Server version ${info.version} (size=${info.connTabSize})\n` : '';
  all += title(opts);
  if (out) {
    out(all);
    all = '';
  }
  for (const s of opts.sorted ? services : sortServices(services)) {
    let text = serviceLine(s, opts);
    for (const r of s.servers) text += serverLine(r, opts);
    if (out) out(text);
    else all += text;
  }
  return all;
}

// ---- ipvsadm -Ln --daemon, --timeout ----

/** What `ipvsadm -Ln --daemon` prints: master first, then backup; nothing when none runs. */
export function formatDaemons(daemons: readonly SyncDaemon[]): string {
  const order = (d: SyncDaemon): number => (d.state === 'master' ? 0 : 1);
  return [...daemons].sort((a, b) => order(a) - order(b)).map((d) => {
    let line = `${d.state} sync daemon (mcast=${d.interface}, syncid=${d.syncid | 0}`;
    if (d.maxlen) line += `, maxlen=${d.maxlen}`;
    if (d.group) line += `, group=${d.group}`;
    if (d.port) line += `, port=${d.port}`;
    if (d.ttl) line += `, ttl=${d.ttl}`;
    return `${line})\n`;
  }).join('');
}

/** What `ipvsadm -Ln --timeout` prints. */
export function formatTimeouts(t: Timeouts): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp | 0} ${t.tcpfin | 0} ${t.udp | 0}\n`;
}
