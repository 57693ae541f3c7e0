import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { HaCommand, addressFlag, keyValues, wholeNumberFlag } from '@ha/lib';

const PORT = { min: 1, max: 65535 };
import { Lookup, LookupOptions, links, lookup } from '../../kernel.js';
import { checkIfname, pathText, tableName } from '../../model.js';

const PROTOS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132 };

export default class RouteGet extends HaCommand<Lookup> {
  static override summary = 'Show which route and path the kernel would use now for a packet to ADDRESS.';
  static override description = `Asks the kernel (RTM_GETROUTE) which route matches ADDRESS and which path it chooses, as it would for a packet sent now: the matching route with its metric and every path, then the gateway and interface chosen. For multipath routes the choice depends on the flow: give --ipproto, --sport and --dport (with hash policy l4) or --from to ask about one flow.`;

  static override examples = [
    { description: 'Where does traffic to 203.0.113.7 go?', command: '<%= config.bin %> route get 203.0.113.7' },
    { description: 'Which path of a multipath route one TCP flow takes.', command: '<%= config.bin %> route get 203.0.113.7 --ipproto tcp --sport 40000 --dport 443' },
  ];

  static override args = {
    address: Args.string({ ignoreStdin: true, required: true, description: 'Destination address (IPv4 or IPv6).' }),
  };

  static override flags = {
    from: addressFlag({ summary: 'Source address of the packet.' }),
    dev: Flags.string({ summary: 'Outgoing interface the packet is bound to.', helpValue: 'IF' }),
    mark: wholeNumberFlag({ summary: 'Firewall mark of the packet (0-4294967295).', helpValue: 'MARK', range: { min: 0, max: 4294967295 } }),
    ipproto: Flags.string({ summary: 'IP protocol of the flow.', options: Object.keys(PROTOS) }),
    sport: wholeNumberFlag({ summary: 'Source port of the flow (1-65535).', helpValue: 'PORT', range: PORT, noun: 'a port' }),
    dport: wholeNumberFlag({ summary: 'Destination port of the flow (1-65535).', helpValue: 'PORT', range: PORT, noun: 'a port' }),
  };

  protected async exec(): Promise<Lookup> {
    const { args, flags } = await this.parse(RouteGet);
    const o: LookupOptions = {};
    if (flags.from !== undefined) o.from = flags.from;
    if (flags.dev !== undefined) o.dev = checkIfname(flags.dev);
    if (flags.mark !== undefined) o.mark = flags.mark;
    if (flags.ipproto !== undefined) o.ipProto = PROTOS[flags.ipproto];
    if (flags.sport !== undefined) o.sport = flags.sport;
    if (flags.dport !== undefined) o.dport = flags.dport;
    const l = await links();
    return lookup(args.address, o, l);
  }

  protected override render(r: Lookup): string {
    return keyValues([
      ['address', r.address],
      ['route', r.route ? `${r.route.dst} metric ${r.route.metric}` : r.type],
      ['table', tableName(r.table)],
      ['paths', r.route ? pathText(r.route) : undefined],
      ['via', r.via],
      ['dev', r.dev],
      ['src', r.src],
    ]);
  }
}
