import * as Args from '@oclif/core/args';
import { HaCommand, table } from '@ha/lib';
import { callAgent, socketFlag } from '../../agent-link.js';
import type { InstanceStats } from '../../speaker.js';
import type { VrrpState } from '../../types.js';

type Result = Array<{ name: string; state: VrrpState; stats: InstanceStats }>;

export default class VrrpStats extends HaCommand<Result> {
  static override summary = 'Packet and transition counters of the VRRP instances, from the running agent.';
  static override description = `Adverts sent and received, times the instance became and released master, priority-0 adverts sent and received, gratuitous ARPs sent, notification runs, and every refused packet counted under its reason with keepalived's names (packet_len_err, ip_ttl_err, advert_interval_err, invalid_authtype, authtype_mismatch, auth_failure, invalid_type_rcvd, …) plus checksum_err and version_err.`;

  static override examples = [
    { description: 'Every instance.', command: '<%= config.bin %> vrrp stats' },
    { description: 'As JSON for a monitoring script.', command: '<%= config.bin %> vrrp stats VI_1 --json' },
  ];

  static override args = { name: Args.string({ description: 'Only this instance.' }) };
  static override flags = { ...socketFlag };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(VrrpStats);
    return callAgent<Result>(flags.socket, 'vrrp.stats', args.name ? { name: args.name } : {});
  }

  protected override render(r: Result): string {
    if (r.length === 0) return 'The agent runs no VRRP instances.';
    return table(
      ['NAME', 'STATE', 'SENT', 'RCVD', 'BECAME MASTER', 'RELEASED', 'PRIO0 SENT', 'PRIO0 RCVD', 'ERRORS'],
      r.map((i) => [
        i.name, i.state, i.stats.advertsSent, i.stats.advertsReceived, i.stats.becameMaster, i.stats.releasedMaster,
        i.stats.priorityZeroSent, i.stats.priorityZeroReceived,
        Object.entries(i.stats.errors).filter(([k]) => k !== 'own_packet').map(([k, n]) => `${k}=${n}`).join(' ') || '-',
      ]),
      { align: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'] },
    );
  }
}
