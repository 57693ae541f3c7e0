/**
 * Who speaks VRRP on a link, and what is wrong between them: the analysis behind `ha vrrp peers`
 * (and the agent's peers view). Pure: it is fed what the sockets heard (adverts and the reasons
 * packets were refused) with times on the caller's clock, and reports per (interface, family,
 * VRID) every router seen and the problems among them. keepalived has nothing like it; these are
 * the faults its users debug by tcpdump: two masters, VIP lists that differ, adverts dropped for
 * their interval, password, TTL or version.
 *
 * "Master" here is what the wire says: a router whose adverts keep arriving with a priority above
 * 0 is acting as master (backups send nothing). It stops being one when it sends priority 0
 * (it released) or falls silent for its Master_Down_Interval (3 x interval + skew). Two routers
 * are a split brain when both are masters now and each advertised well after the other began (a
 * takeover, where the old master stops as the new one starts, is not one).
 *
 * Memory is bounded whatever arrives: at most `maxGroups` VRIDs and `maxRouters` routers per VRID
 * are tracked (the rest are counted as untracked), and each rejection keeps a few sources.
 *
 * JSON shape (PeerReport, stable; `ha vrrp peers --json` embeds it):
 *   groups[]:    { interface, family (4|6), vrid, masters: [address], untracked,
 *                  routers[]: { address, state ('master'|'silent'|'released'), priority, version,
 *                    intervalCs, addresses: [VIP], authType (0 none, 1 PASS, 2 AH),
 *                    auth ('none'|'PASS#n'|'AH'; n numbers the distinct passwords of the VRID in
 *                    order of appearance: never the password), ttl (last), badTtl, adverts,
 *                    priorityZero, firstSeenMs, lastSeenMs (the caller's clock) } }
 *   rejected[]:  { interface, family, reason, count, vrid?, sources: [address] (at most 8) }
 *   problems[]:  { kind, severity ('error'|'warning'), interface, family, vrid?, routers: [address],
 *                  message (one line) }
 *   kinds: split-brain, vip-mismatch, interval-mismatch, auth-mismatch, ttl, version-mismatch, rejected.
 */
import { table } from '@ha/lib';
import type { Advert, DropReason, Family, Received } from './types.js';
import type { SocketDropReason } from './sockets.js';

/** A received advert, as the socket and parseAdvert gave it. */
export interface AdvertSeen {
  ifname: string;
  family: Family;
  at: number;
  rx: Received;
  advert: Advert;
}

/** A packet (or `count` packets) refused by the parser, the checks or the socket. */
export interface RejectSeen {
  ifname: string;
  family: Family;
  at: number;
  reason: DropReason | SocketDropReason;
  /** The sender, when known. */
  rx?: Pick<Received, 'source'>;
  /** The VRID byte, when the packet had one. */
  vrid?: number;
  count?: number;
}

export type RouterState = 'master' | 'silent' | 'released';

