/**
 * ipvsadm's options as oclif flags: the same long names and short letters, so scripts move over by
 * changing the command name. Values are turned into model objects by ipvsadm/options.ts.
 */
import * as Flags from '@oclif/core/flags';
import { UsageError, wholeNumberFlag } from '@ha/lib';
import { LIMITS } from './limits.js';
import { DEFAULT_PERSISTENCE_TIMEOUT, SCHEDULERS, SCHED_FLAGS, TUNNEL_TYPES } from './model.js';

const SERVICE = 'SERVICE';
const OPTIONS = 'SERVICE OPTIONS';
const SERVER = 'REAL SERVER';

/** Which virtual service: exactly one of these. */
export const serviceKeyFlags = {
  'tcp-service': Flags.string({ char: 't', summary: 'TCP virtual service ADDRESS:PORT ([IPv6]:PORT).', helpValue: 'ADDR:PORT', helpGroup: SERVICE }),
  'udp-service': Flags.string({ char: 'u', summary: 'UDP virtual service ADDRESS:PORT.', helpValue: 'ADDR:PORT', helpGroup: SERVICE }),
  'sctp-service': Flags.string({ summary: 'SCTP virtual service ADDRESS:PORT.', helpValue: 'ADDR:PORT', helpGroup: SERVICE }),
  'fwmark-service': Flags.string({ char: 'f', summary: 'Virtual service by firewall mark (1-4294967295).', helpValue: 'MARK', helpGroup: SERVICE }),
  ipv6: Flags.boolean({ char: '6' as 'a', summary: 'The firewall-mark service is IPv6 (with -f).', helpGroup: SERVICE }),
};

/** Settings of a virtual service (-A/-E). */
export const serviceOptionFlags = {
  scheduler: Flags.string({
    char: 's', summary: 'Scheduling method.', options: [...SCHEDULERS], helpGroup: OPTIONS,
    description: 'rr round robin, wrr weighted rr, lc least connections, wlc weighted lc (default), lblc/lblcr locality-based lc (with replication), dh/sh destination/source hashing, sed shortest expected delay, nq never queue, fo weighted failover, ovf weighted overflow, mh maglev hashing, twos weighted random twos choice.',
  }),
  persistent: Flags.string({
    char: 'p', summary: `Persistent service, with an optional timeout in seconds (default ${DEFAULT_PERSISTENCE_TIMEOUT}).`, helpValue: '[TIMEOUT]', helpGroup: OPTIONS,
  }),
  netmask: Flags.string({ char: 'M', summary: 'Persistence granularity: IPv4 netmask or IPv6 prefix length.', helpValue: 'MASK', helpGroup: OPTIONS }),
  pe: Flags.string({ summary: 'Persistence engine.', options: ['sip'], helpGroup: OPTIONS }),
  'sched-flags': Flags.string({
    char: 'b', summary: 'Scheduler flags, comma separated.', helpValue: 'FLAG[,FLAG]', helpGroup: OPTIONS,
    description: `One or more of ${SCHED_FLAGS.join(', ')}; sh-* only with -s sh, mh-* only with -s mh.`,
  }),
  ops: Flags.boolean({ char: 'o', summary: 'One-packet scheduling (UDP).', helpGroup: OPTIONS }),
};

/** A real server and its settings (-a/-e). */
export const serverFlags = {
  'real-server': Flags.string({ char: 'r', summary: 'Real server ADDRESS[:PORT] ([IPv6]:PORT); the port defaults to the service port.', helpValue: 'ADDR[:PORT]', helpGroup: SERVER }),
  gatewaying: Flags.boolean({ char: 'g', summary: 'Direct routing (the default).', helpGroup: SERVER }),
  ipip: Flags.boolean({ char: 'i', summary: 'Tunnelling (IP-in-IP, or --tun-type).', helpGroup: SERVER }),
  masquerading: Flags.boolean({ char: 'm', summary: 'NAT (masquerading).', helpGroup: SERVER }),
  weight: wholeNumberFlag({ char: 'w', summary: 'Weight, 0-65535 (default 1); 0 takes the server out of new scheduling.', helpValue: 'WEIGHT', helpGroup: SERVER, range: LIMITS.weight }),
  'u-threshold': wholeNumberFlag({ char: 'x', summary: 'Upper threshold of connections (0 = none).', helpGroup: SERVER, range: LIMITS.threshold }),
  'l-threshold': wholeNumberFlag({ char: 'y', summary: 'Lower threshold of connections (0 = none).', helpGroup: SERVER, range: LIMITS.threshold }),
  'tun-type': Flags.string({ summary: 'Tunnel type (with -i).', options: [...TUNNEL_TYPES], helpGroup: SERVER }),
  'tun-port': wholeNumberFlag({ summary: 'Tunnel destination port (gue).', helpValue: 'PORT', helpGroup: SERVER, range: LIMITS.tunPort, noun: 'a UDP port' }),
  'tun-nocsum': Flags.boolean({ summary: 'No checksum in the tunnel header (gue, gre; the default).', helpGroup: SERVER }),
  'tun-csum': Flags.boolean({ summary: 'Checksum in the tunnel header (gue, gre).', helpGroup: SERVER }),
  'tun-remcsum': Flags.boolean({ summary: 'Remote checksum offload (gue).', helpGroup: SERVER }),
};

/**
 * ipvsadm's `-p` takes an optional value, which oclif flags cannot: give it the default when the
 * next word is missing or is another option.
 */
export function withOptionalPersistence(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    out.push(a);
    if ((a === '-p' || a === '--persistent') && (i + 1 >= argv.length || /^-[^0-9]/.test(argv[i + 1]!))) out.push(String(DEFAULT_PERSISTENCE_TIMEOUT));
  }
  return out;
}

/** The flag values, renamed to IpvsOptions' camelCase fields. */
export function toOptions(flags: Record<string, unknown>): Record<string, unknown> {
  // ipvsadm -S writes marks above 2147483647 as negative numbers, and restore reads them so; on
  // the command line a negative mark is a mistake
  const mark = flags['fwmark-service'];
  if (typeof mark === 'string' && mark.trim().startsWith('-')) {
    throw new UsageError(`-f/--fwmark-service: "${mark}" is not a firewall mark from ${LIMITS.fwmark.min} to ${LIMITS.fwmark.max}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || v === false) continue;
    out[k.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = v;
  }
  return out;
}
