import * as Args from '@oclif/core/args';
import { HaCommand } from '@ha/lib';
import { listServices } from '../../kernel.js';
import { hostPort, isFwmark } from '../../model.js';

/** The services of one protocol, one per line, for shell completion of -t/-u/--sctp-service/-f (hidden). */
export default class IpvsComplete extends HaCommand<string[]> {
  static override hidden = true;
  static override summary = 'List services for shell completion.';
  static override description = 'One service per line, as -t/-u/--sctp-service/-f take it: ADDRESS:PORT, [IPv6]:PORT, or a firewall mark.';
  static override examples = [{ description: 'The TCP services.', command: '<%= config.bin %> ipvs complete tcp' }];
  static override args = {
    protocol: Args.string({ required: true, options: ['tcp', 'udp', 'sctp', 'fwmark'], description: 'Which services.' }),
  };

  protected async exec(): Promise<string[]> {
    const { args } = await this.parse(IpvsComplete);
    const out: string[] = [];
    for (const s of await listServices({ detail: 'basic' })) {
      if (args.protocol === 'fwmark' ? isFwmark(s) : !isFwmark(s) && s.protocol === args.protocol) {
        out.push(isFwmark(s) ? String(s.fwmark) : hostPort(s.family, s.address, s.port));
      }
    }
    return [...new Set(out)].sort();
  }

  protected override render(list: string[]): string {
    return list.join('\n');
  }
}
