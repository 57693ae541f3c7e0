/**
 * How instances read for people and in --json: the configured values with the defaults filled in.
 */
import { table } from '@ha/lib';
import { DEFAULTS, Instance, instanceFamily, instanceVersion } from './model.js';

/** One configured instance, defaults applied (the JSON shape of `vrrp list`, `add` and `set`). */
export interface InstanceView {
  name: string;
  interface: string;
  vrid: number;
  family: 4 | 6;
  version: 2 | 3;
  priority: number;
  advertInterval: number;
  vips: string[];
  excludedVips: string[];
  preempt: boolean;
  preemptDelay: number;
  accept: boolean;
  auth: 'none' | 'pass';
  unicastSource?: string;
  unicastPeers: string[];
  tracking: Array<{ kind: 'interface' | 'file' | 'script' | 'check'; name: string; weight?: number; reverse: boolean }>;
}

export function describeInstance(name: string, i: Instance): InstanceView {
  return {
    name,
    interface: i.interface,
    vrid: i.vrid,
    family: instanceFamily(i),
    version: instanceVersion(i),
    priority: i.priority ?? DEFAULTS.priority,
    advertInterval: i.advertInterval ?? DEFAULTS.advertInterval,
    vips: i.vips,
    excludedVips: i.excludedVips ?? [],
    preempt: !i.nopreempt,
    preemptDelay: i.preemptDelay ?? 0,
    accept: i.accept ?? false,
    auth: i.authPass ? 'pass' : 'none',
    ...(i.unicastSource ? { unicastSource: i.unicastSource } : {}),
    unicastPeers: i.unicastPeers ?? [],
    tracking: [
      ...(i.trackInterfaces ?? []).map((t) => ({ kind: 'interface' as const, name: t.interface, ...(t.weight !== undefined ? { weight: t.weight } : {}), reverse: t.reverse ?? false })),
      ...(i.trackFiles ?? []).map((t) => ({ kind: 'file' as const, name: t.path, ...(t.weight !== undefined ? { weight: t.weight } : {}), reverse: t.reverse ?? false })),
      ...(i.trackScripts ?? []).map((t) => ({ kind: 'script' as const, name: t.script, ...(t.weight !== undefined ? { weight: t.weight } : {}), reverse: t.reverse ?? false })),
      ...(i.trackChecks ?? []).map((t) => ({ kind: 'check' as const, name: t.check, ...(t.weight !== undefined ? { weight: t.weight } : {}), reverse: t.reverse ?? false })),
    ],
  };
}

export function renderInstances(list: InstanceView[]): string {
  return table(
    ['NAME', 'INTERFACE', 'VRID', 'VER', 'PRIO', 'ADVERT', 'PREEMPT', 'VIPS', 'TRACKING'],
    list.map((i) => [
      i.name, i.interface, i.vrid, `v${i.version}`, i.priority, `${i.advertInterval}s`,
      i.preempt ? (i.preemptDelay ? `after ${i.preemptDelay}s` : 'yes') : 'no',
      [...i.vips, ...i.excludedVips.map((v) => `(${v})`)].join(' '),
      i.tracking.map((t) => `${t.kind} ${t.name}${t.weight !== undefined ? ` ${t.weight > 0 ? '+' : ''}${t.weight}` : ''}${t.reverse ? ' reverse' : ''}`).join(', ') || '-',
    ]),
    { align: ['left', 'left', 'right', 'left', 'right', 'right', 'left', 'left', 'left'] },
  );
}
