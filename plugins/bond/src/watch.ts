/**
 * Live bond events from the RTNLGRP_LINK multicast group: every RTM_NEWLINK / RTM_DELLINK the
 * kernel broadcasts for the bond or its ports is compared with the last known state, and the
 * differences become events (active port changed, a port's MII status or carrier changed, a port
 * was added or removed, the bond went up or down).
 */
import { Link, NETLINK_ROUTE, NetlinkMessage, NetlinkSession, RTM_DELLINK, RTM_NEWLINK, decodeLink } from '@ha/lib/netlink';
import { decodeBondData, decodePortData } from './codec.js';
import { Bond } from './kernel.js';

export const RTNLGRP_LINK = 1;

export type WatchEventType =
  | 'watching' | 'active' | 'port-mii' | 'port-carrier' | 'port-state' | 'port-added' | 'port-removed' | 'bond-up' | 'bond-down'
  | 'bond-carrier' | 'bond-deleted';

export interface WatchEvent {
  time: string;
  bond: string;
  event: WatchEventType;
  port?: string;
  from?: string;
  to?: string;
  text: string;
}

interface PortSnap { name: string; mii: string; carrier: boolean; state: string }

export interface Snapshot {
  name: string;
  index: number;
  up: boolean;
  carrier: boolean;
  active?: string;
  ports: Map<number, PortSnap>;
}

export function snapshotOf(b: Bond): Snapshot {
  return {
    name: b.name,
    index: b.index,
    up: b.up,
    carrier: b.carrier,
    ...(b.active ? { active: b.active } : {}),
    ports: new Map(b.ports.map((p) => [p.index, { name: p.name, mii: p.miiStatus, carrier: p.carrier, state: p.state }])),
  };
}

/** The events one link notification means for the bond; updates the snapshot. */
export function eventsFor(snap: Snapshot, type: number, link: Link, now: Date = new Date()): WatchEvent[] {
  const out: WatchEvent[] = [];
  const ev = (event: WatchEventType, text: string, extra: Partial<WatchEvent> = {}): void => {
    out.push({ time: now.toISOString(), bond: snap.name, event, ...extra, text });
  };
  if (link.index === snap.index) {
    if (type === RTM_DELLINK) {
      ev('bond-deleted', `bond ${snap.name} was deleted`);
      return out;
    }
    if (link.up !== snap.up) ev(link.up ? 'bond-up' : 'bond-down', `bond ${snap.name} ${link.up ? 'up' : 'down'}`);
    if (link.up && link.lowerUp !== snap.carrier) ev('bond-carrier', `bond ${snap.name} carrier ${link.lowerUp ? 'on' : 'off'}`);
    snap.up = link.up;
    snap.carrier = link.lowerUp;
    if (link.infoData) {
      const d = decodeBondData(link.infoData);
      const active = d.activeIndex ? snap.ports.get(d.activeIndex)?.name ?? `#${d.activeIndex}` : undefined;
      if (active !== snap.active) {
        ev('active', `active port ${snap.active ?? 'none'} -> ${active ?? 'none'}`, { ...(snap.active ? { from: snap.active } : {}), ...(active ? { to: active } : {}) });
        if (active) snap.active = active;
        else delete snap.active;
      }
    }
    return out;
  }
  const known = snap.ports.get(link.index);
  const mine = type === RTM_NEWLINK && link.master === snap.index;
  if (known && !mine) {
    snap.ports.delete(link.index);
    ev('port-removed', `port ${known.name} removed${type === RTM_DELLINK ? ' (interface deleted)' : ''}`, { port: known.name });
    return out;
  }
  if (!mine) return out;
  const data = link.slaveData ? decodePortData(link.slaveData) : undefined;
  const now2: PortSnap = { name: link.name, mii: data?.miiStatus ?? known?.mii ?? 'down', carrier: link.lowerUp, state: data?.state ?? known?.state ?? 'backup' };
  if (!known) {
    snap.ports.set(link.index, now2);
    ev('port-added', `port ${link.name} added (mii ${now2.mii})`, { port: link.name });
    return out;
  }
  if (known.carrier !== now2.carrier) ev('port-carrier', `port ${link.name} carrier ${now2.carrier ? 'on' : 'off'}`, { port: link.name, from: known.carrier ? 'on' : 'off', to: now2.carrier ? 'on' : 'off' });
  if (known.mii !== now2.mii) ev('port-mii', `port ${link.name} link ${known.mii} -> ${now2.mii}`, { port: link.name, from: known.mii, to: now2.mii });
  if (known.state !== now2.state) ev('port-state', `port ${link.name} ${known.state} -> ${now2.state}`, { port: link.name, from: known.state, to: now2.state });
  snap.ports.set(link.index, now2);
  return out;
}

/** Join RTNLGRP_LINK; `fn` gets every link notification (decoded). Returns the unsubscribe function. */
export function subscribeLinks(fn: (type: number, link: Link) => void): () => void {
  const session = NetlinkSession.get(NETLINK_ROUTE);
  return session.subscribe(RTNLGRP_LINK, (msg: NetlinkMessage) => {
    if (msg.type !== RTM_NEWLINK && msg.type !== RTM_DELLINK) return;
    let link: Link;
    try {
      link = decodeLink(msg);
    } catch {
      return;
    }
    fn(msg.type, link);
  });
}
