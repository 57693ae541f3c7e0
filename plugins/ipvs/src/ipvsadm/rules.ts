/**
 * ipvsadm's save/restore format: one ipvsadm command line per line, as `ipvsadm -S` writes them
 * and `ipvsadm -R` reads them.
 *
 * parseRules() reads every line before anything is applied and refuses the whole text at its first
 * bad line (ipvsadm -R applies lines one by one, stops at a bad option with the earlier lines
 * applied, and only prints kernel errors and carries on). Accepted, beyond what ipvsadm -S writes:
 * blank lines, `#` comments (whole-line or trailing; ipvsadm -R chokes on them), a leading word
 * `ipvsadm`, long options as `--name value` or `--name=value`, short options clustered (`-At`)
 * or with their value attached (`-t192.0.2.1:80`, `-p20`), and `-p` with or without a timeout.
 * Only the table commands -A -E -D -a -e -d -C are allowed.
 *
 * applyRules() plays the commands on a table the way the kernel would, refusing what the kernel
 * refuses (adding what exists, editing or deleting what does not), so that a converging restore
 * can compute the desired table first and change the kernel only when all of it is valid.
 */
import { UsageError } from '@ha/lib';
import { SCHEDULERS, Server, Service, ServiceKey, indexOfServer, serverLabel, serviceId, serviceLabel } from '../model.js';
import {
  IpvsOptions, MAX_WEIGHT, OPTION_LABELS, OptionName, SERVER_SETTING_OPTIONS, SERVICE_KEY_OPTIONS, SERVICE_SETTING_OPTIONS,
  serverFromOptions, serverKeyFromOptions, serviceFromOptions, serviceKeyFromOptions,
} from './options.js';

export type RuleCommandName = 'add-service' | 'edit-service' | 'delete-service' | 'add-server' | 'edit-server' | 'delete-server' | 'clear';

interface RuleBase {
  /** Where the line came from, for messages: "FILE:LINE". */
  source: string;
  line: number;
}

export type RuleCommand = RuleBase & (
  | { command: 'add-service'; service: Service }
  | { command: 'edit-service'; service: Service }
  | { command: 'delete-service'; key: ServiceKey }
  | { command: 'add-server'; key: ServiceKey; server: Server; thresholdsOmitted?: boolean }
  | { command: 'edit-server'; key: ServiceKey; server: Server }
  | { command: 'delete-server'; key: ServiceKey; server: Pick<Server, 'family' | 'address' | 'port'> }
  | { command: 'clear' }
);

interface OptionSpec {
  long: string;
  short?: string;
  /** none: a switch; required: takes a value; optional: may take one (only -p). */
  arg: 'none' | 'required' | 'optional';
  /** The command it selects, or the option it sets. */
  command?: RuleCommandName;
  option?: OptionName;
  /** An ipvsadm command or option that has no place in a rules file, and why. */
  refused?: string;
  /** What the value looks like, for messages. */
  value?: string;
}

