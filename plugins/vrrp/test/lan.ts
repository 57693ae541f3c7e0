/**
 * A LAN of network namespaces for VRRP interop tests and benchmarks, with keepalived as the
 * reference peer. VRRP can only be judged on the wire and by what the kernel ends up holding, so
 * this builds a real broadcast domain on the host kernel and gives tests the tools to watch it:
 *
 *   hub namespace: bridge br0 (no uplink, multicast snooping off: a dumb switch)
 *     ├─ p-<node>  ──veth──  eth0 in namespace <node>    192.0.2.(10+i)/24, 2001:db8::(10+i)/64
 *     └─ p-<client> ─veth──  eth0 in namespace <client>  192.0.2.(50+j)/24, 2001:db8::(50+j)/64
 *
 * VIPs are for the tests to choose; 192.0.2.100-254 and 2001:db8::100-… are free. Every process
 * this module starts is tracked by PID and stopped by destroy() (also at process exit), and every
 * namespace it made is deleted. Nothing touches the machine's own network.
 *
 * What it offers: per host exec/spawn inside the namespace, the addresses beyond its own (the
 * VIPs), a cut cable (linkDown), VRRP dropped at the switch (block, nft bridge family in the hub);
 * keepalived with a generated configuration; tcpdump parsed into timestamped packets; a UDP echo
 * service on the VIP that answers with the node's name, and a client that measures the outage.
 */
