import { keyValues } from '@ha/lib';
import { IpvsCommand } from '../../base.js';
import { family, info, listServices } from '../../kernel.js';

interface InfoResult {
  version: string;
  connTabSize: number;
  services: number;
  servers: number;
  familyId: number;
}

export default class IpvsInfo extends IpvsCommand<InfoResult> {
  static override summary = 'Show the IPVS version and connection table size of the running kernel.';
  static override description = 'Reads IPVS_CMD_GET_INFO: the IPVS version, the size of the connection hash table (set by the ip_vs module parameter conn_tab_bits), and counts the virtual services and real servers. Fails with exit 1 and says how to load the module when the kernel has no IPVS.';
  static override examples = [
    { description: 'Show the IPVS version.', command: '<%= config.bin %> ipvs info' },
    { description: 'As JSON.', command: '<%= config.bin %> ipvs info --json' },
  ];

  protected async exec(): Promise<InfoResult> {
    await this.parse(IpvsInfo);
    // counting needs no thresholds or counters: the kernel's text table has the real servers
    const [i, f, services] = [await info(), await family(), await listServices({ detail: 'basic' })];
    return { version: i.version, connTabSize: i.connTabSize, services: services.length, servers: services.reduce((n, s) => n + s.servers.length, 0), familyId: f.id };
  }

  protected override render(r: InfoResult): string {
    return keyValues([['IPVS version', r.version], ['connection table size', r.connTabSize], ['virtual services', r.services], ['real servers', r.servers]]);
  }
}
