import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { formatTimeouts } from '../../ipvsadm/format.js';
import { UsageError, keyValues, wholeNumber } from '@ha/lib';
import { IpvsCommand } from '../../base.js';
import { getTimeouts } from '../../kernel.js';
import { timeoutsStep } from '../../ops.js';
import { LIMITS } from '../../limits.js';
import { Timeouts } from '../../model.js';

interface TimeoutResult {
  changed: boolean;
  timeouts: Timeouts;
}

export default class IpvsTimeout extends IpvsCommand<TimeoutResult> {
  static override summary = 'Show or set the TCP, TCP FIN and UDP connection timeouts (ipvsadm --set).';
  static override description = `Without arguments, shows the timeouts (seconds) after which idle IPVS connections expire. With three arguments, sets them in the order TCP, TCP FIN, UDP, as ipvsadm --set does; 0 leaves that timeout unchanged.

ipvsadm's save format loses these; ha save keeps them in the state file.`;

  static override examples = [
    { description: 'Show the timeouts.', command: '<%= config.bin %> ipvs timeout' },
    { description: 'TCP 900 s, FIN 120 s, UDP 300 s.', command: '<%= config.bin %> ipvs timeout 900 120 300' },
    { description: 'Only the UDP timeout.', command: '<%= config.bin %> ipvs timeout 0 0 60' },
  ];

  static override args = {
    tcp: Args.string({ ignoreStdin: true, description: 'TCP timeout in seconds (0 = keep).' }),
    tcpfin: Args.string({ ignoreStdin: true, description: 'TCP FIN_WAIT timeout in seconds (0 = keep).' }),
    udp: Args.string({ ignoreStdin: true, description: 'UDP timeout in seconds (0 = keep).' }),
  };

  static override flags = {
    format: Flags.string({ summary: 'Output format for people: table, or what ipvsadm -Ln --timeout prints.', options: ['table', 'ipvsadm'], default: 'table' }),
  };

  protected async exec(): Promise<TimeoutResult> {
    const { args } = await this.parse(IpvsTimeout);
    const given = [args.tcp, args.tcpfin, args.udp].filter((a) => a !== undefined);
    if (given.length === 0) return { changed: false, timeouts: await getTimeouts() };
    if (given.length !== 3) throw new UsageError('give all three timeouts, TCP TCPFIN UDP, in seconds (0 keeps a value), or none to show them');
    // 0 keeps that timeout as it is
    const range = { min: 0, max: LIMITS.timeout.max };
    const t = { tcp: wholeNumber(args.tcp!, 'TCP timeout', range), tcpfin: wholeNumber(args.tcpfin!, 'TCP FIN timeout', range), udp: wholeNumber(args.udp!, 'UDP timeout', range) };
    await this.lockKernel('ipvs');
    await this.changeIpvs(timeoutsStep(t, await getTimeouts()));
    return { changed: true, timeouts: await getTimeouts() };
  }

  protected override render(r: TimeoutResult, flags: Record<string, unknown>): string {
    if (flags.format === 'ipvsadm') return formatTimeouts(r.timeouts).trimEnd();
    return keyValues([['tcp', `${r.timeouts.tcp} s`], ['tcpfin', `${r.timeouts.tcpfin} s`], ['udp', `${r.timeouts.udp} s`]]);
  }
}
