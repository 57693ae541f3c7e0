/**
 * The vrrp commands' flags, and turning them into (a change of) an instance. The ranges come from
 * model.ts LIMITS, the same ones the schema holds.
 */
import * as Flags from '@oclif/core/flags';
import * as Args from '@oclif/core/args';
import { existsSync } from 'node:fs';
import { UsageError, addressFlag, flagLabel, wholeNumberFlag } from '@ha/lib';
import { formatIp, ifnameProblem, parseIp } from '@ha/lib/netlink';
import { Instance, LIMITS, Notify, TrackFile, TrackInterface, TrackScript, parseVip } from './model.js';

export const nameArg = (what = 'instance') => Args.string({ required: true, description: `Name of the ${what} (letters, digits, _ . : -).` });

/** Seconds as a decimal number in a range ("1", "0.5"). */
export function secondsFlag(props: { summary: string; description?: string; range: { min: number; max: number } }) {
  const { range, ...rest } = props;
  return Flags.custom<number>({
    helpValue: 'SECONDS',
    ...rest,
    parse: async (input, _ctx, flag) => {
      const n = /^\d{1,6}(\.\d{1,3})?$/.test(input.trim()) ? Number(input) : Number.NaN;
      if (!(n >= range.min && n <= range.max)) throw new UsageError(`${flagLabel(flag)}: "${input}" is not a number of seconds from ${range.min} to ${range.max}`);
      return n;
    },
  })();
}

const vipFlag = Flags.custom<string>({
  helpValue: 'ADDR[/LEN]',
  multiple: true,
  parse: async (input, _ctx, flag) => {
    const v = parseVip(input.trim());
    if (typeof v === 'string') throw new UsageError(`${flagLabel(flag)}: ${v}`);
    // as for -i: a VIP on a missing interface could never be added
    if (v.dev !== undefined) checkInterface(v.dev, `${flagLabel(flag)} "${input.trim()}" dev`);
    return v.text;
  },
});

/** `NAME[:WEIGHT][:reverse]`: the weight is the last number after a colon. */
export function parseTracked(input: string, what: string, label: string): { name: string; weight?: number; reverse?: boolean } {
  const parts = input.split(':');
  let reverse: boolean | undefined;
  if (parts.length > 1 && parts[parts.length - 1] === 'reverse') {
    parts.pop();
    reverse = true;
  }
  let weight: number | undefined;
  const last = parts[parts.length - 1]!;
  if (parts.length > 1 && /^[+-]?\d{1,4}$/.test(last)) {
    weight = Number(last);
    parts.pop();
    if (weight < LIMITS.weight.min || weight > LIMITS.weight.max) {
      throw new UsageError(`${label}: weight ${last} in "${input}" is not from ${LIMITS.weight.min} to ${LIMITS.weight.max}`);
    }
  }
  const name = parts.join(':');
  if (!name) throw new UsageError(`${label}: "${input}" names no ${what} (${what.toUpperCase()}[:WEIGHT][:reverse])`);
  return { name, ...(weight !== undefined ? { weight } : {}), ...(reverse ? { reverse } : {}) };
}

const trackedFlag = (what: string, summary: string) => Flags.custom<{ name: string; weight?: number; reverse?: boolean }>({
  helpValue: `${what.toUpperCase()}[:WEIGHT][:reverse]`,
  multiple: true,
  summary,
  parse: async (input, _ctx, flag) => parseTracked(input, what, flagLabel(flag)),
})();

/** Flags of `add` and `set` (on `set` each replaces what the instance had). */
export const instanceFlags = {
  interface: Flags.string({ char: 'i', summary: 'Interface the instance runs on.', helpValue: 'IF' }),
  vrid: wholeNumberFlag({ summary: 'Virtual router ID (1-255), the same on every node of the pair.', range: LIMITS.vrid }),
  vip: vipFlag({ summary: 'A virtual IP (repeat the flag; VRRPv2 carries up to 20).', description: 'ADDR with an optional prefix length (default /32 or /128), e.g. 192.0.2.100/24.' }),
  'exclude-vip': vipFlag({ summary: 'A virtual IP held with the instance but not carried in adverts (repeatable).' }),
  priority: wholeNumberFlag({ char: 'p', summary: 'Priority 1-254, or 255 for the address owner (default 100).', range: LIMITS.priority }),
  version: Flags.string({ summary: 'VRRP version (default 2 for IPv4, 3 for IPv6).', options: ['2', '3'] }),
  'advert-int': secondsFlag({ summary: 'Advertisement interval in seconds (default 1; v3 allows 0.01 steps).', range: { min: LIMITS.v3Interval.min, max: LIMITS.v2Interval.max } }),
  nopreempt: Flags.boolean({ summary: 'Do not take over from a lower-priority master.', allowNo: true }),
  'preempt-delay': secondsFlag({ summary: 'Seconds to wait before taking over from a lower-priority master.', range: LIMITS.preemptDelay }),
  accept: Flags.boolean({ summary: 'Accept mode: answer traffic for the VIPs (RFC 5798).', allowNo: true }),
  'auth-pass': Flags.string({ summary: 'VRRPv2 simple password (at most 8 bytes), as keepalived\'s auth_pass.', helpValue: 'PASSWORD' }),
  'unicast-source': addressFlag({ summary: 'Source address of unicast adverts.' }),
  'unicast-peer': Flags.custom<string>({
    helpValue: 'ADDR',
    multiple: true,
    summary: 'Send adverts to this peer instead of multicast (repeatable).',
    parse: async (input, _ctx, flag) => {
      const ip = parseIp(input.trim());
      if (!ip) throw new UsageError(`${flagLabel(flag)}: "${input}" is not an IP address (IPv4 or IPv6)`);
      return formatIp(ip.bytes);
    },
  })(),
  'track-interface': trackedFlag('interface', 'Track an interface: down subtracts its weight, or is a FAULT without one (repeatable).'),
  'track-file': trackedFlag('path', 'Track a file holding an integer: value x weight (default 1) is added (repeatable).'),
  'track-script': trackedFlag('script', 'Track a script defined with `ha vrrp script add` (repeatable).'),
  'garp-repeat': wholeNumberFlag({ summary: 'Gratuitous ARPs/NAs sent per VIP on becoming master (default 5).', range: LIMITS.garpRepeat }),
  'garp-delay': secondsFlag({ summary: 'Seconds before the second burst of gratuitous ARPs (default 5).', range: LIMITS.garpDelay }),
  'garp-refresh': secondsFlag({ summary: 'Repeat gratuitous ARPs every this many seconds while master (default 0: off).', range: LIMITS.garpRefresh }),
  'notify-master': Flags.string({ summary: 'Command run on becoming MASTER.', helpValue: 'CMD' }),
  'notify-backup': Flags.string({ summary: 'Command run on becoming BACKUP.', helpValue: 'CMD' }),
  'notify-fault': Flags.string({ summary: 'Command run on entering FAULT.', helpValue: 'CMD' }),
  'notify-stop': Flags.string({ summary: 'Command run when the instance stops.', helpValue: 'CMD' }),
  notify: Flags.string({ summary: 'Command run on every transition with INSTANCE <name> <STATE> <priority> appended.', helpValue: 'CMD' }),
};

