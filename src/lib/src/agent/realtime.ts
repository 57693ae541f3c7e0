/**
 * Realtime scheduling for the agent. A VRRP master advertising every 100 ms must keep time when the
 * machine is loaded (measured here: 200 `ha vrrp status` processes at once made adverts of an
 * ordinary-priority agent up to 620 ms late, and 1.2 ms at SCHED_FIFO). Like keepalived's
 * vrrp_rt_priority, the agent's threads go to SCHED_FIFO, with SCHED_RESET_ON_FORK so that every
 * script it starts runs as an ordinary task; the kernel's realtime throttling (by default 95% of
 * each second) keeps a runaway agent from taking a whole CPU.
 */
import { readdirSync } from 'node:fs';
import { SCHED_FIFO, SCHED_RESET_ON_FORK, native } from '@ha/native';
import { errnoName } from '../netlink/errno.js';

/** Put every thread of this process at SCHED_FIFO `priority` (1-99); undefined, or why not. */
export function goRealtime(priority: number): string | undefined {
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number).filter((n) => n > 0);
  } catch {
    tids = [0];
  }
  for (const tid of tids) {
    const rc = native().schedSetScheduler(tid, SCHED_FIFO | SCHED_RESET_ON_FORK, priority);
    // a thread that ended between the listing and the call is not a failure
    if (rc < 0 && rc !== -3) return `${errnoName(-rc)}${rc === -1 ? ' (realtime scheduling needs root or CAP_SYS_NICE)' : ''}`;
  }
  return undefined;
}
