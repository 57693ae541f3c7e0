/**
 * Bonds for people: the list as a table, one bond in detail (options, ports with their MII status,
 * link failure counts and LACP state).
 */
import { keyValues, table, type Cell } from '@ha/lib';
import { lacpStateText } from './codec.js';
import { Bond } from './kernel.js';
import { OPTIONS, valueText } from './options.js';

export function stateText(b: Pick<Bond, 'up' | 'carrier'>): string {
  if (!b.up) return 'down';
  return b.carrier ? 'up' : 'no-carrier';
}

export function monitorText(b: Bond): string {
  if (Number(b.options.arp_interval ?? 0) > 0) return `arp ${b.options.arp_interval}ms`;
  if (Number(b.options.miimon ?? 0) > 0) return `mii ${b.options.miimon}ms`;
  return 'none';
}

export function renderList(bonds: Bond[]): string {
  if (bonds.length === 0) return 'No bonds.';
  const rows: Cell[][] = bonds.map((b) => [
    b.name, b.mode, stateText(b), monitorText(b), b.active ?? '-',
    b.ports.map((p) => `${p.name}(${p.miiStatus})`).join(' ') || '-',
  ]);
  return table(['BOND', 'MODE', 'STATE', 'MONITOR', 'ACTIVE', 'PORTS'], rows);
}

export function renderBond(b: Bond): string {
  const pairs: Array<[string, Cell]> = [
    ['bond', b.name],
    ['mode', b.mode],
    ['state', stateText(b)],
    ['mac', b.mac],
  ];
  if (b.primary !== undefined || ['active-backup', 'balance-tlb', 'balance-alb'].includes(b.mode)) {
    pairs.push(['active port', b.active ?? 'none'], ['primary', b.primary ?? 'none']);
  }
  for (const o of OPTIONS) if (b.options[o.key] !== undefined) pairs.push([o.key, valueText(b.options[o.key])]);
  if (b.lacp) {
    pairs.push(['aggregator', `${b.lacp.aggregator} (${b.lacp.numPorts} ports, actor key ${b.lacp.actorKey})`]);
    pairs.push(['partner', `${b.lacp.partnerMac} key ${b.lacp.partnerKey}`]);
  }
  const lines = [keyValues(pairs), ''];
  if (b.ports.length === 0) {
    lines.push('No ports.');
  } else {
    const lacp = b.mode === '802.3ad';
    const head = ['PORT', 'STATE', 'MII', 'CARRIER', 'FAILURES', 'PERM MAC'];
    if (lacp) head.push('AGGREGATOR', 'ACTOR STATE', 'PARTNER STATE');
    lines.push(table(head, b.ports.map((p) => {
      const row: Cell[] = [p.name, p.state, p.miiStatus, p.carrier ? 'yes' : 'no', p.linkFailures, p.permanentMac];
      if (lacp) row.push(p.lacp?.aggregator, p.lacp ? lacpStateText(p.lacp.actorState) : undefined, p.lacp ? lacpStateText(p.lacp.partnerState) : undefined);
      return row;
    })));
  }
  return lines.join('\n');
}
