/**
 * Netlink handles: the sockets (one session per protocol) and the generic netlink families of one
 * network namespace, opened on first use and closed together.
 *
 * A command uses the default handle (this process's namespace), closed when it ends. A long-lived
 * process (the agent) keeps its handles for as long as it runs, and tests open handles into other
 * namespaces (`netns`) or onto a fake kernel (`transport`, testing/fake-netlink.ts). Generic
 * netlink family ids are kept per handle, and looked up again when the kernel says the id is
 * gone (a module reloaded gets a new one): withFamily.
 */
import { NetlinkSession, Transport, TransportFactory, setDefaultSessions, socketTransport } from './session.js';

export interface HandleOptions {
  /** A network namespace file (/run/netns/NAME, /proc/PID/ns/net); default: this process's. */
  netns?: string;
  /** Makes the sockets (a fake one in tests); default: ha's native netlink sockets. */
  transport?: TransportFactory;
}

export class NetlinkHandle {
  private readonly sessions = new Map<number, NetlinkSession>();
  /** Generic netlink families by name (their promises), resolved through this handle. */
  readonly families = new Map<string, Promise<unknown>>();
  private readonly transport: TransportFactory;

  constructor(readonly options: HandleOptions = {}) {
    this.transport = options.transport ?? socketTransport({ netns: options.netns });
  }

  /** The session of a protocol (opened with its first request). */
  session(protocol: number): NetlinkSession {
    let s = this.sessions.get(protocol);
    if (!s) {
      s = new NetlinkSession(protocol, this.transport, () => {
        if (this.sessions.get(protocol) === s) this.sessions.delete(protocol);
      });
      this.sessions.set(protocol, s);
    }
    return s;
  }

  /** Close every session; the handle can be used again (sessions reopen). */
  close(): void {
    for (const s of [...this.sessions.values()]) s.close();
    this.sessions.clear();
    this.families.clear();
  }
}

let current: NetlinkHandle | undefined;

/** The process's default handle (its own network namespace unless a test replaced it). */
export function defaultHandle(): NetlinkHandle {
  current ??= new NetlinkHandle();
  return current;
}

/** Replace the default handle (tests: a fake kernel); undefined goes back to the real one. */
export function useDefaultHandle(handle: NetlinkHandle | undefined): void {
  current?.close();
  current = handle;
}

setDefaultSessions((protocol) => defaultHandle().session(protocol), () => current?.close());

export type { Transport, TransportFactory };
