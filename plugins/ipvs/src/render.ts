/**
 * Human output of services and real servers: one aligned table, a service row followed by its
 * real servers' rows. Numbers are exact (no K/M suffixes) here; `--format ipvsadm` has ipvsadm's.
 */
import { cellText, columnTable } from '@ha/lib';
import { sortServices } from './ipvsadm/format.js';
import { Server, Service, Stats, serverLabel, serviceLabel } from './model.js';

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
  if (services.length === 0) {
    if (!out) return 'No virtual services.';
    out('No virtual services.\n');
    return '';
  }
  const head = ['SERVICE', 'SCHEDULER', 'FLAGS', 'REAL SERVER', 'FORWARD', 'WEIGHT', 'ACTIVE', 'INACTIVE'];
  if (cols.thresholds) head.push('UPPER', 'LOWER');
  if (cols.persistentConn) head.push('PERSISTENT');
  if (cols.tunInfo) head.push('TUNNEL');
  if (cols.stats) head.push('CONNS', 'INPKTS', 'OUTPKTS', 'INBYTES', 'OUTBYTES');
  if (cols.rate) head.push('CPS', 'INPPS', 'OUTPPS', 'INBPS', 'OUTBPS');
  // column by column: 60,000 rows make a few arrays, not 60,000
  const columns: string[][] = head.map(() => []);
  const stats = (at: number, st: Stats | undefined): number => {
    for (const keys of [cols.stats ? STATS : undefined, cols.rate ? RATE : undefined]) {
      if (!keys) continue;
      for (const k of keys) columns[at++]!.push(cellText(st ? st[k] : undefined));
    }
    return at;
  };
  // numeric order by address and port, whatever order the kernel returned
  for (const s of sorted ? services : sortServices(services)) {
    columns[0]!.push(serviceLabel(s));
    columns[1]!.push(s.scheduler);
    columns[2]!.push(serviceFlagsText(s));
    let at = 3;
    for (; at < 8; at++) columns[at]!.push('');
    if (cols.thresholds) { columns[at++]!.push(''); columns[at++]!.push(''); }
    if (cols.persistentConn) columns[at++]!.push('');
    if (cols.tunInfo) columns[at++]!.push('');
    stats(at, s.stats);
    for (const r of s.servers) {
      columns[0]!.push('');
      columns[1]!.push('');
      columns[2]!.push('');
      columns[3]!.push(`-> ${serverLabel(r)}`);
      columns[4]!.push(r.forward);
      columns[5]!.push(String(r.weight));
      columns[6]!.push(cellText(r.activeConns));
      columns[7]!.push(cellText(r.inactiveConns));
      at = 8;
      if (cols.thresholds) { columns[at++]!.push(String(r.upperThreshold)); columns[at++]!.push(String(r.lowerThreshold)); }
      if (cols.persistentConn) columns[at++]!.push(cellText(r.persistentConns));
      if (cols.tunInfo) columns[at++]!.push(tunnelText(r));
      stats(at, r.stats);
    }
  }
  return columnTable(head, columns, {}, out);
}