type InstanceFlags = {
  interface?: string; vrid?: number; vip?: string[]; 'exclude-vip'?: string[]; priority?: number; version?: string;
  'advert-int'?: number; nopreempt?: boolean; 'preempt-delay'?: number; accept?: boolean; 'auth-pass'?: string;
  'unicast-source'?: string; 'unicast-peer'?: string[]; 'track-interface'?: Array<{ name: string; weight?: number; reverse?: boolean }>;
  'track-file'?: Array<{ name: string; weight?: number; reverse?: boolean }>; 'track-script'?: Array<{ name: string; weight?: number; reverse?: boolean }>;
  'garp-repeat'?: number; 'garp-delay'?: number; 'garp-refresh'?: number;
  'notify-master'?: string; 'notify-backup'?: string; 'notify-fault'?: string; 'notify-stop'?: string; notify?: string;
};

/** An interface name the kernel takes and that exists here (a VRRP instance on a missing one would only ever be FAULT). */
export function checkInterface(name: string, label: string): void {
  const problem = ifnameProblem(name);
  if (problem) throw new UsageError(`${label}: ${problem}`);
  if (!existsSync(`/sys/class/net/${name}`)) throw new UsageError(`${label}: there is no interface ${name} here`);
}

/** Copy the flags that were given onto `into` (add: a new instance; set: the existing one). */
export function applyFlags(into: Partial<Instance>, f: InstanceFlags): void {
  if (f.interface !== undefined) {
    checkInterface(f.interface, '-i/--interface');
    into.interface = f.interface;
  }
  const set = <K extends keyof Instance>(key: K, value: Instance[K] | undefined): void => {
    if (value !== undefined) into[key] = value;
  };
  set('vrid', f.vrid);
  set('vips', f.vip);
  if (f['exclude-vip'] !== undefined) into.excludedVips = f['exclude-vip'];
  set('priority', f.priority);
  if (f.version !== undefined) into.version = Number(f.version) as 2 | 3;
  set('advertInterval', f['advert-int']);
  if (f.nopreempt !== undefined) {
    if (f.nopreempt) into.nopreempt = true;
    else delete into.nopreempt;
  }
  set('preemptDelay', f['preempt-delay']);
  if (f.accept !== undefined) {
    if (f.accept) into.accept = true;
    else delete into.accept;
  }
  set('authPass', f['auth-pass']);
  set('unicastSource', f['unicast-source']);
  set('unicastPeers', f['unicast-peer']);
  if (f['track-interface']) {
    for (const t of f['track-interface']) checkInterface(t.name, '--track-interface');
    into.trackInterfaces = f['track-interface'].map(({ name, ...w }): TrackInterface => ({ interface: name, ...w }));
  }
  if (f['track-file']) into.trackFiles = f['track-file'].map(({ name, ...w }): TrackFile => ({ path: name, ...w }));
  if (f['track-script']) into.trackScripts = f['track-script'].map(({ name, ...w }): TrackScript => ({ script: name, ...w }));
  set('garpRepeat', f['garp-repeat']);
  set('garpDelay', f['garp-delay']);
  set('garpRefresh', f['garp-refresh']);
  const notify: Notify = { ...(into.notify ?? {}) };
  const n = { master: f['notify-master'], backup: f['notify-backup'], fault: f['notify-fault'], stop: f['notify-stop'], any: f.notify };
  for (const [k, v] of Object.entries(n)) if (v !== undefined) notify[k as keyof Notify] = v;
  if (Object.keys(notify).length) into.notify = notify;
}
