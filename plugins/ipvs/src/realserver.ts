/**
 * Real servers for LVS direct routing and IPIP tunnelling: the virtual IP on a local interface that
 * never answers ARP for it, checked, set up and torn down.
 *
 * With direct routing (ipvsadm -g) the director rewrites only the destination MAC address, so the
 * real server receives packets addressed to the VIP and must accept them as local: the VIP goes on
 * `lo` as a host address (/32, IPv6 /128; a shorter prefix on lo would make the whole subnet local).
 * Every real server then owns the VIP, so none of them may answer ARP for it, or clients would reach
 * a real server directly: `arp_ignore = 1` (answer only for addresses of the receiving interface) and
 * `arp_announce = 2` (never use the VIP as the source of ARP requests), on `all` and on the VIP's
 * interface, are set BEFORE the address appears, so that there is no window in which the host
 * answers. IPv6 needs no sysctl: Linux answers neighbour solicitations for a global address only
 * on the interface that holds it.
 *
 * With tunnelling (ipvsadm -i) the director wraps each packet in IPIP; the ipip module's fallback
 * device `tunl0` decapsulates it and the VIP goes there. The inner packet carries the client's
 * source address and arrives on tunl0, while the route back to the client leaves through another
 * interface, so reverse-path filtering would drop it: `rp_filter = 0` on tunl0 and on `all` (the
 * kernel uses the larger of the two).
 *
 * The values setup replaced are recorded in $HA_RUN_DIR (default /run/ha), one file per network
 * namespace, so that teardown can put them back; /run is emptied at boot, as the kernel settings
 * are. Teardown restores them only when no VIP that needs them remains.
 */
import { statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as Flags from '@oclif/core/flags';
import { HaError, OperationError, RunError, UnavailableError, UsageError, runSteps, runDir, type Step } from '@ha/lib';
import {
  Address, IpFamily, Link, NetlinkError, addAddress, confSysctl, deleteAddress, formatIp, getLink, listAddresses, listLinks,
  parseIp, readSysctl, setLinkUp, writeSysctl,
} from '@ha/lib/netlink';

/** Direct routing (ipvsadm -g, "Route") or IPIP tunnelling (ipvsadm -i, "Tunnel"). */
export type RealserverMode = 'droute' | 'tunnel';

export const LOOPBACK_DEVICE = 'lo';
export const TUNNEL_DEVICE = 'tunl0';

export function deviceFor(mode: RealserverMode): string {
  return mode === 'tunnel' ? TUNNEL_DEVICE : LOOPBACK_DEVICE;
}

export function modeText(mode: RealserverMode): string {
  return mode === 'tunnel' ? 'IPIP tunnelling (VIPs on tunl0)' : 'direct routing (VIPs on lo)';
}

/** The flags the three realserver commands share. */
export const realserverFlags = {
  vip: Flags.string({
    summary: 'A virtual IP address the director sends to this host (repeat, or separate with commas).',
    description: 'An IPv4 or IPv6 address without a prefix length; it is added as /32 (IPv6 /128).',
    helpValue: 'ADDR',
    multiple: true,
    multipleNonGreedy: true,
    // not `required`: parseVips says what is missing in one line, where oclif needs three
    delimiter: ',',
  }),
  tunnel: Flags.boolean({
    summary: 'IPIP tunnel mode (ipvsadm -i): the VIPs go on tunl0 instead of lo.',
    default: false,
  }),
};

// ---- the VIPs ----

export interface Vip {
  /** As inet_ntop prints it. */
  address: string;
  family: IpFamily;
  /** "192.0.2.10/32", "2001:db8::10/128". */
  prefix: string;
}

function inV4(b: Buffer, net: number, bits: number): boolean {
  return b.readUInt32BE(0) >>> (32 - bits) === net >>> (32 - bits);
}

/** Why an address cannot be a VIP, or undefined when it can. */
function unfit(b: Buffer, family: IpFamily): string | undefined {
  if (family === 'ipv4') {
    if (b.readUInt32BE(0) === 0) return 'the unspecified address cannot be a VIP';
    if (inV4(b, 0x7f000000, 8)) return 'a loopback address cannot be a VIP';
    if (inV4(b, 0xa9fe0000, 16)) return 'a link-local address cannot be a VIP';
    if (inV4(b, 0xe0000000, 4)) return 'a multicast address cannot be a VIP';
    if (inV4(b, 0xf0000000, 4)) return 'a reserved or broadcast address cannot be a VIP';
    return undefined;
  }
  if (b.every((x) => x === 0)) return 'the unspecified address cannot be a VIP';
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return 'the loopback address cannot be a VIP';
  if (b[0] === 0xff) return 'a multicast address cannot be a VIP';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'a link-local address cannot be a VIP';
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return `an IPv4-mapped address cannot be a VIP; give ${formatIp(b.subarray(12))}`;
  }
  return undefined;
}