import { ChildProcess, SpawnSyncReturns, spawn } from 'node:child_process';
import { WriteStream, chmodSync, createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { Netns, run, runOk, tempDir } from '@ha/lib/testing';

/** Seconds since the epoch: the clock of tcpdump -tt (CLOCK_REALTIME, as Date.now()). */
export const now = (): number => Date.now() / 1000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Capture filters: pcap's `vrrp` alone is IPv4 only. */
export const FILTER = {
  vrrp: 'ip proto 112 or ip6 proto 112',
  arp: 'arp',
  nd: 'icmp6 and (ip6[40] == 135 or ip6[40] == 136)',
  all: 'ip proto 112 or ip6 proto 112 or arp or (icmp6 and (ip6[40] == 135 or ip6[40] == 136))',
} as const;

/** Polls PREDICATE every 20 ms until it gives a truthy value, which it returns. */
export async function waitFor<T>(predicate: () => T | Promise<T>, timeoutMs: number, what = 'condition'): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------
// processes

export interface SpawnOptions {
  /** Names the log file (default: the command's basename). */
  label?: string;
  env?: NodeJS.ProcessEnv;
  /** Lines kept in memory (default 5000); the log file keeps everything. */
  maxLines?: number;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

type Stream = 'stdout' | 'stderr';
const MAX_PARTIAL = 64 * 1024;

/** A process started inside a namespace, its output in a ring of lines and in a log file. */
export class Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly label: string;
  readonly logFile: string;
  code: number | null = null;
  signal: NodeJS.Signals | null = null;
  /** Resolves when the process has exited (not when its pipes close: children may hold them). */
  readonly exited: Promise<void>;
  private ring: string[] = [];
  private readonly maxLines: number;
  private readonly partial: Record<Stream, string> = { stdout: '', stderr: '' };
  private readonly file: WriteStream;
  private readonly listeners = new Set<(line: string, stream: Stream) => void>();

  constructor(argv: string[], logFile: string, options: SpawnOptions = {}) {
    this.label = options.label ?? argv[0]!;
    this.logFile = logFile;
    this.maxLines = options.maxLines ?? 5000;
    this.file = createWriteStream(logFile, { flags: 'a' });
    if (options.onLine) this.listeners.add(options.onLine);
    this.child = spawn(argv[0]!, argv.slice(1), { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.on('error', (error) => this.take('stderr', `spawn error: ${error.message}\n`));
    if (this.child.pid === undefined) throw new Error(`cannot start ${argv.join(' ')}`);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => {
      this.code = code;
      this.signal = signal;
      resolve();
    }));
    this.child.stdout!.on('data', (b: Buffer) => this.take('stdout', b.toString('utf8')));
    this.child.stderr!.on('data', (b: Buffer) => this.take('stderr', b.toString('utf8')));
  }

  get running(): boolean {
    return this.code === null && this.signal === null;
  }

  onLine(fn: (line: string, stream: Stream) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The kept output, stdout and stderr interleaved as they arrived. */
  log(): string {
    return this.ring.join('\n');
  }

  lines(): readonly string[] {
    return this.ring;
  }

  /** Resolves with the first kept or future line matching RE; rejects if the process exits first. */
  async waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    for (const line of this.ring) {
      const m = line.match(re);
      if (m) return m;
    }
    const hit: { m?: RegExpMatchArray } = {};
    const off = this.onLine((line) => { hit.m ??= line.match(re) ?? undefined; });
    try {
      await waitFor(() => hit.m !== undefined || !this.running, timeoutMs, `${this.label}: a line matching ${re}`);
    } finally {
      off();
    }
    if (!hit.m) throw new Error(`${this.label} exited (${this.code ?? this.signal}) before printing ${re}:\n${this.log().slice(-2000)}`);
    return hit.m;
  }

  /** Sends SIGNAL by PID and waits for the exit; SIGKILL after GRACE_MS. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.send(signal);
    const timer = setTimeout(() => this.send('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }

  send(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  private take(stream: Stream, text: string): void {
    this.file.write(text);
    const parts = (this.partial[stream] + text).split('\n');
    const rest = parts.pop()!;
    this.partial[stream] = rest.length > MAX_PARTIAL ? rest.slice(-MAX_PARTIAL) : rest;
    for (const line of parts) {
      this.ring.push(line);
      for (const fn of this.listeners) fn(line, stream);
    }
    if (this.ring.length > 2 * this.maxLines) this.ring = this.ring.slice(-this.maxLines);
  }

  /** Flushes the log file (destroy calls it). */
  close(): void {
    this.file.end();
  }
}

/** A PID is gone when /proc has no entry for it or it is a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// hosts

export interface Address {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope?: string;
}

/** One namespace on the LAN: a VRRP node or a client. */
export class LanNode {
  readonly ifname = 'eth0' as const;
  /** The link-local IPv6 address of eth0. */
  linkLocal6: string | undefined;

  constructor(
    readonly lan: Lan,
    readonly name: string,
    readonly role: 'node' | 'client',
    readonly ns: Netns,
    readonly address: string,
    readonly address6: string | undefined,
    readonly mac: string,
    /** The bridge-side end of this host's veth, in the hub namespace. */
    readonly hubPort: string,
  ) {}

  /** Runs a command inside the namespace (a string goes through sh -c). */
  exec(cmd: string[] | string, input?: string): SpawnSyncReturns<string> {
    return this.ns.exec(typeof cmd === 'string' ? ['sh', '-c', cmd] : cmd, input);
  }

  /** exec, throwing on a non-zero exit; returns stdout. */
  execOk(cmd: string[] | string): string {
    const r = this.exec(cmd);
    if (r.status !== 0) throw new Error(`${this.name}: ${[cmd].flat().join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** A process inside the namespace, tracked by the LAN and stopped by destroy(). */
  spawn(cmd: string[], options: SpawnOptions = {}): Proc {
    return this.lan.spawnIn(this.ns, this.name, cmd, options);
  }

  sysctl(key: string, value: string | number): void {
    this.execOk(['sysctl', '-qw', `${key}=${value}`]);
  }

  /** Every address on eth0. */
  addresses(): Address[] {
    const [link] = this.ns.ipJson<Array<{ addr_info?: Address[] }>>('addr', 'show', 'dev', this.ifname);
    return link?.addr_info ?? [];
  }

  /** The addresses on eth0 beyond the host's own (its address, address6 and link-local). */
  vips(): string[] {
    const own = new Set([this.address, this.address6, this.linkLocal6].filter(Boolean));
    return this.addresses().map((a) => a.local).filter((a) => !own.has(a));
  }

  /** Cuts the cable: the bridge-side veth goes down, eth0 loses carrier. */
  linkDown(): void {
    this.lan.hub.ip('link', 'set', this.hubPort, 'down');
  }

  linkUp(): void {
    this.lan.hub.ip('link', 'set', this.hubPort, 'up');
  }

  /** The switch drops VRRP (IP protocol 112, both families) to and from this host; ARP and data pass. */
  block(): void {
    this.lan.nft(`add element bridge ha_lan blocked { "${this.hubPort}" }`);
  }

  unblock(): void {
    this.lan.nft(`delete element bridge ha_lan blocked { "${this.hubPort}" }`);
  }

  /** Does this packet come from this host (by MAC, or by source address)? */
  sent(p: Packet): boolean {
    return p.srcMac === this.mac || (p.src !== undefined && (p.src === this.address || p.src === this.address6 || p.src === this.linkLocal6));
  }
}

// ---------------------------------------------------------------------------------------------
// keepalived

export interface KeepalivedInstance {
  /** vrrp_instance name (default VI_<vrid>). */
  name?: string;
  state?: 'MASTER' | 'BACKUP';
  /** default eth0 */
  interface?: string;
  vrid: number;
  priority: number;
  /** seconds (default 1) */
  advertInt?: number;
  version?: 2 | 3;
  nopreempt?: boolean;
  /** seconds */
  preemptDelay?: number;
  /** authentication PASS (VRRPv2 only) */
  authPass?: string;
  /** addresses with or without a prefix; ` dev <interface>` is added unless given */
  vips: string[];
  unicastSrc?: string;
  unicastPeers?: string[];
  /** a notify script path, or true for one that logs its arguments (see KeepalivedProc.notifications) */
  notify?: string | boolean;
  /** raw lines added to the vrrp_instance block */
  extra?: string[];
}

export interface KeepalivedConfig {
  instances: KeepalivedInstance[];
  /** global_defs vrrp_version */
  vrrpVersion?: 2 | 3;
  /** raw lines added to global_defs */
  globalExtra?: string[];
}

const CONF_WORD = /^[A-Za-z0-9_.:/@+-]+$/;

function confWord(what: string, value: string): string {
  if (!CONF_WORD.test(value)) throw new Error(`keepalived ${what}: ${JSON.stringify(value)} is not a plain word`);
  return value;
}

/** keepalived.conf text for these instances. NOTIFY_SCRIPT is used for `notify: true`. */
export function keepalivedConf(config: KeepalivedConfig, notifyScript?: string): string {
  const out = ['global_defs {', '  script_user root'];
  if (config.vrrpVersion) out.push(`  vrrp_version ${config.vrrpVersion}`);
  for (const line of config.globalExtra ?? []) out.push(`  ${line}`);
  out.push('}', '');
  for (const i of config.instances) {
    const dev = confWord('interface', i.interface ?? 'eth0');
    out.push(`vrrp_instance ${confWord('name', i.name ?? `VI_${i.vrid}`)} {`);
    out.push(`  state ${i.state ?? 'BACKUP'}`, `  interface ${dev}`, `  virtual_router_id ${i.vrid}`, `  priority ${i.priority}`);
    out.push(`  advert_int ${i.advertInt ?? 1}`);
    if (i.version) out.push(`  version ${i.version}`);
    if (i.nopreempt) out.push('  nopreempt');
    if (i.preemptDelay !== undefined) out.push(`  preempt_delay ${i.preemptDelay}`);
    if (i.authPass !== undefined) out.push('  authentication {', '    auth_type PASS', `    auth_pass ${confWord('auth_pass', i.authPass)}`, '  }');
    if (i.unicastSrc) out.push(`  unicast_src_ip ${confWord('unicast_src_ip', i.unicastSrc)}`);
    if (i.unicastPeers?.length) out.push('  unicast_peer {', ...i.unicastPeers.map((p) => `    ${confWord('unicast_peer', p)}`), '  }');
    const notify = i.notify === true ? notifyScript : i.notify || undefined;
    if (notify) out.push(`  notify ${confWord('notify', notify)}`);
    out.push('  virtual_ipaddress {');
    for (const vip of i.vips) out.push(`    ${vip.includes(' dev ') ? vip : `${confWord('vip', vip)} dev ${dev}`}`);
    out.push('  }');
    for (const line of i.extra ?? []) out.push(`  ${line}`);
    out.push('}', '');
  }
  return out.join('\n');
}

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

/** A keepalived run by the LAN: parent (PID) plus its VRRP child (and checker, if any). */
export class KeepalivedProc {
  constructor(
    readonly node: LanNode,
    readonly proc: Proc,
    readonly conf: string,
    readonly pidFiles: { main: string; vrrp: string; check: string },
    readonly notifyLog: string,
  ) {}

  get pid(): number {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.running;
  }

  /** The children's PIDs from the pid files, only those that are still keepalived of this conf. */
  childPids(): number[] {
    const pids: number[] = [];
    for (const f of [this.pidFiles.vrrp, this.pidFiles.check]) {
      if (!existsSync(f)) continue;
      const pid = Number(readFileSync(f, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 1 && pidAlive(pid) && cmdline(pid).includes(this.conf)) pids.push(pid);
    }
    return pids;
  }

  /** Every live process of this keepalived (for CPU and memory figures). */
  pids(): number[] {
    return [...(this.running ? [this.pid] : []), ...this.childPids()];
  }

  log(): string {
    return this.proc.log();
  }

  /** The last state keepalived logged for INSTANCE (default: the first instance that logged one). */
  state(instance?: string): VrrpState | undefined {
    let last: VrrpState | undefined;
    for (const line of this.proc.lines()) {
      const m = line.match(/\((\S+)\) Entering (\w+) STATE/);
      if (m && (instance === undefined || m[1] === instance)) {
        instance ??= m[1];
        last = m[2] as VrrpState;
      }
    }
    return last;
  }

  async waitState(state: VrrpState, timeoutMs: number, instance?: string): Promise<void> {
    await waitFor(() => this.state(instance) === state, timeoutMs, `${this.node.name} keepalived ${instance ?? ''} ${state} (log:\n${this.log().slice(-1500)})`);
  }

  /** Lines written by the `notify: true` script: "<epoch seconds> <type> <name> <state> <priority>". */
  notifications(): string[] {
    return existsSync(this.notifyLog) ? readFileSync(this.notifyLog, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** Graceful: SIGTERM by PID (keepalived sends priority 0 and removes its VIPs), wait for every process. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const children = this.childPids();
    await this.proc.stop('SIGTERM', timeoutMs);
    await this.reap(children);
  }

  /** Abrupt, like a crash: no priority-0 advert, the VIPs stay on the interface. */
  async kill(): Promise<void> {
    const children = this.killNow();
    await this.proc.exited;
    await this.reap(children);
  }

  /**
   * The order matters: the children get SIGTERM when their parent dies (and would send a priority-0
   * advert), and the parent respawns a child that dies. So: stop the parent, kill the children,
   * then kill the parent.
   */
  killNow(): number[] {
    const children = this.childPids();
    this.proc.send('SIGSTOP');
    for (const pid of children) killPid(pid, 'SIGKILL');
    this.proc.send('SIGKILL');
    return children;
  }

  private async reap(children: number[]): Promise<void> {
    await waitFor(() => children.every((pid) => !pidAlive(pid)), 5000, `keepalived children ${children.join(',')} to exit`).catch(() => {
      for (const pid of children) killPid(pid, 'SIGKILL');
    });
  }
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

// ---------------------------------------------------------------------------------------------
// tcpdump

export interface Packet {
  /** seconds since the epoch (tcpdump -tt) */
  t: number;
  srcMac: string;
  dstMac: string;
  ethertype: string;
  kind: 'vrrp' | 'arp' | 'ns' | 'na' | 'other';
  src?: string;
  dst?: string;
  /** IPv4 TTL or IPv6 hop limit (tcpdump -v) */
  ttl?: number;
  version?: number;
  /** VRRP packet type (Advertisement) */
  type?: string;
  vrid?: number;
  prio?: number;
  /** advertisement interval in seconds */
  intvl?: number;
  authtype?: string;
  auth?: string;
  addrs?: string[];
  /** ARP */
  op?: 'request' | 'reply';
  /** ARP who-has / is-at address; NS who-has; NA tgt */
  target?: string;
  /** ARP tell (sender protocol address) */
  sender?: string;
  /** ARP reply's is-at */
  lladdr?: string;
  /** NA flags, e.g. "override" */
  flags?: string;
  /** the whole text tcpdump printed */
  line: string;
}

const MAC = '[0-9a-f]{2}(?::[0-9a-f]{2}){5}';
const HEAD = new RegExp(`^(\\d+\\.\\d+) (${MAC}) > (${MAC}), ethertype (\\S+) \\(0x[0-9a-f]+\\), length \\d+: (.*)$`);

/** Strips a leading "( … )" (nested once, as in "proto VRRP (112)"). */
function leadingParen(s: string): [string, string] {
  if (!s.startsWith('(')) return ['', s];
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return [s.slice(1, i), s.slice(i + 1).trimStart()];
  }
  return ['', s];
}

/** One packet as printed by `tcpdump -n -tt -e [-v]` (continuation lines joined with spaces). */
export function parseTcpdump(text: string): Packet | undefined {
  const head = text.match(HEAD);
  if (!head) return undefined;
  const p: Packet = { t: Number(head[1]), srcMac: head[2]!, dstMac: head[3]!, ethertype: head[4]!, kind: 'other', line: text };
  let rest = head[5]!;
  if (p.ethertype === 'ARP') {
    p.kind = 'arp';
    const req = rest.match(/Request who-has (\S+)(?: \([0-9a-f:]+\))? tell ([^,\s]+)/);
    const rep = rest.match(/Reply (\S+) is-at ([0-9a-f:]+)/);
    if (req) Object.assign(p, { op: 'request', target: req[1], sender: req[2] });
    if (rep) Object.assign(p, { op: 'reply', target: rep[1], lladdr: rep[2] });
    return p;
  }
  const [ipHeader, body] = leadingParen(rest);
  rest = body;
  const ttl = ipHeader.match(/\b(?:ttl|hlim) (\d+)/);
  if (ttl) p.ttl = Number(ttl[1]);
  const ip = rest.match(/^(\S+) > (\S+): (.*)$/);
  if (!ip) return p;
  p.src = ip[1]!;
  p.dst = ip[2]!;
  rest = ip[3]!;
  const vrrp = rest.match(/^VRRPv(\d), ([\w-]+), vrid (\d+), prio (\d+), (?:authtype ([\w-]+), )?intvl (\d+)(cs|s), length \d+(.*)$/);
  if (vrrp) {
    Object.assign(p, { kind: 'vrrp', version: Number(vrrp[1]), type: vrrp[2], vrid: Number(vrrp[3]), prio: Number(vrrp[4]) });
    if (vrrp[5]) p.authtype = vrrp[5];
    p.intvl = Number(vrrp[6]) / (vrrp[7] === 'cs' ? 100 : 1);
    const addrs = vrrp[8]!.match(/addrs(?:\(\d+\))?: ([^\s]+)/);
    if (addrs) p.addrs = addrs[1]!.split(',');
    const auth = vrrp[8]!.match(/auth "([^"]*)"/);
    if (auth) p.auth = auth[1];
    return p;
  }
  const na = rest.match(/neighbor advertisement, (?:length \d+, )?tgt is ([^,\s]+)(?:, Flags \[([^\]]*)\])?/);
  if (na) {
    Object.assign(p, { kind: 'na', target: na[1] });
    if (na[2] !== undefined) p.flags = na[2];
    return p;
  }
  const ns = rest.match(/neighbor solicitation, (?:length \d+, )?who has ([^,\s]+)/);
  if (ns) Object.assign(p, { kind: 'ns', target: ns[1] });
  return p;
}

export interface AdvertQuery {
  from?: LanNode;
  vrid?: number;
  /** t >= since */
  since?: number;
  /** t < until */
  until?: number;
  prio?: number;
}

const MAX_PACKETS = 200_000;

/** tcpdump running in a namespace, its lines parsed as they come. */
export class Capture {
  private list: Packet[] = [];
  private pending: string | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<(p: Packet) => void>();

  constructor(readonly proc: Proc) {
    proc.onLine((line, stream) => {
      if (stream === 'stdout') this.line(line);
    });
  }

  /** Every packet so far (oldest first; the oldest are dropped beyond 200,000). */
  get packets(): readonly Packet[] {
    this.flush();
    return this.list;
  }

  vrrp(q: AdvertQuery = {}): Packet[] {
    return this.packets.filter((p) => p.kind === 'vrrp' && matches(p, q));
  }

  /** The first packet (already seen or to come) for which PRED holds. */
  async waitFor(pred: (p: Packet) => boolean, timeoutMs: number, what = 'a packet'): Promise<Packet> {
    const seen = this.packets.find(pred);
    if (seen) return seen;
    return new Promise((resolve, reject) => {
      const done = (p: Packet): void => {
        if (!pred(p)) return;
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(p);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; tcpdump said:\n${this.proc.lines().slice(-8).join("\n")}`));
      }, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** The first advert matching Q, waiting for it. */
  advert(q: AdvertQuery, timeoutMs: number): Promise<Packet> {
    return this.waitFor((p) => p.kind === 'vrrp' && matches(p, q), timeoutMs, `an advert ${describe(q)}`);
  }

  clear(): void {
    this.flush();
    this.list = [];
  }

  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', 2000);
    this.flush();
  }

  private line(line: string): void {
    if (/^\s/.test(line) && this.pending !== undefined) {
      this.pending += ` ${line.trim()}`;
    } else {
      this.flush();
      this.pending = line;
    }
    clearTimeout(this.flushTimer);
    // VRRP and ARP are whole once their body is there; others may have option lines to come
    const kind = this.pending === undefined ? undefined : parseTcpdump(this.pending)?.kind;
    if (kind === 'vrrp' || kind === 'arp') this.flush();
    else this.flushTimer = setTimeout(() => this.flush(), 30);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    if (this.pending === undefined) return;
    const p = parseTcpdump(this.pending);
    this.pending = undefined;
    if (!p) return;
    this.list.push(p);
    if (this.list.length > MAX_PACKETS) this.list = this.list.slice(-MAX_PACKETS / 2);
    for (const w of [...this.waiters]) w(p);
  }
}