export interface PeerRouter {
  address: string;
  /** master: advertising now; released: its last advert had priority 0; silent: no advert for a Master_Down_Interval. */
  state: RouterState;
  /** Priority of the last advert. */
  priority: number;
  version: 2 | 3;
  intervalCs: number;
  /** The VIPs of its last advert, in packet order. */
  addresses: string[];
  authType: number;
  /** 'none', 'PASS#n' (n: which of the VRID's distinct passwords, never the password itself) or 'AH'. */
  auth: string;
  /** TTL / hop limit of the last advert. */
  ttl: number;
  /** Adverts whose TTL / hop limit was not 255 (keepalived drops them). */
  badTtl: number;
  adverts: number;
  priorityZero: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface PeerGroup {
  interface: string;
  family: Family;
  vrid: number;
  /** The routers advertising as master now. */
  masters: string[];
  routers: PeerRouter[];
  /** Routers past the per-VRID limit, not tracked. */
  untracked: number;
}

export interface PeerRejection {
  interface: string;
  family: Family;
  reason: string;
  count: number;
  vrid?: number;
  /** The first distinct senders (at most 8). */
  sources: string[];
}

export type PeerProblemKind = 'split-brain' | 'vip-mismatch' | 'interval-mismatch' | 'auth-mismatch' | 'ttl' | 'version-mismatch' | 'rejected';

export interface PeerProblem {
  kind: PeerProblemKind;
  severity: 'error' | 'warning';
  interface: string;
  family: Family;
  vrid?: number;
  routers: string[];
  message: string;
}

export interface PeerReport {
  groups: PeerGroup[];
  rejected: PeerRejection[];
  problems: PeerProblem[];
}

export interface PeerTableOptions {
  maxGroups?: number;
  maxRouters?: number;
  /** Routers not heard for this long are left out of the problems (default: never). */
  windowMs?: number;
}

interface RouterRecord {
  address: string;
  priority: number;
  version: 2 | 3;
  versions: Set<number>;
  intervalCs: number;
  addresses: string[];
  authType: number;
  authData?: Uint8Array;
  ttl: number;
  badTtl: number;
  lastBadTtl: number;
  adverts: number;
  priorityZero: number;
  firstSeen: number;
  lastSeen: number;
  /** When its current run of priority > 0 adverts began (undefined: released). */
  runStart?: number;
}

interface GroupRecord {
  ifname: string;
  family: Family;
  vrid: number;
  routers: Map<string, RouterRecord>;
  untracked: number;
}

interface RejectRecord {
  ifname: string;
  family: Family;
  reason: string;
  vrid?: number;
  count: number;
  sources: string[];
}

const MAX_SOURCES = 8;
/** Arrival jitter allowed on top of a Master_Down_Interval. */
const SLACK_MS = 250;

/** Master_Down_Interval of a router that advertises at `intervalCs` with `priority`, ms (RFC 5798; v2 skew as keepalived). */
export function masterDownMs(version: 2 | 3, intervalCs: number, priority: number): number {
  const interval = intervalCs * 10;
  const skew = version === 2 ? ((256 - priority) * 1000) / 256 : ((256 - priority) * interval) / 256;
  return 3 * interval + skew;
}

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => {
  for (let i = 0; i < 8; i++) if ((a?.[i] ?? 0) !== (b?.[i] ?? 0)) return false;
  return true;
};

const familyText = (f: Family): string => `IPv${f}`;
const seconds = (cs: number): string => `${cs / 100}s`;
const where = (g: { ifname: string; family: Family; vrid: number }): string => `VRID ${g.vrid} on ${g.ifname} (${familyText(g.family)})`;

export class PeerTable {
  private readonly groups = new Map<string, GroupRecord>();
  private readonly rejects = new Map<string, RejectRecord>();
  private readonly maxGroups: number;
  private readonly maxRouters: number;
  private readonly windowMs: number;
  /** Adverts of VRIDs past maxGroups. */
  untrackedGroups = 0;

  constructor(options: PeerTableOptions = {}) {
    this.maxGroups = options.maxGroups ?? 1024;
    this.maxRouters = options.maxRouters ?? 32;
    this.windowMs = options.windowMs ?? Number.POSITIVE_INFINITY;
  }

  /** Feed one advert or one rejection. */
  feed(e: AdvertSeen | RejectSeen): void {
    if ('advert' in e) this.advert(e);
    else this.reject(e);
  }

  private advert(e: AdvertSeen): void {
    const a = e.advert;
    const key = `${e.ifname}\0${e.family}\0${a.vrid}`;
    let g = this.groups.get(key);
    if (!g) {
      if (this.groups.size >= this.maxGroups) {
        this.untrackedGroups++;
        return;
      }
      g = { ifname: e.ifname, family: e.family, vrid: a.vrid, routers: new Map(), untracked: 0 };
      this.groups.set(key, g);
    }
    let r = g.routers.get(e.rx.source);
    if (!r) {
      if (g.routers.size >= this.maxRouters) {
        g.untracked++;
        return;
      }
      r = {
        address: e.rx.source, priority: a.priority, version: a.version, versions: new Set(), intervalCs: a.intervalCs, addresses: [],
        authType: a.authType, ttl: e.rx.ttl, badTtl: 0, lastBadTtl: 255, adverts: 0, priorityZero: 0, firstSeen: e.at, lastSeen: e.at,
      };
      g.routers.set(e.rx.source, r);
    }
    if (a.priority > 0) {
      const resumed = r.runStart === undefined || r.adverts === 0 || e.at - r.lastSeen > masterDownMs(r.version, r.intervalCs, r.priority) + SLACK_MS;
      if (resumed) r.runStart = e.at;
    } else {
      r.runStart = undefined;
      r.priorityZero++;
    }
    r.priority = a.priority;
    r.version = a.version;
    r.versions.add(a.version);
    r.intervalCs = a.intervalCs;
    r.addresses = a.addresses.slice(0, 255);
    r.authType = a.authType;
    r.authData = a.authData ? a.authData.slice(0, 8) : undefined;
    r.ttl = e.rx.ttl;
    if (e.rx.ttl !== 255) {
      r.badTtl++;
      r.lastBadTtl = e.rx.ttl;
    }
    r.adverts++;
    r.lastSeen = e.at;
  }

  private reject(e: RejectSeen): void {
    const key = `${e.ifname}\0${e.family}\0${e.reason}`;
    let r = this.rejects.get(key);
    if (!r) {
      r = { ifname: e.ifname, family: e.family, reason: e.reason, count: 0, sources: [] };
      this.rejects.set(key, r);
    }
    r.count += e.count ?? 1;
    if (e.vrid !== undefined) r.vrid ??= e.vrid;
    const s = e.rx?.source;
    if (s !== undefined && r.sources.length < MAX_SOURCES && !r.sources.includes(s)) r.sources.push(s);
  }