/**
 * Validate the --vip values. Every problem is a UsageError of one line naming the value, raised
 * before anything is read from or written to the kernel.
 */
export function parseVips(values: readonly string[] | undefined, mode: RealserverMode): Vip[] {
  if (!values || values.length === 0) throw new UsageError('--vip: give at least one virtual IP address, e.g. --vip 192.0.2.10');
  const out: Vip[] = [];
  for (const raw of values) {
    if (raw.trim() === '') throw new UsageError('--vip: empty address; give an IP address such as 192.0.2.10');
    if (raw.includes('/')) {
      throw new UsageError(`--vip ${raw}: give the address without a prefix length; a VIP is always added as /32 (IPv6 /128)`);
    }
    const ip = parseIp(raw);
    if (!ip) throw new UsageError(`--vip ${JSON.stringify(raw)}: not an IPv4 or IPv6 address`);
    const address = formatIp(ip.bytes);
    const why = unfit(ip.bytes, ip.family);
    if (why) throw new UsageError(`--vip ${raw}: ${why}`);
    if (mode === 'tunnel' && ip.family === 'ipv6') {
      throw new UsageError(`--vip ${raw}: --tunnel is IPv4 in IPv4 (tunl0); an IPv6 VIP needs ip6tnl0, which ha does not set up`);
    }
    if (out.some((v) => v.address === address)) throw new UsageError(`--vip ${address} is given twice`);
    out.push({ address, family: ip.family, prefix: `${address}/${ip.family === 'ipv4' ? 32 : 128}` });
  }
  return out;
}

// ---- what the kernel must look like ----

interface SysctlRule {
  name: string;
  /** The value setup writes. */
  want: string;
  /** Values that already meet the requirement (setup leaves them alone). */
  accept: readonly string[];
  /** The kernel's default, which teardown does not bother to mention. */
  kernelDefault: string;
  why: string;
}

/** arp_ignore 2 and 8 are stricter than 1 and also keep the host silent for the VIP. */
function arpRules(dev: string): SysctlRule[] {
  return ['all', dev].flatMap((d) => [
    { name: confSysctl('ipv4', d, 'arp_ignore'), want: '1', accept: ['1', '2', '8'], kernelDefault: '0', why: 'answer ARP only for addresses of the receiving interface' },
    { name: confSysctl('ipv4', d, 'arp_announce'), want: '2', accept: ['2'], kernelDefault: '0', why: 'never use the VIP as the source of ARP requests' },
  ]);
}

function rpFilterRules(): SysctlRule[] {
  return ['all', TUNNEL_DEVICE].map((d) => ({
    name: confSysctl('ipv4', d, 'rp_filter'), want: '0', accept: ['0'], kernelDefault: '0',
    why: 'accept decapsulated packets whose source (the client) is routed out of another interface',
  }));
}

