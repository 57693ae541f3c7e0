/** A readability watch made by watch(). */
export type WatchHandle = { readonly __watch: unique symbol };

export interface HaNative {
  /** flock(2): 0 or -errno. */
  flock(fd: number, operation: number): number;
  /** sched_setscheduler(2) of one thread (tid 0: the calling one): 0 or -errno. */
  schedSetScheduler(tid: number, policy: number, priority: number): number;
  /** setns(2) with CLONE_NEWNET for this thread: 0 or -errno. */
  setns(fd: number): number;
  /** socket(2), always non-blocking and close-on-exec: the descriptor or -errno. */
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  /** An int option (number) or a struct (bytes): 0 or -errno. */
  setsockopt(fd: number, level: number, name: number, value: number | Uint8Array): number;
  /** Up to `size` bytes of the option, or -errno. */
  getsockopt(fd: number, level: number, name: number, size: number): Buffer | number;
  bind(fd: number, sockaddr: Uint8Array): number;
  getsockname(fd: number): Buffer | number;
  /** Bytes sent or -errno (-EAGAIN when the socket buffer is full). */
  sendmsg(fd: number, data: Uint8Array | Uint8Array[], sockaddr?: Uint8Array | null, control?: Uint8Array | null): number;
  /**
   * One datagram into `buffer`: [length, realLength, sockaddr, control, flags], or -errno
   * (-EAGAIN when there is nothing to read). realLength > length means it was cut short.
   */
  recvmsg(fd: number, buffer: Uint8Array, controlSize: number): [number, number, Buffer, Buffer, number] | number;
  /** One netlink datagram into `buffer`: [length, realLength, senderPort, groups], or -errno. */
  recvNetlink(fd: number, buffer: Uint8Array): [number, number, number, number] | number;
  /**
   * Call `callback(status)` whenever fd is readable; status < 0 is the socket's pending error
   * (-ENOBUFS: a netlink receive overrun), after which the watch goes on.
   */
  watch(fd: number, callback: (status: number) => void): WatchHandle | number;
  unwatch(handle: WatchHandle): number;
  /** Whether the watch keeps the event loop (and so the process) alive. */
  ref(handle: WatchHandle, keepAlive: boolean): number;
}

export function native(): HaNative;
export const SCHED_OTHER: 0;
export const SCHED_FIFO: 1;
export const SCHED_RR: 2;
export const SCHED_RESET_ON_FORK: 0x40000000;
export const LOCK_SH: 1;
export const LOCK_EX: 2;
export const LOCK_NB: 4;
export const LOCK_UN: 8;
