import { HaCommand, table } from '@ha/lib';
import { TeardownResult, modeText, parseVips, realserverFlags, teardownRealserver } from '../../../realserver.js';

export default class RealserverTeardown extends HaCommand<TeardownResult> {
  static override summary = 'Remove VIPs from lo (or tunl0) and undo what setup changed once no VIP needs it.';

  static override description = `Removes each given VIP (its /32 or /128 address) from lo, or from tunl0 with --tunnel. VIPs that are not there are skipped, so running teardown twice is harmless.

Then it puts back the values "ha ipvs realserver setup" replaced (it recorded them in $HA_RUN_DIR, default /run/ha), but only when nothing needs them any more: the ARP sysctls (arp_ignore, arp_announce on "all" and lo or tunl0) stay while any IPv4 VIP remains on lo or tunl0, and with --tunnel rp_filter and tunl0's up state stay while any address remains on tunl0. A value that was changed by someone else since setup is left as it is. The addresses go before the sysctls, so that a VIP never exists without them.

Output: each change made, then what was left and why (settings still needed by remaining VIPs, values setup did not set). With --json: {vips, mode, device, changes: [{what, from, to}], kept: [{what, value, reason}]}. Exit status: 0 done (or nothing to do), 1 the kernel refused, 2 invalid --vip values (nothing changed).`;

  static override examples = [
    { description: 'Stop serving 192.0.2.10 by direct routing.', command: '<%= config.bin %> ipvs realserver teardown --vip 192.0.2.10' },
    { description: 'Remove a tunnelled VIP, as JSON.', command: '<%= config.bin %> ipvs realserver teardown --tunnel --vip 192.0.2.10 --json' },
  ];

  static override flags = { ...realserverFlags };

  protected async exec(): Promise<TeardownResult> {
    const { flags } = await this.parse(RealserverTeardown);
    const mode = flags.tunnel ? 'tunnel' : 'droute';
    const vips = parseVips(flags.vip, mode);
    await this.lockKernel('realserver');
    return teardownRealserver(vips, mode);
  }

  protected override render(r: TeardownResult): string {
    const lines: string[] = [];
    if (r.changes.length === 0) {
      lines.push(`Nothing to change: ${r.vips.join(', ')} not on ${r.device}, and nothing setup changed is left to restore.`);
    } else {
      lines.push(`Tore down ${r.vips.join(', ')} for ${modeText(r.mode)}:`);
      lines.push(table(['CHANGED', 'FROM', 'TO'], r.changes.map((c) => [c.what, c.from, c.to])));
    }
    if (r.kept.length > 0) {
      lines.push('Left as they are:');
      lines.push(table(['SETTING', 'VALUE', 'WHY'], r.kept.map((k) => [k.what, k.value, k.reason])));
    }
    return lines.join('\n');
  }
}