function requiredSysctls(vips: Vip[], mode: RealserverMode): SysctlRule[] {
  return [
    ...(vips.some((v) => v.family === 'ipv4') ? arpRules(deviceFor(mode)) : []),
    ...(mode === 'tunnel' ? rpFilterRules() : []),
  ];
}

async function readOrAbsent(name: string): Promise<string | undefined> {
  try {
    return await readSysctl(name);
  } catch (error) {
    if (error instanceof HaError && error.code === 'ENOENT') return undefined;
    throw error;
  }
}

async function linkOrAbsent(name: string): Promise<Link | undefined> {
  try {
    return await getLink(name);
  } catch (error) {
    if (error instanceof NetlinkError && error.errnoName === 'ENODEV') return undefined;
    throw error;
  }
}

function tunnelMissing(): UnavailableError {
  return new UnavailableError(`interface ${TUNNEL_DEVICE} does not exist: the ipip module creates it; load it with modprobe ipip`);
}

const isHostPrefix = (a: Address): boolean => a.prefixlen === (a.family === 'ipv4' ? 32 : 128);

/** Addresses on lo and tunl0 that are VIPs: not loopback, not IPv6 link-local. */
function isVipLike(a: Address): boolean {
  const b = parseIp(a.address)!.bytes;
  if (a.family === 'ipv4') return b[0] !== 127;
  return !(a.address === '::1' || (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80));
}

interface Scene {
  mode: RealserverMode;
  device: string;
  /** The VIP's interface; undefined when tunl0 does not exist. */
  link?: Link;
  addresses: Address[];
  names: Map<number, string>;
}

async function look(mode: RealserverMode): Promise<Scene> {
  const device = deviceFor(mode);
  // one at a time: the kernel runs one dump per socket and answers a second with EBUSY
  const link = await linkOrAbsent(device);
  const addresses = await listAddresses();
  const links = await listLinks();
  return { mode, device, link, addresses, names: new Map(links.map((l) => [l.index, l.name])) };
}

function onDevice(scene: Scene, vip: Vip): boolean {
  return scene.link !== undefined
    && scene.addresses.some((a) => a.index === scene.link!.index && a.address === vip.address && isHostPrefix(a));
}

/** Copies of the VIP that make the host answer ARP (or own a whole subnet): other interfaces, other prefixes. */
function strayCopies(scene: Scene, vip: Vip): Array<{ device: string; prefix: string }> {
  return scene.addresses
    .filter((a) => a.address === vip.address)
    .map((a) => ({ device: scene.names.get(a.index) ?? `if${a.index}`, prefix: `${a.address}/${a.prefixlen}`, host: isHostPrefix(a) }))
    .filter((c) => !(c.host && (c.device === LOOPBACK_DEVICE || c.device === TUNNEL_DEVICE)))
    .map(({ device, prefix }) => ({ device, prefix }));
}

// ---- check ----