function matches(p: Packet, q: AdvertQuery): boolean {
  return (q.from === undefined || q.from.sent(p)) && (q.vrid === undefined || p.vrid === q.vrid) && (q.prio === undefined || p.prio === q.prio)
    && (q.since === undefined || p.t >= q.since) && (q.until === undefined || p.t < q.until);
}

function describe(q: AdvertQuery): string {
  return Object.entries({ ...q, from: q.from?.name }).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(' ');
}

// ---------------------------------------------------------------------------------------------
// echo service and client

/** Answers every datagram with "<node name> <datagram>", bound to the VIP (non-local bind). */
const ECHO_JS = `
const dgram = require('node:dgram');
const [name, vip, port] = process.argv.slice(1);
const s = dgram.createSocket(vip.includes(':') ? 'udp6' : 'udp4');
s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from(name + ' '), m]), r.port, r.address));
s.on('error', (e) => { console.error(e.message); process.exit(1); });
s.bind(Number(port), vip, () => console.log('ready'));
`;

/** Sends "<seq> <epoch ms>" every INTERVAL ms; prints "S seq t" per send and "R seq sent t by" per reply. */
const CLIENT_JS = `
const dgram = require('node:dgram');
const [vip, port, interval] = process.argv.slice(1);
const now = () => Date.now();
const s = dgram.createSocket(vip.includes(':') ? 'udp6' : 'udp4');
s.on('message', (m) => {
  const [by, seq, sent] = m.toString().split(' ');
  process.stdout.write('R ' + seq + ' ' + sent + ' ' + now() + ' ' + by + '\\n');
});
s.on('error', () => {});
let seq = 0;
console.log('ready');
setInterval(() => {
  const t = now();
  s.send(Buffer.from(seq + ' ' + t), Number(port), vip, () => {});
  process.stdout.write('S ' + seq++ + ' ' + t + '\\n');
}, Number(interval));
`;

