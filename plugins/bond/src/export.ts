/**
 * NetworkManager export: the nmcli commands, or the keyfiles, that recreate a bond and its ports
 * as NetworkManager connections with exactly the bond's options.
 *
 * NetworkManager's option names differ from ip(8)'s in places (peer_notif_delay, arp_missed_max,
 * num_grat_arp); the option table carries both. On/off options are written the way NetworkManager
 * stores them (0/1, except lacp_active: on/off). Port connections use `master` / `slave-type`,
 * which every NetworkManager version reads (newer ones also call them controller / port-type).
 */
import { UsageError } from '@ha/lib';
import { Bond } from './kernel.js';
import { BondOptions, MODES, Mode, OPTIONS, OptionValue, parseMode, parseOptionValue } from './options.js';

export interface ExportBond {
  name: string;
  mode: Mode;
  options: BondOptions;
  primary?: string;
  ports: Array<{ name: string; kind?: string }>;
  /** Static addresses of the bond, "ADDR/LEN" (exported as the connection's manual addresses). */
  addresses?: { ipv4: string[]; ipv6: string[] };
}

export function exportable(b: Bond, addresses?: ExportBond['addresses']): ExportBond {
  const out: ExportBond = { name: b.name, mode: b.mode, options: b.options, ports: b.ports.map((p) => ({ name: p.name, ...(p.kind ? { kind: p.kind } : {}) })) };
  if (b.primary) out.primary = b.primary;
  if (addresses && addresses.ipv4.length + addresses.ipv6.length > 0) out.addresses = addresses;
  return out;
}

/** The ipv4/ipv6 settings: manual with the bond's static addresses, else off (v4) / left alone (v6). */
function ipSettings(b: ExportBond): { ipv4: string[]; ipv6: string[] } {
  const v4 = b.addresses?.ipv4 ?? [];
  const v6 = b.addresses?.ipv6 ?? [];
  return { ipv4: v4.length ? ['manual', v4.join(',')] : ['disabled'], ipv6: v6.length ? ['manual', v6.join(',')] : ['ignore'] };
}

function nmValue(key: string, v: OptionValue, sep: string): string {
  if (Array.isArray(v)) return v.join(sep);
  if (typeof v === 'boolean') return key === 'lacp_active' ? (v ? 'on' : 'off') : v ? '1' : '0';
  return String(v);
}

/** bond.options as NetworkManager's key/value pairs, mode first. `sep` joins address lists. */
export function nmOptions(b: ExportBond, sep = ','): Array<[string, string]> {
  const out: Array<[string, string]> = [['mode', b.mode]];
  for (const o of OPTIONS) {
    const v = b.options[o.key];
    if (v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out.push([o.nm, nmValue(o.key, v, sep)]);
  }
  if (b.primary) out.push(['primary', b.primary]);
  return out;
}

/** NetworkManager's bond options back into ours (the inverse of nmOptions). */
export function fromNmOptions(pairs: Record<string, string>): { mode: Mode; options: BondOptions; primary?: string } {
  const mode = parseMode(pairs.mode ?? MODES[0]);
  if (!mode) throw new UsageError(`NetworkManager bond mode ${JSON.stringify(pairs.mode)} is not known`);
  const options: BondOptions = {};
  let primary: string | undefined;
  for (const [k, raw] of Object.entries(pairs)) {
    if (k === 'mode') continue;
    if (k === 'primary') { primary = raw; continue; }
    const o = OPTIONS.find((x) => x.nm === k || (k === 'num_unsol_na' && x.key === 'num_peer_notif'));
    if (!o) throw new UsageError(`NetworkManager bond option ${k} is not known`);
    const text = o.kind === 'ipv4list' || o.kind === 'ipv6list' ? raw.split(/[\s,]+/).filter(Boolean) : raw;
    options[o.key] = parseOptionValue(o, text, `bond option ${k}`);
  }
  return primary ? { mode, options, primary } : { mode, options };
}

/** Quote a word for sh when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

const portId = (bond: string, port: string): string => `${bond}-port-${port}`;
const portType = (kind?: string): string => (kind === 'dummy' ? 'dummy' : 'ethernet');

function ipArgs(b: ExportBond): string[] {
  const ip = ipSettings(b);
  const out: string[] = [];
  for (const fam of ['ipv4', 'ipv6'] as const) {
    out.push(`${fam}.method`, ip[fam][0]!);
    if (ip[fam][1]) out.push(`${fam}.addresses`, ip[fam][1]);
  }
  return out;
}

export function nmcliCommands(b: ExportBond): string[] {
  // nmcli's bond.options separates options with commas, so address lists take spaces there
  const opts = nmOptions(b, ' ').map(([k, v]) => `${k}=${v}`).join(',');
  const lines = [
    ['nmcli', 'connection', 'add', 'type', 'bond', 'con-name', b.name, 'ifname', b.name, 'bond.options', opts,
      'connection.autoconnect-slaves', '1', ...ipArgs(b)],
    ...b.ports.map((p) => ['nmcli', 'connection', 'add', 'type', portType(p.kind), 'con-name', portId(b.name, p.name), 'ifname', p.name,
      'master', b.name, 'slave-type', 'bond']),
    ['nmcli', 'connection', 'up', b.name],
  ];
  return lines.map((words) => words.map(shellQuote).join(' '));
}

export interface Keyfile {
  path: string;
  text: string;
}

export const KEYFILE_DIR = '/etc/NetworkManager/system-connections';

export function keyfiles(b: ExportBond): Keyfile[] {
  const bond = [
    '[connection]', `id=${b.name}`, 'type=bond', `interface-name=${b.name}`, 'autoconnect-slaves=1', '',
    '[bond]', ...nmOptions(b).map(([k, v]) => `${k}=${v}`), '',
    ...(['ipv4', 'ipv6'] as const).flatMap((fam) => {
      const [method, list] = ipSettings(b)[fam];
      return [`[${fam}]`, ...(list ? list.split(',').map((a, i) => `address${i + 1}=${a}`) : []), `method=${method}`, ''];
    }),
  ].join('\n');
  const files: Keyfile[] = [{ path: `${KEYFILE_DIR}/${b.name}.nmconnection`, text: bond }];
  for (const p of b.ports) {
    const type = portType(p.kind);
    files.push({
      path: `${KEYFILE_DIR}/${portId(b.name, p.name)}.nmconnection`,
      text: ['[connection]', `id=${portId(b.name, p.name)}`, `type=${type}`, `interface-name=${p.name}`, `master=${b.name}`, 'slave-type=bond', '',
        `[${type}]`, ''].join('\n'),
    });
  }
  return files;
}

/** The [bond] group of a keyfile as key/value pairs (for round-trip checks). */
export function parseKeyfileBond(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let group = '';
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const g = /^\[(.+)\]$/.exec(t);
    if (g) { group = g[1]!; continue; }
    const i = t.indexOf('=');
    if (group === 'bond' && i > 0) out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

/** nmcli's bond.options string as key/value pairs (address lists are space separated there). */
export function parseNmcliOptions(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}
