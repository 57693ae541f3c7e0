/**
 * The range of every number the ipvs plugin takes, in one place: the state file's schema, the
 * command-line parsers and the rules-file parser all read them from here, so they accept the same
 * values, and a value that passes all three is one the kernel takes (measured on Linux 6.1).
 */
import type { Range } from '@ha/lib';

export type { Range };

export const LIMITS = {
  port: { min: 0, max: 65535 },
  fwmark: { min: 1, max: 4294967295 },
  /** The kernel takes any int; ipvsadm's save format, the schedulers' arithmetic and the state file stop at 65535. */
  weight: { min: 0, max: 65535 },
  /** ipvsadm's limit (INT_MAX); the kernel stores them as u32 but tools print them as int. */
  threshold: { min: 0, max: 2147483647 },
  /** ipvsadm's limit, 31 days: the kernel keeps timeout x HZ in 32 bits, so larger values read back wrong. */
  persistence: { min: 1, max: 2678400 },
  /**
   * Connection timeouts (tcp, tcpfin, udp), seconds: the kernel refuses more than INT_MAX / HZ,
   * which is 2147483 at HZ 1000, the most any kernel is built with (on the command line 0 means
   * "keep this one").
   */
  timeout: { min: 1, max: 2147483 },
  syncid: { min: 0, max: 255 },
  /** The sync daemon's datagram payload: at most a UDP datagram over IPv4 (65535 - 20 - 8). */
  syncMaxlen: { min: 1, max: 65507 },
  mcastPort: { min: 1, max: 65535 },
  mcastTtl: { min: 1, max: 255 },
  tunPort: { min: 1, max: 65535 },
  prefix6: { min: 1, max: 128 },
} as const satisfies Record<string, Range>;

export type LimitName = keyof typeof LIMITS;

/** The JSON Schema of an integer in a range. */
export function intSchema(name: LimitName, description?: string): { type: 'integer'; minimum: number; maximum: number; description?: string } {
  const { min, max } = LIMITS[name];
  return description === undefined ? { type: 'integer', minimum: min, maximum: max } : { type: 'integer', minimum: min, maximum: max, description };
}