export interface Reply {
  seq: number;
  /** seconds since the epoch */
  sent: number;
  t: number;
  /** the node that answered */
  by: string;
}

export interface Outage {
  /** the longest time between two consecutive replies, seconds */
  gap: number;
  /** the reply before the gap and the one after it */
  before?: Reply;
  after?: Reply;
  /** datagrams sent (in the window) that got no reply */
  lost: number;
  sent: number;
}

const MAX_REPLIES = 200_000;

export class EchoClient {
  private sends: Array<{ seq: number; t: number }> = [];
  private list: Reply[] = [];

  constructor(readonly proc: Proc, readonly intervalMs: number) {
    proc.onLine((line, stream) => {
      if (stream !== 'stdout') return;
      const f = line.split(' ');
      if (f[0] === 'S') this.sends.push({ seq: Number(f[1]), t: Number(f[2]) / 1000 });
      else if (f[0] === 'R') this.list.push({ seq: Number(f[1]), sent: Number(f[2]) / 1000, t: Number(f[3]) / 1000, by: f[4] ?? '' });
      if (this.sends.length > MAX_REPLIES) this.sends = this.sends.slice(-MAX_REPLIES / 2);
      if (this.list.length > MAX_REPLIES) this.list = this.list.slice(-MAX_REPLIES / 2);
    });
  }

