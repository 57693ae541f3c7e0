import * as Flags from '@oclif/core/flags';
import { HaCommand, HaError, UsageError } from '@ha/lib';
import { ifnameProblem } from '@ha/lib/netlink';
import { secondsFlag } from '../../flags.js';
import { parseAdvert } from '../../packet.js';
import { PeerGroup, PeerProblem, PeerRejection, PeerTable, renderPeers } from '../../peers.js';
import { SOCKET_DROP_REASONS, VrrpSocket, interfaceInfo } from '../../sockets.js';
import type { Family } from '../../types.js';

interface PeersResult {
  interface: string;
  /** The families listened to. */
  families: Family[];
  /** How long we listened, seconds. */
  seconds: number;
  /** When listening began (ISO 8601); the routers' firstSeenMs/lastSeenMs count from it. */
  startedAt: string;
  /** VRRP packets that reached us (before parsing). */
  packets: number;
  groups: PeerGroup[];
  rejected: PeerRejection[];
  problems: PeerProblem[];
  /** Why a family was not listened to (an interface without IPv6). */
  notes: string[];
}

export default class VrrpPeers extends HaCommand<PeersResult> {
  static override summary = 'Listen on an interface and show every VRRP router heard, and what is wrong between them.';
  static override description = `Opens raw VRRP sockets on the interface for a few seconds (no agent needed, nothing is sent) and lists, per VRID, each router that advertised: its address, priority, version, interval, authentication, TTL, virtual addresses and whether it is acting as master.

Then the problems: two routers advertising as master at once (split brain), routers of one VRID with different virtual addresses, intervals, authentication types or passwords (passwords are compared, never shown: PASS#1 and PASS#2 are two different ones), versions, adverts with a TTL or hop limit other than 255, and packets rejected (bad checksum, length, type...). Problems are reported, not errors: the exit code is 0 whatever was heard.

Needs CAP_NET_RAW (root).`;

  static override examples = [
    { description: 'Three seconds on eth0, both families.', command: '<%= config.bin %> vrrp peers --interface eth0' },
    { description: 'Ten seconds of IPv4 only.', command: '<%= config.bin %> vrrp peers -i eth0 --seconds 10 --family 4' },
    { description: 'As JSON, for a script.', command: '<%= config.bin %> vrrp peers -i eth0 --json' },
  ];

  static override flags = {
    interface: Flags.string({ char: 'i', summary: 'Interface to listen on.', required: true, helpValue: 'IF' }),
    seconds: secondsFlag({ summary: 'How long to listen (default 3).', range: { min: 0.1, max: 3600 } }),
    family: Flags.string({ summary: 'Address family to listen to.', options: ['4', '6', 'both'], default: 'both' }),
  };

  protected async exec(): Promise<PeersResult> {
    const { flags } = await this.parse(VrrpPeers);
    const ifname = flags.interface;
    const problem = ifnameProblem(ifname);
    if (problem) throw new UsageError(`--interface: ${problem}`);
    const info = await interfaceInfo(ifname);
    const families: Family[] = flags.family === '4' ? [4] : flags.family === '6' ? [6] : [4, 6];
    const seconds = flags.seconds ?? 3;
    const table = new PeerTable();
    const sockets: VrrpSocket[] = [];
    const notes: string[] = [];
    const t0 = performance.now();
    const startedAt = new Date().toISOString();
    const now = (): number => Math.round(performance.now() - t0);
    try {
      for (const family of families) {
        let socket: VrrpSocket;
        try {
          socket = VrrpSocket.open({ family, ifname, ifindex: info.ifindex });
        } catch (error) {
          // an interface without IPv6 (disable_ipv6) cannot join ff02::12: say so and listen to IPv4
          if (families.length > 1 && family === 6 && error instanceof HaError && error.code !== 'EPERM') {
            notes.push(`IPv6 not listened to: ${error.message}`);
            continue;
          }
          throw error;
        }
        sockets.push(socket);
        socket.onPacket((payload, rx) => {
          const at = now();
          const r = parseAdvert(payload, family, rx.source, rx.destination);
          if (r.ok) table.feed({ ifname, family, at, rx, advert: r.advert });
          else table.feed({ ifname, family, at, rx, reason: r.reason, ...(payload.length >= 2 ? { vrid: payload[1]! } : {}) });
        });
      }
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    } finally {
      for (const s of sockets) s.close();
    }
    const end = now();
    for (const s of sockets) {
      for (const reason of SOCKET_DROP_REASONS) {
        const count = s.counters.dropped[reason];
        if (count > 0) table.feed({ ifname, family: s.family, at: end, reason, count });
      }
    }
    const report = table.report(end);
    return {
      interface: ifname,
      families: sockets.map((s) => s.family),
      seconds,
      startedAt,
      packets: sockets.reduce((n, s) => n + s.counters.received + SOCKET_DROP_REASONS.reduce((m, k) => m + s.counters.dropped[k], 0), 0),
      ...report,
      notes,
    };
  }

  protected override render(r: PeersResult): string {
    const heading = `Listened ${r.seconds} s on ${r.interface} (${r.families.map((f) => `IPv${f}`).join(', ')}): ${r.packets} VRRP packet${r.packets === 1 ? '' : 's'}.`;
    const end = r.seconds * 1000;
    return [renderPeers(r, { heading, now: end }), ...r.notes.map((n) => `note: ${n}`)].join('\n');
  }
}
