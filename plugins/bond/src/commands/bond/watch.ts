import * as Flags from '@oclif/core/flags';
import { HaCommand } from '@ha/lib';
import { bondArg } from '../../flags.js';
import { WatchEvent, watchBond } from '../../watch.js';

interface Result { bond: string; events: number }

/** With --json the command prints one event per line as it happens (its schema says so). */
export type JsonLine = WatchEvent;

export default class BondWatch extends HaCommand<Result> {
  static override summary = 'Print a bond\'s events live: active port changes, ports up and down.';
  static override description = `Subscribes to the kernel's link notifications (rtnetlink group RTNLGRP_LINK) and prints, with a timestamp, every change of the bond and its ports as it happens: the active port moving, a port's MII link status going down or coming back (up, fail, down, back), a port losing or regaining carrier, ports added or removed, the bond going down or up. The first line describes the bond as it is when watching starts. If the kernel drops notifications (a burst larger than the socket's receive queue), a "resynced" event says so and the changes since are read back from the kernel's current state. Runs until interrupted (Ctrl-C), until --count events were printed, or until the bond is deleted.

With --json each event is printed as one JSON object per line (time, bond, event, port, from, to, text) as it happens.`;
  static override examples = [
    { description: 'Watch bond0 until Ctrl-C.', command: '<%= config.bin %> bond watch bond0' },
    { description: 'Wait for the next active port change, as JSON.', command: "<%= config.bin %> bond watch bond0 --json | jq -c 'select(.event == \"active\")'" },
  ];
  static override args = { name: bondArg() };
  static override flags = {
    count: Flags.integer({ summary: 'Stop after this many events (not counting the first line).', min: 1, helpValue: 'N' }),
  };

  private streaming = false;

  protected override logJson(json: unknown): void {
    // the events were printed as they came, one per line; the summary would break that stream
    if (this.streaming) return;
    super.logJson(json);
  }

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(BondWatch);
    const json = this.jsonEnabled();
    let count = 0;
    const watcher = watchBond(args.name, (e: WatchEvent) => {
      this.streaming = true;
      process.stdout.write(json ? `${JSON.stringify(e)}\n` : `${e.time} ${e.bond}: ${e.text}\n`);
      if (e.event === 'watching' || e.event === 'resynced') return;
      count++;
      if (flags.count !== undefined && count >= flags.count) watcher.stop();
    });
    const stop = (): void => watcher.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await watcher.finished;
    } finally {
      watcher.stop();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return { bond: args.name, events: count };
  }

  protected override render(): string | undefined {
    return undefined;
  }
}