const SPECS: OptionSpec[] = [
  { long: 'add-service', short: 'A', arg: 'none', command: 'add-service' },
  { long: 'edit-service', short: 'E', arg: 'none', command: 'edit-service' },
  { long: 'delete-service', short: 'D', arg: 'none', command: 'delete-service' },
  { long: 'add-server', short: 'a', arg: 'none', command: 'add-server' },
  { long: 'edit-server', short: 'e', arg: 'none', command: 'edit-server' },
  { long: 'delete-server', short: 'd', arg: 'none', command: 'delete-server' },
  { long: 'clear', short: 'C', arg: 'none', command: 'clear' },
  { long: 'tcp-service', short: 't', arg: 'required', option: 'tcpService', value: 'ADDRESS:PORT' },
  { long: 'udp-service', short: 'u', arg: 'required', option: 'udpService', value: 'ADDRESS:PORT' },
  { long: 'sctp-service', arg: 'required', option: 'sctpService', value: 'ADDRESS:PORT' },
  { long: 'fwmark-service', short: 'f', arg: 'required', option: 'fwmarkService', value: 'MARK' },
  { long: 'ipv6', short: '6', arg: 'none', option: 'ipv6' },
  { long: 'scheduler', short: 's', arg: 'required', option: 'scheduler', value: 'SCHEDULER' },
  { long: 'persistent', short: 'p', arg: 'optional', option: 'persistent' },
  { long: 'netmask', short: 'M', arg: 'required', option: 'netmask', value: 'NETMASK or PREFIX-LENGTH' },
  { long: 'pe', arg: 'required', option: 'pe', value: 'ENGINE' },
  { long: 'sched-flags', short: 'b', arg: 'required', option: 'schedFlags', value: 'FLAG[,FLAG...]' },
  { long: 'ops', short: 'o', arg: 'none', option: 'ops' },
  { long: 'real-server', short: 'r', arg: 'required', option: 'realServer', value: 'ADDRESS[:PORT]' },
  { long: 'gatewaying', short: 'g', arg: 'none', option: 'gatewaying' },
  { long: 'ipip', short: 'i', arg: 'none', option: 'ipip' },
  { long: 'masquerading', short: 'm', arg: 'none', option: 'masquerading' },
  { long: 'weight', short: 'w', arg: 'required', option: 'weight', value: '0-65535' },
  { long: 'u-threshold', short: 'x', arg: 'required', option: 'uThreshold', value: 'CONNECTIONS' },
  { long: 'l-threshold', short: 'y', arg: 'required', option: 'lThreshold', value: 'CONNECTIONS' },
  { long: 'tun-type', arg: 'required', option: 'tunType', value: 'ipip|gue|gre' },
  { long: 'tun-port', arg: 'required', option: 'tunPort', value: 'PORT' },
  { long: 'tun-nocsum', arg: 'none', option: 'tunNocsum' },
  { long: 'tun-csum', arg: 'none', option: 'tunCsum' },
  { long: 'tun-remcsum', arg: 'none', option: 'tunRemcsum' },
  // ipvsadm commands and options that do not belong in a rules file
  ...([
    ['list', 'L'], ['list', 'l'], ['zero', 'Z'], ['restore', 'R'], ['save', 'S'], ['help', 'h'], ['version', 'v'],
  ] as const).map(([long, short]): OptionSpec => ({ long, short, arg: 'none', refused: 'is not a table command (a rules file holds only -A -E -D -a -e -d -C)' })),
  ...['set', 'start-daemon', 'stop-daemon'].map((long): OptionSpec => ({ long, arg: 'none', refused: 'is not a table command (a rules file holds only -A -E -D -a -e -d -C; timeouts and sync daemons are not part of it)' })),
  ...([
    ['numeric', 'n'], ['connection', 'c'], ['exact', 'X'], ['timeout', undefined], ['daemon', undefined], ['stats', undefined], ['rate', undefined],
    ['thresholds', undefined], ['persistent-conn', undefined], ['tun-info', undefined], ['sort', undefined], ['nosort', undefined],
  ] as const).map(([long, short]): OptionSpec => ({ long, short, arg: 'none', refused: 'is a listing option, not part of a rule' })),
  ...['mcast-interface', 'syncid', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen'].map((long): OptionSpec => ({ long, arg: 'none', refused: 'is a sync daemon option, not part of a rule' })),
];

const BY_LONG = new Map(SPECS.map((s) => [s.long, s]));
const BY_SHORT = new Map(SPECS.filter((s) => s.short).map((s) => [s.short!, s]));

const COMMAND_LABEL: Record<RuleCommandName, string> = {
  'add-service': '-A/--add-service',
  'edit-service': '-E/--edit-service',
  'delete-service': '-D/--delete-service',
  'add-server': '-a/--add-server',
  'edit-server': '-e/--edit-server',
  'delete-server': '-d/--delete-server',
  clear: '-C/--clear',
};

/** Which options each command takes (besides the service key and -6, which all but -C take). */
const ALLOWED: Record<RuleCommandName, readonly OptionName[]> = {
  'add-service': SERVICE_SETTING_OPTIONS,
  'edit-service': SERVICE_SETTING_OPTIONS,
  'delete-service': [],
  'add-server': ['realServer', ...SERVER_SETTING_OPTIONS],
  'edit-server': ['realServer', ...SERVER_SETTING_OPTIONS],
  'delete-server': ['realServer'],
  clear: [],
};

const KNOWN = 'a rule takes -A -E -D -a -e -d -C with -t -u --sctp-service -f -6 -s -p -M --pe -b -o -r -g -i -m -w -x -y --tun-type --tun-port --tun-nocsum --tun-csum --tun-remcsum';

const optionLabel = (spec: OptionSpec): string => (spec.short ? `-${spec.short}/--${spec.long}` : `--${spec.long}`);

/** Split a line into words, dropping a `#` comment (a `#` that starts a word). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const w of line.split(/[ \t\r\f\v]+/)) {
    if (w === '') continue;
    if (w.startsWith('#')) break;
    out.push(w);
  }
  return out;
}

interface ParsedLine {
  command: RuleCommandName;
  options: IpvsOptions;
}

/** Read one line's words as ipvsadm's option parser (popt) would. Throws plain messages. */
function parseWords(argv: string[]): ParsedLine {
  let command: RuleCommandName | undefined;
  let commandWord = '';
  const options: Record<string, string | true> = {};
  const seen = new Map<OptionName, string>();

  const take = (spec: OptionSpec, word: string, value: string | true): void => {
    if (spec.refused) throw new Error(`${word} ${spec.refused}`);
    if (spec.command) {
      if (command) throw new Error(`${word}: only one command per line (this line already has ${commandWord})`);
      command = spec.command;
      commandWord = word;
      return;
    }
    const name = spec.option!;
    if (seen.has(name)) throw new Error(`${optionLabel(spec)} is given twice`);
    seen.set(name, word);
    options[name] = value;
  };

  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w.startsWith('--') && w.length > 2) {
      const eq = w.indexOf('=');
      const name = eq === -1 ? w.slice(2) : w.slice(2, eq);
      const spec = BY_LONG.get(name);
      if (!spec) throw new Error(`unknown option --${name} (${KNOWN})`);
      if (spec.refused) take(spec, `--${name}`, true);
      let value: string | true = true;
      if (spec.arg === 'none') {
        if (eq !== -1) throw new Error(`--${name} takes no value (got "${w.slice(eq + 1)}")`);
      } else if (eq !== -1) {
        value = w.slice(eq + 1);
      } else if (spec.arg === 'required') {
        if (i + 1 >= argv.length) throw new Error(`--${name} needs a value (${spec.value ?? 'VALUE'})`);
        value = argv[++i]!;
      } else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
        value = argv[++i]!;
      }
      take(spec, `--${name}`, value);
    } else if (w.startsWith('-') && w.length > 1) {
      // a cluster of short options; the first one that takes a value ends it
      for (let j = 1; j < w.length; j++) {
        const c = w[j]!;
        const spec = BY_SHORT.get(c);
        if (!spec) throw new Error(`unknown option -${c}${w.length > 2 ? ` in ${w}` : ''} (${KNOWN})`);
        if (spec.arg === 'none') {
          take(spec, `-${c}`, true);
          continue;
        }
        let value: string | true = true;
        const rest = w.slice(j + 1);
        if (rest !== '') value = rest;
        else if (spec.arg === 'required') {
          if (i + 1 >= argv.length) throw new Error(`-${c} needs a value (${spec.value ?? 'VALUE'})`);
          value = argv[++i]!;
        } else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
          value = argv[++i]!;
        }
        take(spec, `-${c}`, value);
        break;
      }
    } else {
      throw new Error(`unexpected word "${w}" (every value follows its option, e.g. -t 192.0.2.10:80)`);
    }
  }
  if (!command) throw new Error('no command: a rule starts with one of -A -E -D -a -e -d -C');

  const allowed = new Set<OptionName>(command === 'clear' ? [] : [...SERVICE_KEY_OPTIONS, 'ipv6', ...ALLOWED[command]]);
  for (const name of seen.keys()) {
    if (!allowed.has(name)) {
      const belongs = SERVICE_SETTING_OPTIONS.includes(name) ? ' (it belongs to -A/-E)' : (['realServer', ...SERVER_SETTING_OPTIONS] as OptionName[]).includes(name) ? ' (it belongs to -a/-e)' : '';
      throw new Error(`${OPTION_LABELS[name]} is not an option of ${COMMAND_LABEL[command]}${belongs}`);
    }
  }
  if (command !== 'clear' && !SERVICE_KEY_OPTIONS.some((n) => seen.has(n))) {
    throw new Error(`${commandWord} needs a virtual service: -t/--tcp-service, -u/--udp-service, --sctp-service ADDRESS:PORT or -f/--fwmark-service MARK`);
  }
  if ((command === 'add-server' || command === 'edit-server' || command === 'delete-server') && !seen.has('realServer')) {
    throw new Error(`${commandWord} needs -r/--real-server ADDRESS[:PORT]`);
  }
  return { command, options: options as IpvsOptions };
}

