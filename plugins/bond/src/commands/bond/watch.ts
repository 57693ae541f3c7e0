import * as Flags from '@oclif/core/flags';
import { HaCommand } from '@ha/lib';
import { bondArg } from '../../flags.js';
import { getBond } from '../../kernel.js';
import { WatchEvent, eventsFor, snapshotOf, subscribeLinks } from '../../watch.js';

interface Result { bond: string; events: number }

export default class BondWatch extends HaCommand<Result> {
  static override summary = 'Print a bond\'s events live: active port changes, ports up and down.';
  static override description = `Subscribes to the kernel's link notifications (rtnetlink group RTNLGRP_LINK) and prints, with a timestamp, every change of the bond and its ports as it happens: the active port moving, a port's MII link status going down or coming back (up, fail, down, back), a port losing or regaining carrier, ports added or removed, the bond going down or up. The first line describes the bond as it is when watching starts. Runs until interrupted (Ctrl-C), until --count events were printed, or until the bond is deleted.

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
    const print = (e: WatchEvent): void => {
      process.stdout.write(json ? `${JSON.stringify(e)}\n` : `${e.time} ${e.bond}: ${e.text}\n`);
    };
    let count = 0;
    let snap: ReturnType<typeof snapshotOf> | undefined;
    const queued: Array<[number, Parameters<typeof eventsFor>[2]]> = [];
    let stopped = false;
    let resolveFinished!: () => void;
    const finished = new Promise<void>((resolve) => { resolveFinished = resolve; });
    const done = (): void => {
      stopped = true;
      resolveFinished();
    };
    const handle = (type: number, link: Parameters<typeof eventsFor>[2]): void => {
      if (stopped) return;
      if (!snap) { queued.push([type, link]); return; }
      for (const e of eventsFor(snap, type, link)) {
        print(e);
        count++;
        if (e.event === 'bond-deleted' || (flags.count !== undefined && count >= flags.count)) {
          done();
          return;
        }
      }
    };
    // subscribe first, then read the state: nothing that happens in between is missed
    const unsubscribe = subscribeLinks(handle);
    const stop = (): void => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const bond = await getBond(args.name);
      snap = snapshotOf(bond);
      this.streaming = true;
      print({ time: new Date().toISOString(), bond: bond.name, event: 'watching', ...(bond.active ? { to: bond.active } : {}),
        text: `watching ${bond.mode} bond, ${bond.up ? 'up' : 'down'}, active port ${bond.active ?? 'none'}, ports ${bond.ports.map((p) => `${p.name}(${p.miiStatus})`).join(' ') || 'none'}` });
      for (const [t, l] of queued.splice(0)) handle(t, l);
      await finished;
    } finally {
      unsubscribe();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return { bond: args.name, events: count };
  }

  protected override render(): string | undefined {
    return undefined;
  }
}
