/**
 * What the ipvs commands share: ipvsadm's optional `-p` value, and turning flags into a service key.
 */
import { HaCommand, UsageError } from '@ha/lib';
import { withOptionalPersistence } from './flags.js';

export abstract class IpvsCommand<T> extends HaCommand<T> {
  override async init(): Promise<void> {
    this.argv = withOptionalPersistence(this.argv);
    await super.init();
  }
}

/** "ADDR:PORT" etc. must come with exactly one of -t -u --sctp-service -f. */
export function requireOne(flags: Record<string, unknown>, names: string[], what: string): void {
  const given = names.filter((n) => flags[n] !== undefined && flags[n] !== false);
  if (given.length === 0) throw new UsageError(`${what}: give one of ${names.map((n) => `--${n}`).join(', ')}`);
  if (given.length > 1) throw new UsageError(`${what}: give only one of ${given.map((n) => `--${n}`).join(', ')}`);
}
