/**
 * Human output of routes and nexthop objects: aligned tables, one row per route and one more per
 * extra path of a multipath route.
 */
import { table, type Cell } from '@ha/lib';
import { Nexthop, Route, legText, tableName } from './model.js';

function stateText(r: Route): string {
  const parts: string[] = [];
  if (r.inUse === true) parts.push('in use');
  else if (r.inUse === false) parts.push('standby');
  if (r.state) parts.push(...r.state);
  return parts.join(', ');
}

export function renderRoutes(routes: Route[], options: { tables?: boolean } = {}): string {
  if (routes.length === 0) return 'No routes.';
  const head = ['DESTINATION', 'METRIC', ...(options.tables ? ['TABLE'] : []), 'PATH', 'PROTO', 'STATE'];
  const rows: Cell[][] = [];
  for (const r of routes) {
    const dst = r.dst === 'default' && r.family === 'ipv6' ? 'default (ipv6)' : r.dst;
    const tbl = options.tables ? [tableName(r.table)] : [];
    const legs = r.nexthops;
    const first = r.nhid !== undefined ? `nhid ${r.nhid}`
      : legs?.length ? legText(legs[0]!) + (legs[0]!.state ? ` (${legs[0]!.state.join(', ')})` : '')
        : r.type !== 'unicast' ? r.type
          : [r.via ? `via ${r.via}` : '', r.dev ? `dev ${r.dev}` : '', r.onlink ? 'onlink' : '', r.src ? `src ${r.src}` : ''].filter(Boolean).join(' ');
    rows.push([dst, r.metric, ...tbl, first, r.protocol, stateText(r)]);
    for (const leg of legs?.slice(1) ?? []) {
      rows.push(['', '', ...(options.tables ? [''] : []), legText(leg) + (leg.state ? ` (${leg.state.join(', ')})` : ''), '', '']);
    }
  }
  return table(head, rows, { align: ['left', 'right'] });
}

export function renderNexthops(nhs: Nexthop[]): string {
  const rows: Cell[][] = nhs.map((n) => [
    n.id,
    n.group ? (n.type === 'resilient' ? `resilient group (${n.buckets ?? '?'} buckets, idle ${n.idleTimer ?? '?'} s)` : 'group') : n.blackhole ? 'blackhole' : 'nexthop',
    n.group ? n.group.map((m) => `${m.id}:${m.weight}`).join(' ') : legText({ via: n.via, dev: n.dev, onlink: n.onlink, weight: 1 }, false),
    n.state?.join(', ') ?? '',
  ]);
  return table(['ID', 'KIND', 'MEMBERS/PATH', 'STATE'], rows, { align: ['right'] });
}
