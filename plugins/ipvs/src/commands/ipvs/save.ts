import { ChunkedOutput, holdYoungGeneration } from '@ha/lib';
import { IpvsCommand } from '../../base.js';
import { formatSave, sortServicesInPlace } from '../../ipvsadm/format.js';
import { listServices } from '../../kernel.js';
import * as Flags from '@oclif/core/flags';
import { Service } from '../../model.js';

export default class IpvsSave extends IpvsCommand<{ services: Service[] }> {
  static override summary = "Print the table in ipvsadm's save format (ipvsadm -S).";
  static override description = `Prints the virtual services and real servers as ipvsadm rules, byte for byte what ipvsadm -Sn prints for the same table, to be read back by ha ipvs restore or ipvsadm -R.

This format cannot hold real-server thresholds, the timeouts or the connection sync daemon; ha save keeps those too, in the state file (and ha ipvs restore keeps the thresholds of real servers whose lines leave them out).`;

  static override examples = [
    { description: 'Save the table to a file.', command: '<%= config.bin %> ipvs save > /etc/ipvs.rules' },
    { description: 'Copy the table to another node.', command: '<%= config.bin %> ipvs save | ssh lb2 ha ipvs restore' },
  ];

  static override flags = {
    numeric: Flags.boolean({ char: 'n', summary: 'Accepted for ipvsadm compatibility; addresses are always numeric.' }),
  };

  protected async exec(): Promise<{ services: Service[] }> {
    await this.parse(IpvsSave);
    // most of what the table's decode makes is kept to the end (see holdYoungGeneration)
    holdYoungGeneration();
    // the save format has no thresholds or counters: the basic listing has all it prints
    return { services: await listServices({ detail: this.jsonEnabled() ? 'full' : 'basic' }) };
  }

  protected override render(r: { services: Service[] }): string | undefined {
    const out = new ChunkedOutput();
    // the listing is ours: sorted in place rather than copied
    formatSave(sortServicesInPlace(r.services), (text) => out.add(text), true);
    out.flush();
    return undefined;
  }
}
