/**
 * The ipvs commands' changes as steps for the step engine (@ha/lib steps.ts): each knows how to
 * undo itself, so a failure or a signal never leaves a change half-made.
 */
import { HaError, type Step } from '@ha/lib';
import {
  addServer, addService, deleteServer, deleteService, editServer, editService, flush, setTimeouts, startDaemon, stopDaemon, zero,
} from './kernel.js';
import { Server, Service, ServiceKey, SyncDaemon, Timeouts, serverLabel, serviceLabel } from './model.js';

const serviceObject = (s: ServiceKey): string => `service ${serviceLabel(s)}`;
const serverObject = (s: ServiceKey, r: Pick<Server, 'family' | 'address' | 'port'>): string => `real server ${serverLabel(r)} of ${serviceLabel(s)}`;

export function addServiceStep(s: Service): Step {
  return { op: 'add', object: serviceObject(s), apply: () => addService(s), undo: () => deleteService(s) };
}

export function editServiceStep(s: Service, was: Service): Step {
  return { op: 'change', object: serviceObject(s), apply: () => editService(s), undo: () => editService(was) };
}

/** Delete a service with its real servers (one request); its undo puts both back. */
export function deleteServiceStep(s: Service): Step {
  return {
    op: 'delete', object: serviceObject(s), apply: () => deleteService(s),
    undo: async () => {
      await addService(s);
      for (const r of s.servers) await addServer(s, r);
    },
  };
}

export function addServerStep(s: ServiceKey, r: Server): Step {
  return { op: 'add', object: serverObject(s, r), apply: () => addServer(s, r), undo: () => deleteServer(s, r) };
}

export function editServerStep(s: ServiceKey, r: Server, was: Server): Step {
  return { op: 'change', object: serverObject(s, r), apply: () => editServer(s, r), undo: () => editServer(s, was) };
}

export function deleteServerStep(s: ServiceKey, r: Server): Step {
  return { op: 'delete', object: serverObject(s, r), apply: () => deleteServer(s, r), undo: () => addServer(s, r) };
}

/** Flush the table (one request, so never half-made); its undo puts every service back. */
export function flushStep(before: Service[]): Step {
  return {
    op: 'delete', object: 'every service and real server', apply: () => flush(),
    undo: async () => {
      for (const s of before) await deleteServiceStep(s).undo();
    },
  };
}

/** Zero counters: one request that cannot be taken back (and never needs to be: nothing follows it). */
export function zeroStep(k?: ServiceKey): Step {
  return {
    op: 'change', object: k ? `counters of ${serviceObject(k)}` : 'every counter', apply: () => zero(k),
    undo: () => Promise.reject(new HaError('counters cannot be restored once zeroed')),
  };
}

export function timeoutsStep(t: Timeouts, was: Timeouts): Step {
  const fmt = (x: Timeouts): string => `${x.tcp}/${x.tcpfin}/${x.udp}`;
  return { op: 'change', object: 'timeouts (tcp/tcpfin/udp)', detail: `${fmt(was)} -> ${fmt(t)}`, apply: () => setTimeouts(t), undo: () => setTimeouts(was) };
}

export function startDaemonStep(d: SyncDaemon): Step {
  return { op: 'add', object: `${d.state} sync daemon`, apply: () => startDaemon(d), undo: () => stopDaemon(d.state) };
}

export function stopDaemonStep(was: SyncDaemon): Step {
  return { op: 'delete', object: `${was.state} sync daemon`, apply: () => stopDaemon(was.state), undo: () => startDaemon(was) };
}
