/**
 * A socket of ha's native addon watched for readability on the event loop: the netlink sockets
 * here and the VRRP raw sockets of the vrrp plugin share how a watch starts, whether it keeps the
 * process alive, and how the socket closes (the watch first, then the descriptor, once).
 */
import { native, type WatchHandle } from '@ha/native';
import { HaError } from '../errors.js';
import { errnoName } from './errno.js';

export abstract class WatchedSocket {
  protected watchHandle?: WatchHandle;
  protected closed = false;

  constructor(readonly fd: number) {}

  /** Called when the socket is readable (status < 0: its pending error, -errno). Must not throw. */
  protected abstract readable(status: number): void;

  /** Start the readability watch (once); it does not keep the process alive until keepAlive(true). */
  protected startWatch(what: string): void {
    if (this.watchHandle || this.closed) return;
    const n = native();
    const handle = n.watch(this.fd, (status) => this.readable(status));
    if (typeof handle === 'number') throw new HaError(`${what}: cannot watch it: ${errnoName(-handle)}`);
    this.watchHandle = handle;
    n.ref(handle, false);
  }

  /** Whether the watch keeps the process alive (while replies or packets are awaited). */
  keepAlive(on: boolean): void {
    if (this.watchHandle && !this.closed) native().ref(this.watchHandle, on);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const n = native();
    if (this.watchHandle) n.unwatch(this.watchHandle);
    this.watchHandle = undefined;
    n.close(this.fd);
  }
}
