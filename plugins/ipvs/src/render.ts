/**
 * Human output of services and real servers: one aligned table, a service row followed by its
 * real servers' rows. Numbers are exact (no K/M suffixes) here; `--format ipvsadm` has ipvsadm's.
 */
import { cellText, colour, streamTable } from '@ha/lib';
import { sortServices } from './ipvsadm/format.js';
import { Server, Service, Stats, isFwmark, serverLabel, serviceLabel } from './model.js';

export interface ListColumns {
  stats?: boolean;
  rate?: boolean;
  thresholds?: boolean;
  persistentConn?: boolean;
  tunInfo?: boolean;
}

export function serviceFlagsText(s: Service): string {
  const parts: string[] = [];
  if (s.persistence) parts.push(`persistent ${s.persistence.timeout}`, `mask ${s.persistence.netmask}`);
  if (s.pe) parts.push(`pe ${s.pe}`);
  if (s.onePacket) parts.push('ops');
  if (s.schedFlags.length) parts.push(s.schedFlags.join(','));
  return parts.join(' ');
}

/** The table's columns without the optional ones. */
const BASIC_HEAD = ['SERVICE', 'SCHEDULER', 'FLAGS', 'REAL SERVER', 'FORWARD', 'WEIGHT', 'ACTIVE', 'INACTIVE'] as const;

const STATS: Array<keyof Stats> = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'];
const RATE: Array<keyof Stats> = ['cps', 'inpps', 'outpps', 'inbps', 'outbps'];

function tunnelText(r: Server): string {
  if (r.forward !== 'tunnel' || !r.tunnel) return '';
  return `${r.tunnel.type}${r.tunnel.port ? ` port ${r.tunnel.port}` : ''}${r.tunnel.type !== 'ipip' ? ` ${r.tunnel.checksum}` : ''}`;
}

/**
 * `sorted`: the services and their servers are already in sortServices() order. With `out`, the
 * lines (each with its newline) go there as they are made, and nothing is returned.
 */
export function renderServices(services: Service[], cols: ListColumns = {}, sorted = false, out?: (text: string) => void): string {
  return renderServicesWith(services, cols, sorted, out, true);
}

/** renderServices(), with the basic table's direct path allowed or not (tests compare the two). */
export function renderServicesWith(services: Service[], cols: ListColumns, sorted: boolean, out: ((text: string) => void) | undefined, direct: boolean): string {
  if (services.length === 0) {
    if (!out) return 'No virtual services.';
    out('No virtual services.\n');
    return '';
  }
  if (direct && out && !cols.thresholds && !cols.persistentConn && !cols.tunInfo && !cols.stats && !cols.rate && basicTable(sorted ? services : sortServices(services), out)) return '';
  const head: string[] = [...BASIC_HEAD];
  if (cols.thresholds) head.push('UPPER', 'LOWER');
  if (cols.persistentConn) head.push('PERSISTENT');
  if (cols.tunInfo) head.push('TUNNEL');
  if (cols.stats) head.push('CONNS', 'INPKTS', 'OUTPKTS', 'INBYTES', 'OUTBYTES');
  if (cols.rate) head.push('CPS', 'INPPS', 'OUTPPS', 'INBPS', 'OUTBPS');
  const list = sorted ? services : sortServices(services);
  const stats = (row: string[], st: Stats | undefined): void => {
    for (const keys of [cols.stats ? STATS : undefined, cols.rate ? RATE : undefined]) {
      if (keys) for (const k of keys) row.push(cellText(st ? st[k] : undefined));
    }
  };
  // the rows are made twice (to measure, then to write) rather than held: 60,000 of them
  function* rows(): Generator<string[]> {
    for (const s of list) {
      const row = [serviceLabel(s), s.scheduler, serviceFlagsText(s), '', '', '', '', ''];
      if (cols.thresholds) row.push('', '');
      if (cols.persistentConn) row.push('');
      if (cols.tunInfo) row.push('');
      stats(row, s.stats);
      yield row;
      for (const r of s.servers) {
        const sr = ['', '', '', `-> ${serverLabel(r)}`, r.forward, String(r.weight), cellText(r.activeConns), cellText(r.inactiveConns)];
        if (cols.thresholds) sr.push(String(r.upperThreshold), String(r.lowerThreshold));
        if (cols.persistentConn) sr.push(cellText(r.persistentConns));
        if (cols.tunInfo) sr.push(tunnelText(r));
        stats(sr, r.stats);
        yield sr;
      }
    }
  }
  // addresses, names and numbers: no cell is coloured
  return streamTable(head, rows, { plain: true }, out);
}


