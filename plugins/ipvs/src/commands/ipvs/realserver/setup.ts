import { HaCommand, table } from '@ha/lib';
import { SetupResult, modeText, parseVips, realserverFlags, setupRealserver } from '../../../realserver.js';

export default class RealserverSetup extends HaCommand<SetupResult> {
  static override summary = 'Prepare this host as an LVS real server: the VIPs on lo (or tunl0) and no ARP answers for them.';

  static override description = `For direct routing (the director's -g, the default here) each VIP is added to lo as a host address, /32 (IPv6 /128), so that this host accepts the packets the director forwards to it unchanged. Because every real server holds the VIP, none may answer ARP for it, or clients would bypass the director. So, before any address is added, setup sets net.ipv4.conf.all.arp_ignore to 1 (answer ARP only for addresses of the interface the request arrives on) and net.ipv4.conf.all.arp_announce to 2 (never use the VIP as the source of ARP requests), and the same two on lo; the kernel uses the larger of "all" and the interface's value.

The order matters: if the VIP appeared first, the host could answer an ARP request for it in the window before the sysctls change, and the neighbours (the router in front of the director) would cache this host's MAC address for the VIP. IPv6 VIPs need no sysctl: Linux answers neighbour solicitations for a global address only on the interface that holds it. arp_ignore values 2 and 8 are stricter than 1 and are left as they are.

With --tunnel (the director's -i, IPIP) the VIPs go on tunl0, the fallback device of the ipip module ("modprobe ipip" creates it), which is brought up. The director's packets arrive there decapsulated with the client's address as their source, while the route back to the client leaves through another interface; reverse-path filtering would drop them, so rp_filter is set to 0 on tunl0 and on "all" (again the kernel uses the larger value). Other interfaces keep their own rp_filter. --tunnel takes IPv4 VIPs only.

Setup is idempotent: what is already in place is left alone, and a second run changes nothing and says so. It refuses, changing nothing, when a VIP is already on another interface or with another prefix length (the host would answer ARP for it there). The values it replaced are recorded in $HA_RUN_DIR (default /run/ha, one file per network namespace) so that "ha ipvs realserver teardown" can put them back.

Output: each change made, as WHAT FROM TO; with --json {vips, mode, device, changes: [{what, from, to}]}. Exit status: 0 done (or nothing to do), 1 the kernel refused or tunl0 is missing, 2 invalid --vip values (nothing changed).`;

  static override examples = [
    { description: 'A direct-routing real server for one VIP.', command: '<%= config.bin %> ipvs realserver setup --vip 192.0.2.10' },
    { description: 'Several VIPs, IPv4 and IPv6.', command: '<%= config.bin %> ipvs realserver setup --vip 192.0.2.10 --vip 2001:db8::10' },
    { description: 'A tunnelled (IPIP) real server, after modprobe ipip.', command: '<%= config.bin %> ipvs realserver setup --tunnel --vip 192.0.2.10,192.0.2.11' },
    { description: 'The changes as JSON.', command: '<%= config.bin %> ipvs realserver setup --vip 192.0.2.10 --json' },
  ];

  static override flags = { ...realserverFlags };

  protected async exec(): Promise<SetupResult> {
    const { flags } = await this.parse(RealserverSetup);
    const mode = flags.tunnel ? 'tunnel' : 'droute';
    const vips = parseVips(flags.vip, mode);
    await this.lockKernel('realserver');
    return setupRealserver(vips, mode);
  }

  protected override render(r: SetupResult): string {
    const vips = r.vips.join(', ');
    if (r.changes.length === 0) return `Nothing to change: ${vips} already set up for ${modeText(r.mode)}.`;
    return [
      `Set up ${vips} for ${modeText(r.mode)}:`,
      table(['CHANGED', 'FROM', 'TO'], r.changes.map((c) => [c.what, c.from, c.to])),
    ].join('\n');
  }
}
