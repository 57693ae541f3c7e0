/**
 * The types the vrrp plugin's parts meet on: the packet codec (packet.ts), the pure state
 * machine (machine.ts), the tracker arithmetic (priority.ts) and the speaker that drives them
 * with sockets, timers and netlink (speaker.ts). Times are milliseconds on a clock the driver
 * owns (a simulated one in tests); intervals on the wire are centiseconds.
 */

export type Family = 4 | 6;
export type VrrpVersion = 2 | 3;

/** VRRPv2 authentication types (RFC 2338/3768). keepalived speaks 0 and 1 (and AH, which we refuse). */
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;

/** One VRRP advertisement, decoded (or to be encoded). */
export interface Advert {
  version: VrrpVersion;
  family: Family;
  vrid: number;
  priority: number;
  /** Advertisement interval in centiseconds (v2: whole seconds x 100). */
  intervalCs: number;
  /** The virtual addresses carried, in text form (as formatIp prints them), in packet order. */
  addresses: string[];
  /** v2 only: 0 none, 1 simple password. */
  authType: number;
  /** v2 simple password: the 8 bytes of the auth field (zero padded). */
  authData?: Uint8Array;
}

/** What the socket layer knows about a received packet beside its VRRP payload. */
export interface Received {
  /** Source address of the IP header, text form. */
  source: string;
  /** Destination address (224.0.0.18, ff02::12 or a unicast address), text form. */
  destination: string;
  /** TTL (IPv4) or hop limit (IPv6, from IPV6_HOPLIMIT). */
  ttl: number;
  /** Interface the packet arrived on. */
  ifindex: number;
}

/**
 * Why a received packet was dropped: each has a counter. Names follow keepalived's stats where
 * it has one (packet_len_err, ip_ttl_err, advert_interval_err, addr_list_err (counted, still
 * accepted), invalid_authtype, authtype_mismatch, auth_failure, invalid_type_rcvd).
 */
export type DropReason =
  | 'packet_len_err' // shorter than the header, count of addresses beyond the length, oversized
  | 'version_err' // not version 2 or 3, or not the instance's version
  | 'invalid_type_rcvd' // type is not 1 (ADVERTISEMENT)
  | 'checksum_err'
  | 'ip_ttl_err' // TTL / hop limit not 255
  | 'vrid_err' // no instance for this VRID (counted per interface)
  | 'advert_interval_err' // v2: interval differs from ours
  | 'invalid_authtype' // auth type unknown (not 0, 1)
  | 'authtype_mismatch' // auth type differs from ours
  | 'auth_failure' // password differs
  | 'address_family_err' // an IPv6 packet for an IPv4 instance or the reverse
  | 'own_packet'; // our own advert looped back (counted, not an error)

/** Result of parsing a raw VRRP payload: an advert or the reason it was refused. */
export type ParseResult = { ok: true; advert: Advert } | { ok: false; reason: DropReason; detail: string };

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

/** Configuration of one instance as the state machine needs it (validated beforehand). */
export interface InstanceConfig {
  name: string;
  version: VrrpVersion;
  family: Family;
  vrid: number;
  /** Configured priority 1..255 (255: address owner). */
  priority: number;
  /** Advertisement interval in centiseconds. */
  intervalCs: number;
  /** Stay BACKUP when hearing a lower priority (keepalived's nopreempt). */
  nopreempt: boolean;
  /** Seconds x 1000 to wait, after first hearing a lower priority master, before preempting. 0: none. */
  preemptDelayMs: number;
  /** Accept mode (RFC 5798): answer traffic to the VIPs when not the owner. */
  accept: boolean;
  /** Our primary address on the interface (for the tie-break on equal priority), text form. */
  primaryAddress: string;
  /** The VIPs, text form with prefix length (`192.0.2.100/24`). Carried in adverts: the first 20 (v2). */
  vips: string[];
}

/** Inputs of the state machine. `now` is always passed beside, never read from a global clock. */
export type MachineEvent =
  | { type: 'startup' }
  /** An advert that passed every check for this instance (parse + auth + interval for v2). */
  | { type: 'advert'; source: string; advert: Advert }
  /** Effective priority changed (trackers, demote/promote). 0 never comes here: that is 'fault'. */
  | { type: 'priority'; effective: number }
  /** A FAULT tracker failed (true) or every one recovered (false); also link down on our interface. */
  | { type: 'fault'; failed: boolean; reason: string }
  /** Graceful stop: a master sends priority 0 and releases. */
  | { type: 'shutdown' }
  /** The next timer is due (the driver calls it at or after nextDeadline()). */
  | { type: 'tick' };

/** Outputs of the state machine, in the order they must be carried out. */
export type MachineAction =
  | { type: 'send-advert'; priority: number }
  /** Gratuitous ARP / unsolicited NA for every VIP (the driver handles count, delay, repeat). */
  | { type: 'announce' }
  | { type: 'add-vips' }
  | { type: 'remove-vips' }
  | { type: 'transition'; from: VrrpState; to: VrrpState; reason: string }
  /**
   * reconfigure() changed the VIP set while MASTER: the driver adds `added` (and announces
   * them) and removes `removed`; the addresses that stayed are not touched.
   */
  | { type: 'vips-changed'; added: string[]; removed: string[] };

/** What the state machine knows, for status: times are ms on the driver's clock. */
export interface MachineSnapshot {
  state: VrrpState;
  /** Configured priority. */
  basePriority: number;
  /** Priority in use (base + trackers, clamped 1..254; 255 for the owner). */
  effectivePriority: number;
  /** The last advert heard from another router while BACKUP (or the one that sent us to BACKUP). */
  masterSeen: { address: string; priority: number; intervalCs: number; at: number } | undefined;
  /** Our own advertisement interval. */
  advertIntervalCs: number;
  /** Master_Adver_Interval: ours, or (v3) the one adopted from the master. */
  masterAdverIntervalCs: number;
  /** Skew_Time for the effective priority (v2: (256-P)/256 s; v3: (256-P) x MAI / 256), µs precision. */
  skewMs: number;
  /** Master_Down_Interval = 3 x MAI + skew. */
  masterDownMs: number;
  /** When handle({type:'tick'}) is next due; undefined in INIT, FAULT and STOP. */
  nextDeadline: number | undefined;
  lastTransition: { at: number; from: VrrpState; to: VrrpState; reason: string } | undefined;
  /** Number of transitions since construction. */
  transitions: number;
  /** End of the running preempt_delay (started by the first lower-priority advert), if any. */
  preemptDelayUntil: number | undefined;
  /** Why the instance is in FAULT (its own trackers first, else its sync group). */
  faultReason: string | undefined;
  /** Its master down timer expired but its sync group holds it in BACKUP (keepalived's wantstate MASTER). */
  wantsMaster: boolean;
}
