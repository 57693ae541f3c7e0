import { HaCommand, colour, table } from '@ha/lib';
import { CheckResult, checkRealserver, modeText, parseVips, realserverFlags } from '../../../realserver.js';

export default class RealserverCheck extends HaCommand<CheckResult> {
  static override summary = 'Check that this host is ready as an LVS real server for the given VIPs.';

  static override description = `Reports each requirement that "ha ipvs realserver setup" fulfils, as ok or missing, with a command that fixes it: for IPv4 VIPs net.ipv4.conf.all.arp_ignore and net.ipv4.conf.lo.arp_ignore at 1 (2 and 8 also do), net.ipv4.conf.all.arp_announce and net.ipv4.conf.lo.arp_announce at 2; each VIP on lo as /32 (IPv6 /128); and each VIP on no other interface and with no other prefix length, where the host would answer ARP for it or own a whole subnet.

With --tunnel the ARP sysctls are checked on "all" and tunl0, the addresses on tunl0, and in addition net.ipv4.conf.{all,tunl0}.rp_filter = 0 and tunl0 up (tunl0 exists once the ipip module is loaded).

Nothing is changed. Exit status: 0 when every requirement is met, 1 when something is missing (the report says what, and the last line gives the setup command that fixes it), 2 for invalid --vip values. With --json: {vips, mode, device, ok, requirements: [{what, expected, actual, status, fix}], fix}.`;

  static override examples = [
    { description: 'Is this host ready to serve 192.0.2.10 by direct routing?', command: '<%= config.bin %> ipvs realserver check --vip 192.0.2.10' },
    { description: 'The same for a tunnelled real server, as JSON for monitoring.', command: '<%= config.bin %> ipvs realserver check --tunnel --vip 192.0.2.10 --json' },
  ];

  static override flags = { ...realserverFlags };

  protected async exec(): Promise<CheckResult> {
    const { flags } = await this.parse(RealserverCheck);
    const mode = flags.tunnel ? 'tunnel' : 'droute';
    const vips = parseVips(flags.vip, mode);
    const result = await checkRealserver(vips, mode);
    if (!result.ok) process.exitCode = 1;
    return result;
  }

  protected override render(r: CheckResult): string {
    const c = colour();
    const missing = r.requirements.filter((x) => x.status === 'missing');
    const rows = r.requirements.map((x) => [
      x.what,
      x.status === 'ok' ? c.green('ok') : c.red('missing'),
      x.status === 'ok' ? x.actual : `${x.actual} (want ${x.expected})`,
      x.fix ?? '',
    ]);
    const lines = [table(['REQUIREMENT', 'STATUS', 'VALUE', 'FIX'], rows)];
    if (missing.length === 0) {
      lines.push(`All ${r.requirements.length} requirements met for ${modeText(r.mode)}.`);
    } else {
      lines.push(`${missing.length} of ${r.requirements.length} requirements missing for ${modeText(r.mode)}.${r.fix ? ` Fix: ${r.fix}` : ''}`);
    }
    return lines.join('\n');
  }
}
