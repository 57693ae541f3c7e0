import * as Flags from '@oclif/core/flags';
import { ChunkedOutput, holdYoungGeneration } from '@ha/lib';
import { IpvsCommand, existingService } from '../../base.js';
import { serviceKeyFlags, toOptions } from '../../flags.js';
import { formatList, sortServicesInPlace } from '../../ipvsadm/format.js';
import { info, listServices } from '../../kernel.js';
import { Service } from '../../model.js';
import { renderServices } from '../../render.js';

interface ListResult {
  version: string;
  connTabSize: number;
  services: Service[];
}

export default class IpvsList extends IpvsCommand<ListResult> {
  static override summary = 'List virtual services and real servers (ipvsadm -L).';
  static override description = `Shows the IPVS table as an aligned table: each service with its scheduler and flags, then its real servers with forwarding method, weight and active/inactive connections. Services and servers are sorted numerically by address and port. Addresses are never reverse-resolved.

--format ipvsadm prints exactly what ipvsadm -Ln prints (with the same --stats, --rate, --thresholds, --persistent-conn, --tun-info and --exact options), for scripts that parse it. --json gives everything, with exact 64-bit counters.`;

  static override examples = [
    { description: 'The table.', command: '<%= config.bin %> ipvs list' },
    { description: 'With traffic counters.', command: '<%= config.bin %> ipvs list --stats' },
    { description: 'One service, as ipvsadm -Ln would print it.', command: '<%= config.bin %> ipvs list -t 192.0.2.10:80 --format ipvsadm' },
    { description: 'Everything as JSON.', command: '<%= config.bin %> ipvs list --json' },
  ];

  static override flags = {
    ...serviceKeyFlags,
    format: Flags.string({ summary: 'Output format for people.', options: ['table', 'ipvsadm'], default: 'table' }),
    stats: Flags.boolean({ summary: 'Show counters: connections, packets and bytes in and out.' }),
    rate: Flags.boolean({ summary: 'Show rates: connections, packets and bytes per second.' }),
    thresholds: Flags.boolean({ summary: 'Show upper and lower connection thresholds.' }),
    'persistent-conn': Flags.boolean({ summary: 'Show persistent connection counts.' }),
    'tun-info': Flags.boolean({ summary: 'Show tunnel type, port and checksum options.' }),
    exact: Flags.boolean({ char: 'X', summary: 'Exact numbers (no K/M/G suffixes) with --format ipvsadm.' }),
    numeric: Flags.boolean({ char: 'n', summary: 'Accepted for ipvsadm compatibility; addresses are always numeric.' }),
  };

  protected async exec(): Promise<ListResult> {
    const { flags } = await this.parse(IpvsList);
    const o = toOptions(flags);
    const one = ['tcpService', 'udpService', 'sctpService', 'fwmarkService'].some((k) => o[k] !== undefined);
    const i = await info();
    let services: Service[];
    if (one) {
      services = [await existingService(o)];
    } else {
      // most of what the table's decode makes is kept to the end (see holdYoungGeneration)
      holdYoungGeneration();
      // the table and ipvsadm's format without extra columns need no thresholds or counters:
      // the kernel's text table gives the rest in one read instead of a dump per service
      const basic = !this.jsonEnabled() && !flags.stats && !flags.rate && !flags.thresholds && !flags['persistent-conn'] && !flags['tun-info'];
      services = await listServices({ detail: basic ? 'basic' : 'full' });
    }
    // the listing is ours: sorted in place rather than copied
    return { version: i.version, connTabSize: i.connTabSize, services: sortServicesInPlace(services) };
  }

  protected override render(r: ListResult, f: Record<string, unknown>): string | undefined {
    const cols = { stats: Boolean(f.stats), rate: Boolean(f.rate), thresholds: Boolean(f.thresholds), persistentConn: Boolean(f['persistent-conn']), tunInfo: Boolean(f['tun-info']) };
    if (f.format === 'ipvsadm') {
      // written as it is made; ipvsadm's text already ends with a newline
      const out = new ChunkedOutput();
      formatList(r.services, r, { ...cols, exact: Boolean(f.exact), sorted: true }, (text) => out.add(text));
      out.flush();
      return undefined;
    }
    const out = new ChunkedOutput();
    renderServices(r.services, cols, true, (text) => out.add(text));
    out.flush();
    return undefined;
  }
}