function toCommand(p: ParsedLine, source: string, line: number): RuleCommand {
  const o = p.options;
  switch (p.command) {
    case 'add-service':
    case 'edit-service':
      return { source, line, command: p.command, service: serviceFromOptions(o) };
    case 'delete-service':
      return { source, line, command: p.command, key: serviceKeyFromOptions(o) };
    case 'add-server': {
      const key = serviceKeyFromOptions(o);
      const server = serverFromOptions(o, key);
      return o.uThreshold === undefined && o.lThreshold === undefined
        ? { source, line, command: p.command, key, server, thresholdsOmitted: true }
        : { source, line, command: p.command, key, server };
    }
    case 'edit-server': {
      const key = serviceKeyFromOptions(o);
      return { source, line, command: p.command, key, server: serverFromOptions(o, key) };
    }
    case 'delete-server': {
      const key = serviceKeyFromOptions(o);
      return { source, line, command: p.command, key, server: serverKeyFromOptions(o, key) };
    }
    case 'clear':
      return { source, line, command: 'clear' };
  }
}

/**
 * Parse ipvsadm rules (the output of `ipvsadm -S`, or a hand-written file). Every line is checked
 * before anything is returned; the first bad one is reported as "SOURCE:LINE: problem" (exit 2).
 */
export function parseRules(text: string | Iterable<string>, source = 'stdin'): RuleCommand[] {
  const out: RuleCommand[] = [];
  eachRule(text, source, (c) => out.push(c));
  return out;
}