  get replies(): readonly Reply[] {
    return this.list;
  }

  get sent(): number {
    return this.sends.length;
  }

  lastBy(): string | undefined {
    return this.list[this.list.length - 1]?.by;
  }

  /** The longest silence between replies to datagrams sent at or after SINCE (until UNTIL). */
  outage(since = 0, until = Infinity): Outage {
    const replies = this.list.filter((r) => r.sent >= since && r.sent < until);
    const sends = this.sends.filter((s) => s.t >= since && s.t < until);
    const answered = new Set(replies.map((r) => r.seq));
    const out: Outage = { gap: 0, lost: sends.filter((s) => !answered.has(s.seq)).length, sent: sends.length };
    for (let i = 1; i < replies.length; i++) {
      const gap = replies[i]!.t - replies[i - 1]!.t;
      if (gap > out.gap) Object.assign(out, { gap, before: replies[i - 1], after: replies[i] });
    }
    return out;
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// the LAN

export interface LanOptions {
  nodes: string[];
  clients?: string[];
  ipv6?: boolean;
}

export interface Neighbour {
  dst: string;
  lladdr?: string;
  state: string;
}

const NAME = /^[a-z][a-z0-9]{0,11}$/;
const live = new Set<Lan>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const lan of live) lan.destroyNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const lan of live) lan.destroyNow();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