  private stateOf(r: RouterRecord, now: number): RouterState {
    if (r.priority === 0) return 'released';
    return now - r.lastSeen <= masterDownMs(r.version, r.intervalCs, r.priority) + SLACK_MS ? 'master' : 'silent';
  }

  /** Everything seen, and the problems, as of `now`. */
  report(now: number): PeerReport {
    const groups: PeerGroup[] = [];
    const problems: PeerProblem[] = [];
    const sorted = [...this.groups.values()].sort((a, b) => a.ifname.localeCompare(b.ifname) || a.family - b.family || a.vrid - b.vrid);
    for (const g of sorted) {
      const records = [...g.routers.values()].sort((a, b) => b.priority - a.priority || a.address.localeCompare(b.address));
      const labels = passwordLabels(records);
      const routers = records.map((r): PeerRouter => ({
        address: r.address,
        state: this.stateOf(r, now),
        priority: r.priority,
        version: r.version,
        intervalCs: r.intervalCs,
        addresses: [...r.addresses],
        authType: r.authType,
        auth: labels.get(r) ?? 'none',
        ttl: r.ttl,
        badTtl: r.badTtl,
        adverts: r.adverts,
        priorityZero: r.priorityZero,
        firstSeenMs: r.firstSeen,
        lastSeenMs: r.lastSeen,
      }));
      groups.push({ interface: g.ifname, family: g.family, vrid: g.vrid, masters: routers.filter((r) => r.state === 'master').map((r) => r.address), routers, untracked: g.untracked });
      const recent = records.filter((r) => now - r.lastSeen <= this.windowMs);
      problems.push(...this.groupProblems(g, recent, labels, now));
    }
    const rejected: PeerRejection[] = [...this.rejects.values()]
      .sort((a, b) => a.ifname.localeCompare(b.ifname) || a.family - b.family || a.reason.localeCompare(b.reason))
      .map((r) => ({ interface: r.ifname, family: r.family, reason: r.reason, count: r.count, ...(r.vrid === undefined ? {} : { vrid: r.vrid }), sources: [...r.sources] }));
    for (const r of rejected) {
      const from = r.sources.length ? ` from ${r.sources.join(', ')}` : '';
      problems.push({
        kind: 'rejected', severity: 'warning', interface: r.interface, family: r.family, ...(r.vrid === undefined ? {} : { vrid: r.vrid }), routers: r.sources,
        message: `${r.count} packet${r.count === 1 ? '' : 's'} rejected (${r.reason}) on ${r.interface} (${familyText(r.family)})${from}`,
      });
    }
    return { groups, rejected, problems };
  }

