/**
 * The plugin contract for the agent: long-running services.
 *
 * A plugin that runs something continuously (VRRP instances, health checks) registers, through the
 * oclif hook `ha:services`, a ServiceProvider for the state-file section it runs. The agent starts
 * one service per section present in the file, in `order` (the sections' restore order: checks 40
 * before vrrp 50, so that trackers find the checks they follow), hands it the section on every
 * reload in which the section's JSON changed, and stops it (in reverse order) when the section
 * goes or the agent stops. The section was validated against the plugin's `ha:sections` schema
 * and checks before a service sees it. A service answers control methods (`vrrp.status`) through
 * the agent's socket, and talks to other services only through the event bus and their plugins'
 * exported APIs.
 *
 * A service's timers go through `ctx.clock`, its logging through `ctx.logger`, its kernel
 * requests through `ctx.netlink`, so that all of them can be replaced in tests.
 */
import type { Config } from '@oclif/core';
import type { Registry } from 'prom-client';
import { HaError } from '../errors.js';
import type { Logger } from '../log.js';
import type { NetlinkHandle } from '../netlink/handle.js';
import type { HaHooks } from '../state/contract.js';
import type { EventBus } from './bus.js';
import type { Clock } from './clock.js';

export const SERVICES_HOOK = 'ha:services';

/** What a running service can use. */
export interface ServiceContext {
  /** A logger whose lines name the service. */
  logger: Logger;
  /** The agent's event bus: publish with the service's name as source. */
  bus: EventBus;
  /** Monotonic time and timers (a ManualClock in tests). */
  clock: Clock;
  /** The Prometheus registry that `ha agent run --metrics` serves: register the service's metrics here. */
  metrics: Registry;
  /** The netlink handle to talk to the kernel with (a fake kernel's in tests). */
  netlink: NetlinkHandle;
  /** The state file the section comes from. */
  stateFile: string;
  /** Aborted when the agent stops (after which stop() is called). */
  signal: AbortSignal;
}

/** Who calls a control method. */
export interface CallContext {
  /** The full method name ("vrrp.status"). */
  method: string;
  /** The connection it came on ("client 3"). */
  client: string;
}

/** What a reload changed, one line each ("vrrp instance VI_1: priority 100 -> 150"). */
export type ReloadSummary = string[];

/** A control method: params as the client sent them (check them), a JSON-able result. */
export type ServiceMethod = (params: unknown, call: CallContext) => Promise<unknown> | unknown;

export interface Service<T = unknown> {
  /**
   * Run `section` from now on, changing only what differs (a master keeps its VIPs). Called only
   * when the section's JSON changed. If it throws, the service must still be running the section
   * it had: the agent reports the failure and keeps that one as the running section.
   */
  reload(section: T): Promise<ReloadSummary | void>;
  /** Stop everything this service started (timers, sockets, what it put in the kernel, as it sees fit). */
  stop(): Promise<void>;
  /** What `ha agent status` shows of this service (JSON-able). */
  status(): unknown;
  /** Control methods, by name without the service's prefix ("status" answers "vrrp.status"). */
  methods?: Record<string, ServiceMethod>;
}

export interface ServiceProvider<T = unknown> {
  /** The state-file section this service runs ("vrrp", "checks"). */
  name: string;
  /** Start order; lower first, stopped in reverse. */
  order: number;
  /** Start running `section`; the service is running when this resolves. */
  start(ctx: ServiceContext, section: T): Promise<Service<T>>;
}

export interface LoadedServiceProvider extends ServiceProvider {
  /** The oclif plugin that registered it. */
  plugin: string;
}

/** Collect the service providers of every installed plugin, in start order. */
export async function loadServiceProviders(config: Config): Promise<LoadedServiceProvider[]> {
  const result = await config.runHook<typeof SERVICES_HOOK, HaHooks>(SERVICES_HOOK, {});
  for (const failure of result.failures) {
    throw new HaError(`plugin ${failure.plugin.name} failed to register its agent services: ${failure.error.message}`);
  }
  const providers: LoadedServiceProvider[] = [];
  for (const success of result.successes) {
    const list = Array.isArray(success.result) ? success.result : [success.result];
    for (const p of list) {
      if (!p || typeof p.name !== 'string' || typeof p.start !== 'function') continue;
      const clash = providers.find((q) => q.name === p.name);
      if (clash) throw new HaError(`agent service "${p.name}" is registered by both ${clash.plugin} and ${success.plugin.name}`);
      providers.push({ name: p.name, order: p.order, start: p.start.bind(p), plugin: success.plugin.name });
    }
  }
  return providers.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}