const orList = (xs: readonly string[]): string => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`);

export interface Requirement {
  what: string;
  expected: string;
  actual: string;
  status: 'ok' | 'missing';
  /** A command that fixes it (only when missing). */
  fix?: string;
}

export interface CheckResult {
  vips: string[];
  mode: RealserverMode;
  device: string;
  ok: boolean;
  requirements: Requirement[];
  /** The one command that fixes everything setup can fix (when something is missing). */
  fix?: string;
}

export function setupCommand(vips: Vip[], mode: RealserverMode): string {
  return `ha ipvs realserver setup ${vips.map((v) => `--vip ${v.address}`).join(' ')}${mode === 'tunnel' ? ' --tunnel' : ''}`;
}

export async function checkRealserver(vips: Vip[], mode: RealserverMode): Promise<CheckResult> {
  const scene = await look(mode);
  const req: Requirement[] = [];
  const add = (what: string, expected: string, actual: string, ok: boolean, fix: string): void => {
    req.push(ok ? { what, expected, actual, status: 'ok' } : { what, expected, actual, status: 'missing', fix });
  };
  for (const rule of requiredSysctls(vips, mode)) {
    const v = await readOrAbsent(rule.name);
    const fix = `sysctl -w ${rule.name}=${rule.want}`;
    add(rule.name, orList(rule.accept), v ?? 'absent', v !== undefined && rule.accept.includes(v),
      v === undefined && mode === 'tunnel' ? `modprobe ipip && ${fix}` : fix);
  }
  if (mode === 'tunnel') {
    const state = scene.link ? (scene.link.up ? 'up' : 'down') : 'absent';
    add(`interface ${TUNNEL_DEVICE}`, 'up', state, state === 'up',
      `${scene.link ? '' : 'modprobe ipip && '}ip link set ${TUNNEL_DEVICE} up`);
  }
  for (const vip of vips) {
    const present = onDevice(scene, vip);
    add(`address ${vip.prefix} on ${scene.device}`, 'present', present ? 'present' : 'absent', present,
      `${scene.link ? '' : 'modprobe ipip && '}ip addr add ${vip.prefix} dev ${scene.device}`);
  }
  for (const vip of vips) {
    const stray = strayCopies(scene, vip);
    add(`${vip.address} on no other interface`, 'none', stray.length ? stray.map((s) => `${s.prefix} on ${s.device}`).join(', ') : 'none',
      stray.length === 0, stray.map((s) => `ip addr del ${s.prefix} dev ${s.device}`).join(' && '));
  }
  const ok = req.every((r) => r.status === 'ok');
  const result: CheckResult = { vips: vips.map((v) => v.address), mode, device: scene.device, ok, requirements: req };
  const fixable = req.some((r) => r.status === 'missing' && !r.what.endsWith('on no other interface'));
  if (fixable) result.fix = setupCommand(vips, mode);
  return result;
}

// ---- the record of replaced values ----

interface Replaced {
  from: string;
  to: string;
}

interface ReplacedRecord {
  version: 1;
  /** By sysctl name, or "interface tunl0". */
  changes: Record<string, Replaced>;
}

/** One file per network namespace (its inode), under $HA_RUN_DIR or /run/ha. */
export function recordPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = runDir(env);
  let ns = 'unknown';
  try {
    ns = String(statSync('/proc/self/ns/net').ino);
  } catch {
    // no /proc/self/ns: one record for the machine
  }
  return join(dir, `realserver-net${ns}.json`);
}

async function loadRecord(path: string): Promise<ReplacedRecord> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, changes: {} };
    throw new OperationError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const doc = JSON.parse(text) as Partial<ReplacedRecord>;
    const changes: Record<string, Replaced> = {};
    for (const [k, v] of Object.entries(doc.changes ?? {})) {
      if (v && typeof v.from === 'string' && typeof v.to === 'string') changes[k] = { from: v.from, to: v.to };
    }
    return { version: 1, changes };
  } catch {
    // a damaged record is worth less than a working teardown: start again
    return { version: 1, changes: {} };
  }
}

async function saveRecord(path: string, record: ReplacedRecord): Promise<void> {
  try {
    if (Object.keys(record.changes).length === 0) {
      await rm(path, { force: true });
      return;
    }
    await mkdir(join(path, '..'), { recursive: true, mode: 0o755 });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
    await rename(tmp, path);
  } catch (error) {
    throw new OperationError(`cannot record the replaced values in ${path}: ${(error as Error).message} (set HA_RUN_DIR to a writable folder)`);
  }
}

// ---- setup ----

export interface Change {
  what: string;
  from: string;
  to: string;
}

export interface SetupResult {
  vips: string[];
  mode: RealserverMode;
  device: string;
  changes: Change[];
}

/** A change of setup or teardown: a step for the step engine that also says what it changed. */
interface HostStep extends Step {
  change: Change;
  /** Recorded so that teardown can put the old value back (sysctls, link state). */
  remember: boolean;
}

function hostStep(change: Change, remember: boolean, apply: () => Promise<unknown>, undo: () => Promise<unknown>): HostStep {
  return {
    op: change.from === 'absent' ? 'add' : change.to === 'absent' ? 'delete' : 'change',
    object: change.what,
    detail: `${change.from} -> ${change.to}`,
    change,
    remember,
    apply: async () => { await apply(); },
    undo: async () => { await undo(); },
  };
}

const TARGET = "this host's real-server settings";

/** Run the steps; on failure or a signal they are undone and the record is put back as it was. */
async function runHostSteps(steps: HostStep[], path: string, recordBefore: ReplacedRecord | undefined, action: string): Promise<void> {
  const result = await runSteps([{ name: 'realserver', steps }]);
  if (result.failure || result.interrupted) {
    if (recordBefore) await saveRecord(path, recordBefore).catch(() => undefined);
    throw new RunError(result, { action, target: TARGET });
  }
}

export async function setupRealserver(vips: Vip[], mode: RealserverMode): Promise<SetupResult> {
  const scene = await look(mode);
  if (!scene.link) throw tunnelMissing();
  for (const vip of vips) {
    const stray = strayCopies(scene, vip);
    if (stray.length > 0) {
      const s = stray[0]!;
      throw new OperationError(`${vip.address} is also ${s.prefix} on ${s.device}, so the host would answer ARP for it or own the whole subnet: remove it first (ip addr del ${s.prefix} dev ${s.device}); nothing was changed`, 'ECONFLICT');
    }
  }

  // order matters: the sysctls first, then the interface, and the VIPs last, so that there is no
  // moment when the address exists and the host still answers ARP for it (or drops tunnelled
  // packets); undone in the reverse order, the VIPs go first
  const steps: HostStep[] = [];
  for (const rule of requiredSysctls(vips, mode)) {
    const current = await readSysctl(rule.name);
    if (rule.accept.includes(current)) continue;
    steps.push(hostStep({ what: rule.name, from: current, to: rule.want }, true, () => writeSysctl(rule.name, rule.want), () => writeSysctl(rule.name, current)));
  }
  if (mode === 'tunnel' && !scene.link.up) {
    steps.push(hostStep({ what: `interface ${TUNNEL_DEVICE}`, from: 'down', to: 'up' }, true, () => setLinkUp(TUNNEL_DEVICE, true), () => setLinkUp(TUNNEL_DEVICE, false)));
  }
  for (const vip of vips) {
    if (onDevice(scene, vip)) continue;
    steps.push(hostStep({ what: `address ${vip.prefix} on ${scene.device}`, from: 'absent', to: 'present' }, false,
      () => addAddress(scene.device, vip.prefix), () => deleteAddress(scene.device, vip.prefix)));
  }

  const result: SetupResult = { vips: vips.map((v) => v.address), mode, device: scene.device, changes: [] };
  if (steps.length === 0) return result;

  // record the old values before changing anything; a value replaced by an earlier setup keeps its
  // original "from" as long as it still holds what that setup wrote
  const remembered = steps.filter((x) => x.remember);
  const path = recordPath();
  const record = remembered.length ? await loadRecord(path) : undefined;
  if (record) {
    const planned = structuredClone(record);
    for (const s of remembered) {
      const earlier = planned.changes[s.change.what];
      planned.changes[s.change.what] = { from: earlier && earlier.to === s.change.from ? earlier.from : s.change.from, to: s.change.to };
    }
    await saveRecord(path, planned);
  }
  await runHostSteps(steps, path, record, 'realserver setup');
  result.changes = steps.map((x) => x.change);
  return result;
}

// ---- teardown ----

export interface Kept {
  what: string;
  value: string;
  reason: string;
}

export interface TeardownResult {
  vips: string[];
  mode: RealserverMode;
  device: string;
  changes: Change[];
  /** Settings left as they are, and why. */
  kept: Kept[];
}

export async function teardownRealserver(vips: Vip[], mode: RealserverMode): Promise<TeardownResult> {
  const device = deviceFor(mode);
  const result: TeardownResult = { vips: vips.map((v) => v.address), mode, device, changes: [], kept: [] };
  const link = await linkOrAbsent(device);
  // read the record before changing anything: if it cannot be read, nothing is changed
  const path = recordPath();
  const record = await loadRecord(path);
  const recordBefore = structuredClone(record);
  const steps: HostStep[] = [];

  // the VIPs go first, so that they never exist without the settings that keep the host silent
  const all = await listAddresses();
  const going = new Set<Address>();
  if (link) {
    for (const vip of vips) {
      const a = all.find((x) => x.index === link.index && x.address === vip.address && isHostPrefix(x));
      if (!a) continue;
      going.add(a);
      steps.push(hostStep({ what: `address ${vip.prefix} on ${device}`, from: 'present', to: 'absent' }, false,
        () => deleteAddress(device, vip.prefix), () => addAddress(device, vip.prefix)));
    }
  }

  // what still needs the settings once those are gone: VIPs left on lo or tunl0, whichever mode put them there
  const lo = await linkOrAbsent(LOOPBACK_DEVICE);
  const tun = await linkOrAbsent(TUNNEL_DEVICE);
  const remaining = (l: Link | undefined): Address[] => (l ? all.filter((a) => a.index === l.index && isVipLike(a) && !going.has(a)) : []);
  const describe = (list: Array<[Address[], string]>): string =>
    list.filter(([as]) => as.length > 0).map(([as, dev]) => `${as.map((a) => `${a.address}/${a.prefixlen}`).join(', ')} on ${dev}`).join('; ');
  const v4 = (as: Address[]): Address[] => as.filter((a) => a.family === 'ipv4');
  const arpBlockers = describe([[v4(remaining(lo)), LOOPBACK_DEVICE], [v4(remaining(tun)), TUNNEL_DEVICE]]);
  const tunBlockers = describe([[remaining(tun), TUNNEL_DEVICE]]);

  const settle = (what: string, current: string | undefined, blockers: string, looksSet: boolean, set: (to: string) => Promise<unknown>): void => {
    if (current === undefined) return;
    const rec = record.changes[what];
    if (blockers) {
      if (rec || looksSet) result.kept.push({ what, value: current, reason: `still needed by ${blockers}` });
      return;
    }
    if (rec) {
      delete record.changes[what];
      if (current === rec.to) {
        steps.push(hostStep({ what, from: current, to: rec.from }, false, () => set(rec.from), () => set(current)));
      } else {
        result.kept.push({ what, value: current, reason: `changed since setup set it to ${rec.to}; left as it is` });
      }
      return;
    }
    if (looksSet) result.kept.push({ what, value: current, reason: 'not set by ha ipvs realserver setup (no record of an earlier value); left as it is' });
  };

  const rules: Array<[SysctlRule, string]> = [
    ...arpRules(device).map((r): [SysctlRule, string] => [r, arpBlockers]),
    ...(mode === 'tunnel' ? rpFilterRules().map((r): [SysctlRule, string] => [r, tunBlockers]) : []),
  ];
  for (const [rule, blockers] of rules) {
    const current = await readOrAbsent(rule.name);
    settle(rule.name, current, blockers, current !== undefined && current !== rule.kernelDefault && rule.accept.includes(current),
      (to) => writeSysctl(rule.name, to));
  }
  if (mode === 'tunnel' && tun) {
    // an interface that is up is not worth a note unless setup brought it up
    settle(`interface ${TUNNEL_DEVICE}`, tun.up ? 'up' : 'down', tunBlockers, false, (to) => setLinkUp(TUNNEL_DEVICE, to === 'up'));
  }
  await runHostSteps(steps, path, undefined, 'realserver teardown');
  result.changes = steps.map((x) => x.change);
  if (JSON.stringify(record) !== JSON.stringify(recordBefore)) await saveRecord(path, record);
  return result;
}
