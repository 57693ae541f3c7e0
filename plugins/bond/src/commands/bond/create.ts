import * as Flags from '@oclif/core/flags';
import { HaCommand, OperationError, UsageError } from '@ha/lib';
import { bondArg, modeFlag, optionFlags, optionsFromFlags, portsFlag, primaryFlag } from '../../flags.js';
import { Bond, checkNewPorts, getBond, linksByName } from '../../kernel.js';
import { createSteps } from '../../ops.js';
import { DEFAULT_MIIMON, FAILOVER_MODES, checkIfname, parseMode, resolveOptions } from '../../options.js';
import { renderBond } from '../../render.js';

export default class BondCreate extends HaCommand<{ bond: Bond }> {
  static override summary = 'Create a bond, with its ports and options.';
  static override description = `Creates a bonding interface over rtnetlink (as "ip link add NAME type bond ..." or "nmcli connection add type bond ..." would), enslaves the ports in the order given, sets the primary port and brings the bond up. Every option is checked against the mode before anything is sent; an option that means nothing in the mode is refused, naming the modes it applies to.

Safer default than the kernel: link monitoring is on. Unless --arp-interval is given, MII monitoring runs every ${DEFAULT_MIIMON} ms (--miimon ${DEFAULT_MIIMON}), as NetworkManager does; the kernel alone would leave balance-rr, active-backup, balance-xor and broadcast bonds without any link monitoring, so a dead port would keep receiving traffic. Give --miimon 0 to really turn it off.

Options take the kernel's names in kebab case (--lacp-rate, --xmit-hash-policy, --arp-ip-target); the names ip(8) and nmcli use are accepted too where they differ (--peer-notif-delay, --arp-missed-max, --num-grat-arp, --ad-lacp-rate). Delays (--updelay, --downdelay, --peer-notify-delay) must be multiples of --miimon. Ports must exist and not belong to another bond or bridge. The bond is read back from the kernel and shown.`;

  static override examples = [
    { description: 'Active-backup over two ports, eth0 preferred.', command: '<%= config.bin %> bond create bond0 --mode active-backup --ports eth0,eth1 --primary eth0' },
    { description: 'LACP with fast LACPDUs and layer 3+4 hashing.', command: '<%= config.bin %> bond create bond1 --mode 802.3ad --ports eth2,eth3 --lacp-rate fast --xmit-hash-policy layer3+4' },
    { description: 'ARP monitoring instead of MII, probing two gateways.', command: '<%= config.bin %> bond create bond2 --mode 1 --arp-interval 200 --arp-ip-target 192.0.2.1,192.0.2.2 --arp-validate all' },
    { description: 'The result as JSON.', command: '<%= config.bin %> bond create bond0 --mode balance-xor --ports eth0,eth1 --json' },
  ];

  static override args = { name: bondArg('Name of the new bond interface (at most 15 characters).') };

  static override flags = {
    mode: modeFlag(true),
    ports: portsFlag,
    primary: primaryFlag,
    down: Flags.boolean({ summary: 'Leave the bond down (default: bring it up).' }),
    ...optionFlags,
  };

  protected async exec(): Promise<{ bond: Bond }> {
    const { args, flags } = await this.parse(BondCreate);
    checkIfname(args.name, 'bond name');
    const mode = parseMode(flags.mode as string)!;
    const options = resolveOptions(mode, optionsFromFlags(flags));
    const portNames = (flags.ports as string[] | undefined) ?? [];
    for (const p of portNames) checkIfname(p, 'port');
    const primary = flags.primary as string | undefined;
    if (primary !== undefined) {
      if (!FAILOVER_MODES.includes(mode)) throw new UsageError(`--primary is not valid in mode ${mode}; it applies to ${FAILOVER_MODES.join(', ')}`);
      if (!portNames.includes(primary)) throw new UsageError(`--primary ${primary} is not one of the ports (--ports ${portNames.join(',') || 'none given'})`);
    }
    await this.lockKernel('bonds');
    const links = await linksByName();
    const ports = checkNewPorts(args.name, portNames, links);
    if (links.has(args.name)) throw new OperationError(`interface ${args.name} already exists`, 'EEXIST');
    await this.change(await createSteps({ name: args.name, mode, options, ports: portNames, primary, up: !flags.down }, ports), { target: 'the bonds' });
    return { bond: await getBond(args.name) };
  }

  protected override render(r: { bond: Bond }): string {
    return renderBond(r.bond);
  }
}