export class Lan {
  readonly dir: string;
  readonly nodes: LanNode[] = [];
  readonly clients: LanNode[] = [];
  private readonly namespaces: Netns[] = [];
  private readonly procs = new Set<Proc>();
  private readonly keepaliveds: KeepalivedProc[] = [];
  private readonly removeDir: () => void;
  private nftReady = false;
  private seq = 0;
  readonly hub: Netns;

  private constructor(readonly ipv6: boolean) {
    const dir = tempDir('vrrp-lan');
    this.dir = dir.path;
    this.removeDir = dir.remove;
    live.add(this);
    hookExit();
    this.hub = this.netns('lan');
  }

  static async create(options: LanOptions): Promise<Lan> {
    const names = [...options.nodes, ...(options.clients ?? [])];
    for (const n of names) if (!NAME.test(n)) throw new Error(`LAN host name ${JSON.stringify(n)}: 1-12 lower-case letters and digits, starting with a letter`);
    if (new Set(names).size !== names.length) throw new Error(`LAN host names must be unique: ${names.join(', ')}`);
    if (options.nodes.length > 40 || (options.clients?.length ?? 0) > 40) throw new Error('at most 40 nodes and 40 clients');
    const lan = new Lan(options.ipv6 ?? false);
    try {
      lan.sysctls(lan.hub, { 'net.ipv6.conf.all.disable_ipv6': 1, 'net.ipv6.conf.default.disable_ipv6': 1 });
      lan.hub.ip('link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
      lan.hub.ip('link', 'set', 'br0', 'up');
      options.nodes.forEach((n, i) => lan.nodes.push(lan.host(n, 'node', 10 + i)));
      (options.clients ?? []).forEach((n, i) => lan.clients.push(lan.host(n, 'client', 50 + i)));
      // IPv6 is on in every host (a speaker may open IPv6 sockets); its link-local is not a VIP
      {
        for (const h of lan.hosts()) {
          h.linkLocal6 = await waitFor(() => h.addresses().find((a) => a.family === 'inet6' && a.scope === 'link')?.local, 3000, `${h.name}: link-local address`);
        }
      }
      return lan;
    } catch (error) {
      await lan.destroy();
      throw error;
    }
  }

  hosts(): LanNode[] {
    return [...this.nodes, ...this.clients];
  }

  /** A node or a client by name. */
  node(name: string): LanNode {
    const h = this.hosts().find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name} on this LAN (${this.hosts().map((x) => x.name).join(', ')})`);
    return h;
  }

  /** Starts keepalived in NODE's namespace with this configuration; resolves once its VRRP child runs. */
  async keepalived(node: LanNode | string, config: KeepalivedInstance | KeepalivedInstance[] | KeepalivedConfig | string): Promise<KeepalivedProc> {
    const host = typeof node === 'string' ? this.node(node) : node;
    const base = join(this.dir, `${host.name}-keepalived-${++this.seq}`);
    const notifyScript = `${base}.notify.sh`;
    const notifyLog = `${base}.notify.log`;
    writeFileSync(notifyScript, `#!/bin/sh\necho "$(date +%s.%N) $*" >> ${notifyLog}\n`);
    chmodSync(notifyScript, 0o755);
    const cfg: KeepalivedConfig | string = typeof config === 'string' ? config : Array.isArray(config) ? { instances: config } : 'instances' in config ? config : { instances: [config] };
    const conf = `${base}.conf`;
    writeFileSync(conf, typeof cfg === 'string' ? cfg : keepalivedConf(cfg, notifyScript));
    const pidFiles = { main: `${base}.pid`, vrrp: `${base}.vrrp.pid`, check: `${base}.check.pid` };
    const proc = host.spawn(['keepalived', '-f', conf, '-p', pidFiles.main, '-r', pidFiles.vrrp, '-c', pidFiles.check, '-l', '-D', '-n'], { label: `keepalived-${this.seq}` });
    const k = new KeepalivedProc(host, proc, conf, pidFiles, notifyLog);
    this.keepaliveds.push(k);
    await waitFor(() => k.childPids().length > 0 || !proc.running, 10_000, `${host.name}: keepalived's VRRP child`);
    if (!proc.running) throw new Error(`${host.name}: keepalived exited (${proc.code ?? proc.signal}):\n${proc.log().slice(-2000)}`);
    return k;
  }

