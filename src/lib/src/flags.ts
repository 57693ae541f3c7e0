/**
 * Typed command-line values: whole numbers in a range and IP addresses, checked where oclif parses
 * the flag so that a command receives a number or an address, never text to check again. The
 * error is one line naming the flag, the bad value and what is accepted; oclif prefixes a custom
 * flag's error with "Parsing --x" on lines of its own, which the base command drops (oneLine).
 */
import * as Flags from '@oclif/core/flags';
import type { OptionFlag } from '@oclif/core/interfaces';
import { UsageError } from './errors.js';
import { formatIp, parseIp, type IpFamily } from './netlink/ip.js';

export interface Range {
  min: number;
  max: number;
}

/**
 * A whole number in a range, from text ("42", not "4e1", "0x2a" or "-1"); `what` names the value
 * in the error ("-w/--weight"), `noun` what it is ("a whole number", "a port").
 */
export function wholeNumber(text: string | number, what: string, range: Range, noun = 'a whole number'): number {
  const s = String(text).trim();
  // more than 16 digits is past every range and past what a double holds exactly
  const n = /^\d{1,16}$/.test(s) ? Number(s) : Number.NaN;
  if (!(n >= range.min && n <= range.max)) throw new UsageError(`${what}: "${text}" is not ${noun} from ${range.min} to ${range.max}`);
  return n;
}

/** How errors name a flag: "-w/--weight", or "--metric" when it has no letter. */
export function flagLabel(flag: { name: string; char?: string }): string {
  return flag.char ? `-${flag.char}/--${flag.name}` : `--${flag.name}`;
}

/** What a typed flag is told besides its type: how it reads in help (never required, no default). */
export type FlagText = Pick<Partial<OptionFlag<unknown>>, 'char' | 'summary' | 'description' | 'helpValue' | 'helpGroup'>;

/** A flag whose value is a whole number in `range`; the help names the range. */
export function wholeNumberFlag(props: FlagText & { range: Range; noun?: string }) {
  const { range, noun, ...rest } = props;
  return Flags.custom<number>({
    helpValue: 'N',
    ...rest,
    parse: async (input, _ctx, flag) => wholeNumber(input, flagLabel(flag), range, noun),
  })();
}

/** A flag whose value is an IP address (of `family` if given), handed on in its canonical text form. */
export function addressFlag(props: FlagText & { family?: IpFamily }) {
  const { family, ...rest } = props;
  return Flags.custom<string>({
    helpValue: 'ADDR',
    ...rest,
    parse: async (input, _ctx, flag) => {
      const ip = parseIp(input.trim());
      const want = family === 'ipv6' ? 'an IPv6 address' : family === 'ipv4' ? 'an IPv4 address' : 'an IP address (IPv4 or IPv6)';
      if (!ip || (family && ip.family !== family)) throw new UsageError(`${flagLabel(flag)}: "${input}" is not ${want}`);
      return formatIp(ip.bytes);
    },
  })();
}
