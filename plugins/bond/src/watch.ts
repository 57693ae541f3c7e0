/**
 * Live bond events from the RTNLGRP_LINK multicast group: every RTM_NEWLINK / RTM_DELLINK the
 * kernel broadcasts for the bond or its ports is compared with the last known state, and the
 * differences become events (active port changed, a port's MII status or carrier changed, a port
 * was added or removed, the bond went up or down).
 */
import { Link, NETLINK_ROUTE, NetlinkMessage, NetlinkSession, RTM_DELLINK, RTM_NEWLINK, decodeLink, listLinks } from '@ha/lib/netlink';
import { decodeBondData, decodePortData } from './codec.js';
import { Bond, getBond } from './kernel.js';

export const RTNLGRP_LINK = 1;

export type WatchEventType =
  | 'watching' | 'active' | 'port-mii' | 'port-carrier' | 'port-state' | 'port-added' | 'port-removed' | 'bond-up' | 'bond-down'
  | 'bond-carrier' | 'bond-deleted' | 'resynced';

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

/**
 * After notifications were lost (ENOBUFS), the events that the links as they are now mean against
 * the snapshot: every link read again counts as a notification, a known port that is gone as its
 * deletion, and a bond that is gone as the bond's. The first event says that state was read again.
 */
export function resyncEvents(snap: Snapshot, links: Link[], now: Date = new Date()): WatchEvent[] {
  const out: WatchEvent[] = [{ time: now.toISOString(), bond: snap.name, event: 'resynced', text: 'link notifications were lost (receive queue overran): state read again' }];
  const byIndex = new Map(links.map((l) => [l.index, l]));
  const bond = byIndex.get(snap.index);
  if (!bond) return [...out, ...eventsFor(snap, RTM_DELLINK, { index: snap.index, name: snap.name } as Link, now)];
  for (const [index, port] of [...snap.ports]) {
    if (!byIndex.has(index)) out.push(...eventsFor(snap, RTM_DELLINK, { index, name: port.name } as Link, now));
  }
  for (const l of links) if (l.index !== snap.index) out.push(...eventsFor(snap, RTM_NEWLINK, l, now));
  // the bond last, so that its active port is named after the ports were read
  out.push(...eventsFor(snap, RTM_NEWLINK, bond, now));
  return out;
}

/**
 * Join RTNLGRP_LINK; `fn` gets every link notification (decoded), `lost` hears that notifications
 * were dropped (the socket's receive queue overran) and state must be read again. Returns the
 * unsubscribe function.
 */
export function subscribeLinks(fn: (type: number, link: Link) => void, lost: (error: Error) => void = () => undefined): () => void {
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
  }, lost);
}

export interface BondWatcher {
  /** Settles when watching ended: stop() was called or the bond was deleted; rejects when reading state failed. */
  finished: Promise<void>;
  stop(): void;
}

/**
 * Watch one bond: `onEvent` hears a "watching" event describing the bond as it is, then every
 * change as it happens. Notifications are joined before the state is read, so nothing in between
 * is missed; when the kernel drops notifications, the links are read again (resyncEvents) and the
 * notifications that came while reading are dropped as older than what was read.
 */
export function watchBond(name: string, onEvent: (e: WatchEvent) => void): BondWatcher {
  let snap: Snapshot | undefined;
  let stopped = false;
  let resyncing = false;
  const queued: Array<[number, Link]> = [];
  let settle!: (error?: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  const stop = (error?: unknown): void => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    settle(error);
  };
  const emit = (events: WatchEvent[]): void => {
    for (const e of events) {
      if (stopped) return;
      onEvent(e);
      if (e.event === 'bond-deleted') stop();
    }
  };
  const handle = (type: number, link: Link): void => {
    if (stopped) return;
    if (!snap || resyncing) queued.push([type, link]);
    else emit(eventsFor(snap, type, link));
  };
  const drain = (): void => {
    for (const [t, l] of queued.splice(0)) handle(t, l);
  };
  const lost = (): void => {
    if (stopped || !snap || resyncing) return;
    resyncing = true;
    const s = snap;
    listLinks().then((links) => {
      queued.length = 0;
      resyncing = false;
      emit(resyncEvents(s, links));
    }, stop);
  };
  const unsubscribe = subscribeLinks(handle, lost);
  getBond(name).then((bond) => {
    if (stopped) return;
    snap = snapshotOf(bond);
    emit([{ time: new Date().toISOString(), bond: bond.name, event: 'watching', ...(bond.active ? { to: bond.active } : {}),
      text: `watching ${bond.mode} bond, ${bond.up ? 'up' : 'down'}, active port ${bond.active ?? 'none'}, ports ${bond.ports.map((p) => `${p.name}(${p.miiStatus})`).join(' ') || 'none'}` }]);
    drain();
  }, stop);
  return { finished, stop: () => stop() };
}
