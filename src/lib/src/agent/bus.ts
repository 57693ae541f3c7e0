/**
 * The agent's event bus: how services tell each other, and the people watching, what happened
 * (a VRRP transition, a check result, a reload).
 *
 * Events are numbered in the order they are published, and every subscriber receives them in that
 * order. Delivery is asynchronous (never inside publish()), so a publisher is never re-entered by
 * its subscribers' code. Each subscriber has its own bounded queue: a handler that returns a
 * promise (a socket client whose connection is full) holds back only its own queue, and a
 * subscriber that falls `maxQueue` events behind while its handler is busy is dropped, told so
 * through `onDrop`, and the others hear an `agent`/`subscriber-dropped` event. No subscriber can
 * block another one or make the agent's memory grow without bound.
 */
import { HaError } from '../errors.js';
import type { Logger } from '../log.js';

export interface AgentEvent {
  /** Position in the agent's event stream, from 1, without gaps. */
  seq: number;
  /** When it was published (ISO 8601, UTC). */
  time: string;
  /** What published it: a service's name ("vrrp", "checks") or "agent". */
  source: string;
  /** What happened, in the source's terms ("transition", "result", "reload"). */
  type: string;
  /** The details, as JSON. */
  data: unknown;
}

/** Receives one event at a time; a returned promise holds back the next one until it settles. */
export type EventHandler = (event: AgentEvent) => void | Promise<void>;

export interface SubscribeOptions {
  /** Only events of these sources (default: all). */
  sources?: string[];
  /** Events that may wait for this subscriber before it is dropped (default: the bus's). */
  maxQueue?: number;
  /** Called once if the subscriber is dropped for falling behind. */
  onDrop?: (error: HaError) => void;
  /** Who subscribes, for messages ("client 12"). */
  name?: string;
}

export interface Subscription {
  readonly closed: boolean;
  /** Events waiting to be handled. */
  readonly queued: number;
  /** Stop receiving events (those still queued are discarded). */
  close(): void;
}

export interface EventBusOptions {
  /** Default bound of each subscriber's queue (default 1024). */
  maxQueue?: number;
  /** The time of an event (tests pass a fixed clock). */
  now?: () => Date;
  /** Where failing handlers and dropped subscribers are reported. */
  logger?: Logger;
}

export const DEFAULT_MAX_QUEUE = 1024;

class Subscriber implements Subscription {
  private queue: AgentEvent[] = [];
  private head = 0;
  private busy = false;
  private scheduled = false;
  private closedFlag = false;
  readonly sources?: ReadonlySet<string>;

  constructor(private readonly bus: EventBus, private readonly handler: EventHandler, private readonly options: SubscribeOptions, private readonly maxQueue: number) {
    if (options.sources && options.sources.length > 0) this.sources = new Set(options.sources);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  get name(): string {
    return this.options.name ?? 'a subscriber';
  }

  /**
   * Queue an event; false when this subscriber is behind (the caller drops it): its handler is
   * still busy with an earlier event and `maxQueue` more wait. Events published in one go to a
   * subscriber that is not busy wait only for the next microtask, however many they are.
   */
  offer(event: AgentEvent): boolean {
    if (this.closedFlag || (this.sources && !this.sources.has(event.source))) return true;
    if (this.busy && this.queued >= this.maxQueue) return false;
    this.queue.push(event);
    this.schedule();
    return true;
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.queue = [];
    this.head = 0;
    this.bus.forget(this);
  }

  drop(): void {
    const queued = this.queued;
    this.close();
    this.options.onDrop?.(new HaError(`${this.name} fell ${queued} events behind and was dropped (events are not kept without bound for a reader that does not read)`, { code: 'EOVERFLOW' }));
  }

  private schedule(): void {
    if (this.scheduled || this.busy) return;
    this.scheduled = true;
    queueMicrotask(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    while (!this.closedFlag && !this.busy && this.queued > 0) {
      const event = this.queue[this.head]!;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      let result: void | Promise<void>;
      try {
        result = this.handler(event);
      } catch (error) {
        this.bus.handlerFailed(this.name, event, error);
        continue;
      }
      if (result && typeof (result as Promise<void>).then === 'function') {
        this.busy = true;
        (result as Promise<void>).then(
          () => { this.busy = false; this.drain(); },
          (error: unknown) => { this.busy = false; this.bus.handlerFailed(this.name, event, error); this.drain(); },
        );
        return;
      }
    }
  }
}

export class EventBus {
  private seq = 0;
  private readonly subscribers = new Set<Subscriber>();
  private readonly maxQueue: number;
  private readonly now: () => Date;

  constructor(private readonly options: EventBusOptions = {}) {
    this.maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.now = options.now ?? (() => new Date());
  }

  /** The number of the last event published (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  /** How many subscribers are listening. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Publish an event to every subscriber (delivered after this call returns). `data` must be
   * JSON-able and not be changed afterwards: subscribers receive that same object.
   */
  publish(source: string, type: string, data: unknown = {}): AgentEvent {
    const event: AgentEvent = Object.freeze({ seq: ++this.seq, time: this.now().toISOString(), source, type, data });
    const dropped: Subscriber[] = [];
    for (const s of this.subscribers) if (!s.offer(event)) dropped.push(s);
    // after the loop: the event about a drop comes after the event that caused it, for everyone
    for (const s of dropped) {
      const queued = s.queued;
      s.drop();
      this.options.logger?.warn('subscriber dropped: it fell too far behind', { subscriber: s.name, queued });
      this.publish('agent', 'subscriber-dropped', { subscriber: s.name, queued });
    }
    return event;
  }

  /** Receive every event published from now on (of the given sources), in order. */
  subscribe(handler: EventHandler, options: SubscribeOptions = {}): Subscription {
    const s = new Subscriber(this, handler, options, Math.max(1, options.maxQueue ?? this.maxQueue));
    this.subscribers.add(s);
    return s;
  }

  /** Drop every subscriber (the agent is stopping). */
  closeAll(): void {
    for (const s of [...this.subscribers]) s.close();
  }

  /** @internal */
  forget(s: Subscriber): void {
    this.subscribers.delete(s);
  }

  /** @internal */
  handlerFailed(name: string, event: AgentEvent, error: unknown): void {
    this.options.logger?.error('an event handler failed', { subscriber: name, source: event.source, type: event.type, seq: event.seq, error: error instanceof Error ? error.message : String(error) });
  }
}
