/**
 * Human output of services and real servers: one aligned table, a service row followed by its
 * real servers' rows. Numbers are exact (no K/M suffixes) here; `--format ipvsadm` has ipvsadm's.
 */
import { table, type Cell } from '@ha/lib';
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

const statCells = (st: Stats | undefined, keys: Array<keyof Stats>): Cell[] => keys.map((k) => (st ? st[k] : undefined));
const STATS: Array<keyof Stats> = ['conns', 'inpkts', 'outpkts', 'inbytes', 'outbytes'];
const RATE: Array<keyof Stats> = ['cps', 'inpps', 'outpps', 'inbps', 'outbps'];

function tunnelText(r: Server): string {
  if (r.forward !== 'tunnel' || !r.tunnel) return '';
  return `${r.tunnel.type}${r.tunnel.port ? ` port ${r.tunnel.port}` : ''}${r.tunnel.type !== 'ipip' ? ` ${r.tunnel.checksum}` : ''}`;
}

/** `sorted`: the services and their servers are already in sortServices() order. */
export function renderServices(services: Service[], cols: ListColumns = {}, sorted = false): string {
  if (services.length === 0) return 'No virtual services.';
  const head = ['SERVICE', 'SCHEDULER', 'FLAGS', 'REAL SERVER', 'FORWARD', 'WEIGHT', 'ACTIVE', 'INACTIVE'];
  if (cols.thresholds) head.push('UPPER', 'LOWER');
  if (cols.persistentConn) head.push('PERSISTENT');
  if (cols.tunInfo) head.push('TUNNEL');
  if (cols.stats) head.push('CONNS', 'INPKTS', 'OUTPKTS', 'INBYTES', 'OUTBYTES');
  if (cols.rate) head.push('CPS', 'INPPS', 'OUTPPS', 'INBPS', 'OUTBPS');
  const rows: Cell[][] = [];
  // numeric order by address and port, whatever order the kernel returned
  for (const s of sorted ? services : sortServices(services)) {
    const row: Cell[] = [serviceLabel(s), s.scheduler, serviceFlagsText(s), '', '', '', '', ''];
    if (cols.thresholds) row.push('', '');
    if (cols.persistentConn) row.push('');
    if (cols.tunInfo) row.push('');
    if (cols.stats) row.push(...statCells(s.stats, STATS));
    if (cols.rate) row.push(...statCells(s.stats, RATE));
    rows.push(row);
    for (const r of s.servers) {
      const sr: Cell[] = ['', '', '', `-> ${serverLabel(r)}`, r.forward, r.weight, r.activeConns, r.inactiveConns];
      if (cols.thresholds) sr.push(r.upperThreshold, r.lowerThreshold);
      if (cols.persistentConn) sr.push(r.persistentConns);
      if (cols.tunInfo) sr.push(tunnelText(r));
      if (cols.stats) sr.push(...statCells(r.stats, STATS));
      if (cols.rate) sr.push(...statCells(r.stats, RATE));
      rows.push(sr);
    }
  }
  return table(head, rows);
}