/** Read the rules line by line, handing each command to `each` as soon as it is read. */
function eachRule(input: string | Iterable<string>, source: string, each: (c: RuleCommand) => void, fast?: (line: string) => boolean): void {
  let n = 0;
  for (const text of typeof input === 'string' ? [input] : input) {
    let at = 0;
    while (at < text.length) {
      n++;
      let end = text.indexOf('\n', at);
      if (end === -1) end = text.length;
      const line = text.slice(at, end);
      at = end + 1;
      eachLine(line, n, source, each, fast);
    }
  }
}

/** One line (number n): the fast path, else the general parser, whose mistakes name SOURCE:LINE. */
function eachLine(line: string, n: number, source: string, each: (c: RuleCommand) => void, fast?: (line: string) => boolean): void {
  // the two line shapes ipvsadm -Sn writes (a plain service, a real server), when every value
  // in them is plainly valid, go straight into the table; anything else, including every
  // mistake, takes the general parser below, which gives the messages
  if (fast?.(line)) return;
  let command: RuleCommand;
  try {
    let argv = words(line);
    if (argv[0] === 'ipvsadm') argv = argv.slice(1);
    if (argv.length === 0) return;
    command = toCommand(parseWords(argv), source, n);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${source}:${n}: ${message}`);
  }
  each(command);
}

/**
 * Real servers whose rule gave neither -x nor -y. ipvsadm's save format has no thresholds (-S
 * leaves them out), so such a line says nothing about them: a converging restore keeps the
 * kernel's thresholds for a server that exists (0 for a new one), and save | restore changes
 * nothing. An -e line resets them (as ipvsadm -e does), so it counts as giving them.
 */
const omitted = new WeakSet<Server>();

/** Did the rule that made this real server leave its thresholds out? */
export function thresholdsOmitted(r: Server): boolean {
  return omitted.has(r);
}

function copyServer(r: Server): Server {
  const c = { ...r };
  if (r.tunnel) c.tunnel = { ...r.tunnel };
  else delete c.tunnel;
  if (omitted.has(r)) omitted.add(c);
  return c;
}

function copyService(s: Service): Service {
  const c = { ...s, schedFlags: [...s.schedFlags], servers: s.servers.map(copyServer) } as Service;
  if (s.persistence) c.persistence = { ...s.persistence };
  return c;
}

const SCHEDULER_NAMES: ReadonlySet<string> = new Set(SCHEDULERS);

// an IPv4 address as inet_ntop writes it (no leading zeros, each part at most 255), a port or
// weight without leading zeros: the values of the lines ipvsadm -Sn writes, matched natively
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const NUMBER = '(?:0|[1-9]\\d{0,4})';
/** -A -t|-u ADDRESS:PORT -s SCHEDULER */
const SERVICE_LINE = new RegExp(`^-A -([tu]) (${IPV4}):(${NUMBER}) -s ([a-z]+)$`);
/** -a -t|-u ADDRESS:PORT -r ADDRESS:PORT -g|-i|-m -w WEIGHT; the server's first octet apart */
const SERVER_LINE = new RegExp(`^-a -([tu]) (${IPV4}):(${NUMBER}) -r ((${OCTET})(?:\\.${OCTET}){3}):(${NUMBER}) -([gim]) -w (${NUMBER})$`);

/**
 * Play `cmds` on a copy of `base` (not changed) and return the resulting table, in the order the
 * services were created. Refuses, naming the line, what the kernel would refuse.
 */
export function applyRules(base: Service[], cmds: RuleCommand[]): Service[] {
  const table = new RuleTable(base);
  for (const c of cmds) table.apply(c);
  return table.services();
}

/**
 * parseRules() and applyRules() in one pass: each line is applied as it is read and not kept,
 * which for 60,000 lines saves most of the memory (and, in User-Mode Linux, most of the time).
 * The first bad line, whether it does not parse or names a missing service, is the one reported.
 */
export function applyRulesText(base: Service[], text: string | Iterable<string>, source = 'stdin'): Service[] {
  const table = new RuleTable(base);
  eachRule(text, source, (c) => table.apply(c), (line) => table.fastLine(line));
  return table.services();
}

class RuleTable {
  private readonly table = new Map<string, Service>();

  constructor(base: Service[]) {
    for (const s of base) this.table.set(serviceId(s), copyService(s));
  }

  services(): Service[] {
    return [...this.table.values()];
  }

  private need(c: RuleCommand, k: ServiceKey): Service {
    const s = this.table.get(serviceId(k));
    if (!s) throw new UsageError(`${c.source}:${c.line}: service ${serviceLabel(k)} does not exist`);
    return s;
  }

  /**
   * `-A -t|-u ADDRESS:PORT -s SCHEDULER` and `-a -t|-u ADDRESS:PORT -r ADDRESS:PORT -g|-i|-m -w
   * WEIGHT` with IPv4 addresses, the lines ipvsadm -Sn writes for plain services and their real
   * servers, applied without the general parser: true when the line was one of them and every
   * value in it is valid (what serviceFromOptions()/serverFromOptions() would make of it, checked
   * by a unit test). False for anything else, mistakes included, which the general parser then
   * reads and reports.
   */
  fastLine(line: string): boolean {
    const c1 = line.charCodeAt(1);
    if (c1 === 65 /* A */) {
      const m = SERVICE_LINE.exec(line);
      if (!m) return false;
      const port = Number(m[3]);
      const id = `${m[1] === 't' ? 'tcp' : 'udp'}:ipv4:${m[2]}:${m[3]}`;
      // port 0 needs persistence, which these lines do not have: the general parser says so
      if (port === 0 || port > 65535 || !SCHEDULER_NAMES.has(m[4]!) || this.table.has(id)) return false;
      this.table.set(id, { family: 'ipv4', protocol: m[1] === 't' ? 'tcp' : 'udp', address: m[2]!, port, scheduler: m[4]!, schedFlags: [], onePacket: false, servers: [] });
      return true;
    }
    if (c1 !== 97 /* a */) return false;
    const m = SERVER_LINE.exec(line);
    if (!m) return false;
    const s = this.table.get(`${m[1] === 't' ? 'tcp' : 'udp'}:ipv4:${m[2]}:${m[3]}`);
    const first = Number(m[5]);
    const weight = Number(m[8]);
    // not unicast (0.0.0.0/8, multicast, broadcast): the general parser explains
    if (!s || first === 0 || (first >= 224 && first <= 239) || m[4] === '255.255.255.255' || weight > MAX_WEIGHT) return false;
    const f = m[7];
    const forward = f === 'm' ? 'masq' : f === 'g' ? 'droute' : 'tunnel';
    // direct routing and tunnelling keep the packet's port: the service's
    const written = Number(m[6]);
    const port = forward === 'masq' ? written : s.port as number;
    const address = m[4]!;
    if (written > 65535 || indexOfServer(s.servers, { family: 'ipv4', address, port }) !== -1) return false;
    const r: Server = { family: 'ipv4', address, port, forward, weight, upperThreshold: 0, lowerThreshold: 0 };
    if (forward === 'tunnel') r.tunnel = { type: 'ipip', checksum: 'nocsum' };
    omitted.add(r);
    s.servers.push(r);
    return true;
  }

  apply(c: RuleCommand): void {
    const table = this.table;
    switch (c.command) {
      case 'clear':
        table.clear();
        break;
      case 'add-service':
        if (table.has(serviceId(c.service))) throw new UsageError(`${c.source}:${c.line}: service ${serviceLabel(c.service)} already exists`);
        table.set(serviceId(c.service), copyService({ ...c.service, servers: [] }));
        break;
      case 'edit-service': {
        const old = this.need(c, c.service);
        table.set(serviceId(c.service), copyService({ ...c.service, servers: old.servers }));
        break;
      }
      case 'delete-service':
        this.need(c, c.key);
        table.delete(serviceId(c.key));
        break;
      case 'add-server': {
        const s = this.need(c, c.key);
        if (indexOfServer(s.servers, c.server) !== -1) {
          throw new UsageError(`${c.source}:${c.line}: real server ${serverLabel(c.server)} of service ${serviceLabel(c.key)} already exists`);
        }
        const r = copyServer(c.server);
        if (c.thresholdsOmitted) omitted.add(r);
        s.servers.push(r);
        break;
      }
      case 'edit-server':
      case 'delete-server': {
        const s = this.need(c, c.key);
        const i = indexOfServer(s.servers, c.server);
        if (i === -1) throw new UsageError(`${c.source}:${c.line}: real server ${serverLabel(c.server)} of service ${serviceLabel(c.key)} does not exist`);
        if (c.command === 'delete-server') s.servers.splice(i, 1);
        else s.servers[i] = copyServer(c.server);
        break;
      }
    }
  }
}
