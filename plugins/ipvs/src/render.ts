/**
 * Human output of services and real servers: one aligned table, a service row followed by its
 * real servers' rows. Numbers are exact (no K/M suffixes) here; `--format ipvsadm` has ipvsadm's.
 */
import { cellText, streamTable } from '@ha/lib';
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