  /** tcpdump on eth0 of a host, or on br0 of the hub (which sees every frame); resolves once it listens. */
  async capture(where: LanNode | 'hub', filter: string = FILTER.all, options: { verbose?: boolean } = {}): Promise<Capture> {
    const [ns, iface, name] = where === 'hub' ? [this.hub, 'br0', 'hub'] : [where.ns, where.ifname, where.name];
    const argv = ['tcpdump', '-i', iface, '-n', '-tt', '-l', '-e', ...(options.verbose === false ? [] : ['-vv']), '--immediate-mode', filter];
    const proc = this.spawnIn(ns, name, argv, { label: `tcpdump-${++this.seq}`, maxLines: 2000 });
    const capture = new Capture(proc);
    await proc.waitForLine(/listening on/, 5000);
    return capture;
  }

  waitFor<T>(predicate: () => T | Promise<T>, timeoutMs: number, what?: string): Promise<NonNullable<T>> {
    return waitFor(predicate, timeoutMs, what);
  }

  /** A UDP echo on VIP:PORT in NODE (bound before the VIP exists: ip_nonlocal_bind), answering with its name. */
  async echoServer(node: LanNode | string, vip: string, port: number): Promise<Proc> {
    const host = typeof node === 'string' ? this.node(node) : node;
    host.sysctl(isIPv6(vip) ? 'net.ipv6.ip_nonlocal_bind' : 'net.ipv4.ip_nonlocal_bind', 1);
    const proc = host.spawn([process.execPath, '-e', ECHO_JS, host.name, vip, String(port)], { label: `echo-${++this.seq}` });
    await proc.waitForLine(/^ready$/, 5000);
    return proc;
  }

  /** A client sending a numbered datagram to VIP:PORT every intervalMs and recording the replies. */
  async client(client: LanNode | string, vip: string, port: number, options: { intervalMs?: number } = {}): Promise<EchoClient> {
    const host = typeof client === 'string' ? this.node(client) : client;
    const intervalMs = options.intervalMs ?? 20;
    const proc = host.spawn([process.execPath, '-e', CLIENT_JS, vip, String(port), String(intervalMs)], { label: `client-${++this.seq}`, maxLines: 1000 });
    const c = new EchoClient(proc, intervalMs);
    await proc.waitForLine(/^ready$/, 5000);
    return c;
  }

