import * as Flags from '@oclif/core/flags';
import { HaCommand } from '@ha/lib';
import { IFA_F_PERMANENT, listAddresses } from '@ha/lib/netlink';
import { exportable, keyfiles, nmcliCommands, Keyfile } from '../../export.js';
import { bondArg } from '../../flags.js';
import { getBond } from '../../kernel.js';

interface Result { bond: string; format: 'nmcli' | 'keyfile'; commands?: string[]; keyfiles?: Keyfile[] }

export default class BondExport extends HaCommand<Result> {
  static override summary = 'Print the NetworkManager configuration that recreates a bond.';
  static override description = `--nmcli prints the nmcli commands that create the bond and one port connection per port; --keyfile prints the keyfiles (each preceded by a comment with its path under /etc/NetworkManager/system-connections; they must be mode 0600). Both carry every option the bond has in its mode, with NetworkManager's option names (peer_notif_delay, arp_missed_max, num_grat_arp...), so NetworkManager recreates exactly this bond.

The bond's static global addresses become the connection's manual addresses (ipv4.addresses, ipv6.addresses); without any, IPv4 is disabled and IPv6 left alone (ipv4.method disabled, ipv6.method ignore). Routes and gateways are not exported.`;
  static override examples = [
    { description: 'nmcli commands for bond0.', command: '<%= config.bin %> bond export bond0 --nmcli' },
    { description: 'Write the keyfiles.', command: '<%= config.bin %> bond export bond0 --keyfile' },
  ];
  static override args = { name: bondArg() };
  static override flags = {
    nmcli: Flags.boolean({ summary: 'nmcli commands (the default).', exclusive: ['keyfile'] }),
    keyfile: Flags.boolean({ summary: 'NetworkManager keyfiles.', exclusive: ['nmcli'] }),
  };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(BondExport);
    const bond = await getBond(args.name);
    // static, global addresses only: link-local and autoconfigured ones come back by themselves
    const addrs = (await listAddresses({ index: bond.index })).filter((a) => a.scope === 0 && (a.flags & IFA_F_PERMANENT) !== 0);
    const b = exportable(bond, {
      ipv4: addrs.filter((a) => a.family === 'ipv4').map((a) => `${a.address}/${a.prefixlen}`),
      ipv6: addrs.filter((a) => a.family === 'ipv6').map((a) => `${a.address}/${a.prefixlen}`),
    });
    if (flags.keyfile) return { bond: b.name, format: 'keyfile', keyfiles: keyfiles(b) };
    return { bond: b.name, format: 'nmcli', commands: nmcliCommands(b) };
  }

  protected override render(r: Result): string {
    if (r.commands) return r.commands.join('\n');
    return (r.keyfiles ?? []).map((k) => `# ${k.path}\n${k.text}`).join('\n').trimEnd();
  }
}