  /** The problems of one VRID among the routers heard recently. */
  private groupProblems(g: GroupRecord, routers: RouterRecord[], labels: Map<RouterRecord, string>, now: number): PeerProblem[] {
    const out: PeerProblem[] = [];
    const base = { interface: g.ifname, family: g.family, vrid: g.vrid };
    const add = (kind: PeerProblemKind, severity: 'error' | 'warning', involved: RouterRecord[], message: string): void => {
      out.push({ kind, severity, ...base, routers: involved.map((r) => r.address), message: `${where(g)}: ${message}` });
    };

    // two masters at once
    const masters = routers.filter((r) => this.stateOf(r, now) === 'master' && r.runStart !== undefined);
    const split = new Set<RouterRecord>();
    for (let i = 0; i < masters.length; i++) {
      for (let j = i + 1; j < masters.length; j++) {
        const a = masters[i]!;
        const b = masters[j]!;
        const gap = (Math.max(a.intervalCs, b.intervalCs) * 10) / 2;
        if (a.lastSeen > b.runStart! + gap && b.lastSeen > a.runStart! + gap) {
          split.add(a);
          split.add(b);
        }
      }
    }
    if (split.size > 1) {
      const list = [...split];
      add('split-brain', 'error', list, `${list.length} routers advertise as master at once (split brain): ${list.map((r) => `${r.address} (priority ${r.priority})`).join(', ')}`);
    }

    // different VIP sets
    const sets = new Map<string, RouterRecord[]>();
    for (const r of routers) {
      const k = [...new Set(r.addresses)].sort().join(' ');
      sets.set(k, [...(sets.get(k) ?? []), r]);
    }
    if (sets.size > 1) {
      const parts = [...sets.entries()].map(([k, rs]) => `${rs.map((r) => r.address).join(', ')}: ${k || '(none)'}`);
      add('vip-mismatch', 'warning', routers, `routers carry different virtual addresses: ${parts.join('; ')}`);
    }

    // different advert intervals: keepalived drops v2 adverts whose interval is not its own
    const intervals = new Map<number, RouterRecord[]>();
    for (const r of routers) intervals.set(r.intervalCs, [...(intervals.get(r.intervalCs) ?? []), r]);
    if (intervals.size > 1) {
      const v2 = routers.some((r) => r.version === 2);
      const parts = [...intervals.entries()].map(([cs, rs]) => `${seconds(cs)} (${rs.map((r) => r.address).join(', ')})`);
      add('interval-mismatch', v2 ? 'error' : 'warning', routers, `advert intervals differ: ${parts.join(', ')}${v2 ? ': VRRPv2 routers drop adverts whose interval is not their own' : ''}`);
    }

    // authentication (VRRPv2)
    const v2routers = routers.filter((r) => r.version === 2);
    const types = new Set(v2routers.map((r) => r.authType));
    if (types.size > 1) {
      add('auth-mismatch', 'error', v2routers, `authentication types differ: ${v2routers.map((r) => `${r.address} ${authTypeName(r.authType)}`).join(', ')}`);
    } else {
      const pass = v2routers.filter((r) => r.authType === 1);
      const distinct = new Set(pass.map((r) => labels.get(r)));
      if (distinct.size > 1) {
        add('auth-mismatch', 'error', pass, `passwords differ: ${pass.map((r) => `${r.address} has password #${labels.get(r)!.slice(5)}`).join(', ')}`);
      }
    }

    // TTL / hop limit
    for (const r of routers) {
      if (r.badTtl > 0) {
        add('ttl', 'error', [r], `${r.address} sent ${r.badTtl} advert${r.badTtl === 1 ? '' : 's'} with ${g.family === 4 ? 'TTL' : 'hop limit'} ${r.lastBadTtl}, not 255 (routed, or not a conforming sender; peers drop them)`);
      }
    }

    // versions
    const versions = new Set(routers.flatMap((r) => [...r.versions]));
    if (versions.size > 1) {
      add('version-mismatch', 'error', routers, `VRRP versions differ: ${routers.map((r) => `${r.address} v${[...r.versions].sort().join('+v')}`).join(', ')}`);
    }
    return out;
  }
}

function authTypeName(t: number): string {
  return t === 0 ? 'none' : t === 1 ? 'PASS' : t === 2 ? 'AH' : `type ${t}`;
}

/** Each router's auth label: PASS#n numbers the distinct passwords of one VRID in order of first appearance. */
function passwordLabels(routers: RouterRecord[]): Map<RouterRecord, string> {
  const distinct: Array<Uint8Array | undefined> = [];
  const out = new Map<RouterRecord, string>();
  const byFirstSeen = [...routers].sort((a, b) => a.firstSeen - b.firstSeen || a.address.localeCompare(b.address));
  for (const r of byFirstSeen) {
    if (r.authType !== 1) {
      out.set(r, authTypeName(r.authType));
      continue;
    }
    let n = distinct.findIndex((d) => sameBytes(d, r.authData));
    if (n === -1) n = distinct.push(r.authData) - 1;
    out.set(r, `PASS#${n + 1}`);
  }
  return out;
}

/** The report for people: one table row per router, then rejections and problems. */
export function renderPeers(report: PeerReport, options: { now?: number; heading?: string } = {}): string {
  const lines: string[] = [];
  if (options.heading) lines.push(options.heading, '');
  if (report.groups.length === 0) {
    lines.push('No VRRP adverts seen.');
  } else {
    const rows = report.groups.flatMap((g) => g.routers.map((r) => [
      g.interface, familyText(g.family), g.vrid, r.address, r.state, r.priority, `v${r.version}`, seconds(r.intervalCs), r.auth, r.ttl, r.adverts,
      options.now === undefined ? undefined : `${((options.now - r.lastSeenMs) / 1000).toFixed(1)}s`, r.addresses.join(',') || '-',
    ]));
    lines.push(table(['INTERFACE', 'FAMILY', 'VRID', 'ROUTER', 'STATE', 'PRIO', 'VER', 'INTERVAL', 'AUTH', 'TTL', 'ADVERTS', 'LAST', 'VIPS'], rows, {
      align: ['left', 'left', 'right', 'left', 'left', 'right', 'left', 'right', 'left', 'right', 'right', 'right', 'left'],
    }));
    const untracked = report.groups.reduce((n, g) => n + g.untracked, 0);
    if (untracked > 0) lines.push(`(${untracked} more router${untracked === 1 ? '' : 's'} not tracked)`);
  }
  lines.push('');
  if (report.problems.length === 0) {
    lines.push('No problems seen.');
  } else {
    lines.push('Problems:');
    for (const p of report.problems) lines.push(`  ${p.severity === 'error' ? 'error' : 'warning'}: ${p.message}`);
  }
  return lines.join('\n');
}