/** Characters of String(n) for a count or weight, without making the string. */
function numberLength(n: number): number {
  if (Number.isInteger(n) && n >= 0 && n < 1e9) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : String(n).length;
  return String(n).length;
}

/**
 * The table without extra columns, as streamTable() writes it (the same bytes: the tests compare
 * them), in two passes over the services without a row of cells made: the first measures each
 * column from the values' lengths (an address and port are measured, not joined), the second
 * writes each line as one string. false, having written nothing, for a table this does not cover
 * (a value that is not a plain number, or an empty scheduler), which the general table then writes.
 */
function basicTable(list: readonly Service[], out: (text: string) => void): boolean {
  const w = BASIC_HEAD.map((h) => h.length);
  for (const s of list) {
    if (!s.scheduler) return false;
    const label = isFwmark(s) ? serviceLabel(s).length : s.address.length + 1 + numberLength(s.port) + 1 + s.protocol.length + (s.family === 'ipv6' ? 2 : 0);
    if (label > w[0]!) w[0] = label;
    if (s.scheduler.length > w[1]!) w[1] = s.scheduler.length;
    if (s.persistence || s.pe || s.onePacket || s.schedFlags.length) {
      const f = serviceFlagsText(s).length;
      if (f > w[2]!) w[2] = f;
    }
    for (const r of s.servers) {
      if (typeof r.weight !== 'number' || typeof r.activeConns !== 'number' || typeof r.inactiveConns !== 'number') return false;
      const arrow = 3 + r.address.length + 1 + numberLength(r.port) + (r.family === 'ipv6' ? 2 : 0);
      if (arrow > w[3]!) w[3] = arrow;
      if (r.forward.length > w[4]!) w[4] = r.forward.length;
      const weight = numberLength(r.weight);
      if (weight > w[5]!) w[5] = weight;
      const active = numberLength(r.activeConns);
      if (active > w[6]!) w[6] = active;
      const inactive = numberLength(r.inactiveConns);
      if (inactive > w[7]!) w[7] = inactive;
    }
  }
  const spaces: string[] = [];
  const pad = (k: number): string => (k <= 0 ? '' : (spaces[k] ??= ' '.repeat(k)));
  const trim = (text: string): string => (text.charCodeAt(text.length - 1) === 32 ? text.trimEnd() : text);
  const bold = colour().bold;
  let head = '';
  for (let i = 0; i < BASIC_HEAD.length; i++) head += (i ? '  ' : '') + bold(BASIC_HEAD[i]!) + (i === BASIC_HEAD.length - 1 ? '' : pad(w[i]! - BASIC_HEAD[i]!.length));
  out(`${trim(head)}\n`);
  // a real server's line starts with the three empty service columns
  const lead = pad(w[0]! + 2 + w[1]! + 2 + w[2]! + 2);
  const lead4 = `${lead}-> `;
  const lead6 = `${lead}-> [`;
  // the forward, weight and active columns of a real server's line, each padded and followed by
  // two spaces, made once per value (tables repeat them): 60,000 lines are concatenated from fewer
  // pieces, with fewer strings made on the way (21 MB instead of 31 for the benchmark's table)
  const cells = [new Map<string | number, string>(), new Map<string | number, string>(), new Map<string | number, string>()];
  const cell = (i: number, v: string | number): string => {
    const known = cells[i]!.get(v);
    if (known !== undefined) return known;
    const t = String(v);
    const c = `${t}${pad(w[4 + i]! - t.length)}  `;
    if (cells[i]!.size < 1024) cells[i]!.set(v, c);
    return c;
  };
  for (const s of list) {
    const label = serviceLabel(s);
    const flags = serviceFlagsText(s);
    out(`${trim(flags ? `${label}${pad(w[0]! - label.length)}  ${s.scheduler}${pad(w[1]! - s.scheduler.length)}  ${flags}` : `${label}${pad(w[0]! - label.length)}  ${s.scheduler}`)}\n`);
    for (const r of s.servers) {
      const port = String(r.port);
      const arrow = 4 + r.address.length + port.length;
      const text = r.family === 'ipv6'
        ? `${lead6}${r.address}]:${port}${pad(w[3]! - arrow - 2)}  `
        : `${lead4}${r.address}:${port}${pad(w[3]! - arrow)}  `;
      out(`${text}${cell(0, r.forward)}${cell(1, r.weight)}${cell(2, r.activeConns!)}${r.inactiveConns}\n`);
    }
  }
  return true;
}