  /** HOST's neighbour entry for ADDRESS on eth0, if any. */
  neighbour(host: LanNode | string, address: string): Neighbour | undefined {
    const h = typeof host === 'string' ? this.node(host) : host;
    const entries = h.ns.ipJson<Array<{ dst: string; lladdr?: string; state?: string[] }>>(isIPv6(address) ? '-6' : '-4', 'neigh', 'show', address, 'dev', h.ifname);
    const e = entries.find((x) => x.dst === address);
    return e && { dst: e.dst, lladdr: e.lladdr, state: (e.state ?? []).join(',') };
  }

  /** Stops every process it started (SIGKILL by PID, keepalived's children too) and deletes every namespace. */
  async destroy(): Promise<void> {
    for (const k of this.keepaliveds) if (k.running || k.childPids().length) await k.kill();
    await Promise.all([...this.procs].map((p) => p.kill()));
    this.finish();
  }

  /** destroy() without waiting, for exit handlers. */
  destroyNow(): void {
    for (const k of this.keepaliveds) k.killNow();
    for (const p of this.procs) p.send('SIGKILL');
    this.finish();
  }

  // -- internals used by LanNode ---------------------------------------------------------------

  spawnIn(ns: Netns, hostName: string, cmd: string[], options: SpawnOptions): Proc {
    const label = options.label ?? `${cmd[0]!.split('/').pop()}-${++this.seq}`;
    const proc = new Proc([...ns.wrap, ...cmd], join(this.dir, `${hostName}-${label}.log`), { ...options, label: `${hostName}/${label}` });
    this.procs.add(proc);
    return proc;
  }

  nft(command: string): void {
    if (!this.nftReady) {
      const table = [
        'table bridge ha_lan {',
        '  set blocked { type ifname; }',
        '  chain forward {',
        '    type filter hook forward priority 0; policy accept;',
        '    iifname @blocked ip protocol 112 drop',
        '    oifname @blocked ip protocol 112 drop',
        '    iifname @blocked ip6 nexthdr 112 drop',
        '    oifname @blocked ip6 nexthdr 112 drop',
        '  }',
        '}',
      ].join('\n');
      this.nftRun(table);
      this.nftReady = true;
    }
    this.nftRun(command);
  }

  private nftRun(script: string): void {
    let r;
    try {
      r = run([...this.hub.wrap, 'nft', '-f', '-'], `${script}\n`);
    } catch (error) {
      throw new Error(`nft failed (${(error as Error).message}): block() needs nftables (apt-get install -y nftables)`);
    }
    if (r.status !== 0) throw new Error(`nft in the hub namespace: ${r.stderr.trim()}${r.status === 127 ? ' (apt-get install -y nftables)' : ''}`);
  }

  private finish(): void {
    for (const p of this.procs) p.close();
    this.procs.clear();
    for (const ns of this.namespaces.splice(0)) ns.destroy();
    if (!process.env.HA_KEEP_LAN_LOGS) this.removeDir();
    live.delete(this);
  }

  private netns(label: string): Netns {
    const ns = Netns.create(label);
    this.namespaces.push(ns);
    return ns;
  }

  private sysctls(ns: Netns, values: Record<string, string | number>): void {
    runOk([...ns.wrap, 'sysctl', '-qw', ...Object.entries(values).map(([k, v]) => `${k}=${v}`)]);
  }

  private host(name: string, role: 'node' | 'client', octet: number): LanNode {
    const ns = this.netns(name);
    // before any interface exists, so that eth0 inherits them
    this.sysctls(ns, {
      'net.ipv6.conf.all.accept_dad': 0,
      'net.ipv6.conf.default.accept_dad': 0,
      'net.ipv6.conf.all.accept_ra': 0,
      'net.ipv6.conf.default.accept_ra': 0,
      'net.ipv4.conf.all.arp_ignore': 0,
      'net.ipv4.conf.all.arp_announce': 0,
      'net.ipv4.conf.all.rp_filter': 0,
      'net.ipv4.conf.default.rp_filter': 0,
    });
    const mac = `02:00:c0:00:02:${octet.toString(16).padStart(2, '0')}`;
    const port = `p-${name}`;
    ns.ip('link', 'add', 'eth0', 'address', mac, 'type', 'veth', 'peer', 'name', port, 'netns', this.hub.name);
    this.hub.ip('link', 'set', port, 'master', 'br0', 'up');
    const address = `192.0.2.${octet}`;
    const address6 = this.ipv6 ? `2001:db8::${octet}` : undefined;
    ns.ip('addr', 'add', `${address}/24`, 'dev', 'eth0');
    if (address6) ns.ip('addr', 'add', `${address6}/64`, 'dev', 'eth0', 'nodad');
    ns.ip('link', 'set', 'eth0', 'up');
    return new LanNode(this, name, role, ns, address, address6, mac, port);
  }
}
