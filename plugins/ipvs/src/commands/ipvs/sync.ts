import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { OperationError, UsageError, addressFlag, table, wholeNumberFlag } from '@ha/lib';
import { checkIfname } from '@ha/lib/netlink';
import { IpvsCommand } from '../../base.js';
import { formatDaemons } from '../../ipvsadm/format.js';
import { listDaemons } from '../../kernel.js';
import { startDaemonStep, stopDaemonStep } from '../../ops.js';
import { LIMITS } from '../../limits.js';
import { SyncDaemon } from '../../model.js';

interface SyncResult {
  action: 'show' | 'start' | 'stop';
  daemons: SyncDaemon[];
}

export default class IpvsSync extends IpvsCommand<SyncResult> {
  static override summary = 'Show, start or stop the connection sync daemon (ipvsadm --start-daemon/--stop-daemon).';
  static override description = `The sync daemon copies connection state from the active director (master) to its standby (backup) over multicast, so that established connections survive a failover. Both may run at once on one node.

ha ipvs sync shows what runs; start needs --mcast-interface; syncid defaults to 0. ipvsadm's save format loses the daemons; ha save keeps them.`;

  static override examples = [
    { description: 'What runs now.', command: '<%= config.bin %> ipvs sync' },
    { description: 'Start the master on eth1, sync ID 10.', command: '<%= config.bin %> ipvs sync start master --mcast-interface eth1 --syncid 10' },
    { description: 'Stop the backup daemon.', command: '<%= config.bin %> ipvs sync stop backup' },
  ];

  static override args = {
    action: Args.string({ ignoreStdin: true, description: 'What to do.', options: ['show', 'start', 'stop'], default: 'show' }),
    state: Args.string({ ignoreStdin: true, description: 'Which daemon.', options: ['master', 'backup'] }),
  };

  static override flags = {
    format: Flags.string({ summary: 'Output format of show for people: table, or what ipvsadm -Ln --daemon prints.', options: ['table', 'ipvsadm'], default: 'table' }),
    'mcast-interface': Flags.string({ summary: 'Interface for the sync traffic.', helpValue: 'IFNAME' }),
    syncid: wholeNumberFlag({ summary: 'Sync ID, 0-255 (default 0).', helpValue: 'ID', range: LIMITS.syncid }),
    'sync-maxlen': wholeNumberFlag({ summary: `Maximum sync message (UDP payload) size, ${LIMITS.syncMaxlen.min}-${LIMITS.syncMaxlen.max}.`, helpValue: 'BYTES', range: LIMITS.syncMaxlen }),
    'mcast-group': addressFlag({ summary: 'Multicast group (IPv4 or IPv6).', helpValue: 'ADDRESS' }),
    'mcast-port': wholeNumberFlag({ summary: 'Multicast UDP port.', helpValue: 'PORT', range: LIMITS.mcastPort, noun: 'a port' }),
    'mcast-ttl': wholeNumberFlag({ summary: 'Multicast TTL, 1-255.', helpValue: 'TTL', range: LIMITS.mcastTtl }),
  };

  protected async exec(): Promise<SyncResult> {
    const { args, flags } = await this.parse(IpvsSync);
    const action = args.action as SyncResult['action'];
    if (action === 'show') {
      if (args.state) throw new UsageError('sync show takes no daemon state');
      return { action, daemons: await listDaemons() };
    }
    if (!args.state) throw new UsageError(`sync ${action}: say which daemon: master or backup`);
    const state = args.state as 'master' | 'backup';
    await this.lockKernel('ipvs');
    if (action === 'stop') {
      const was = (await listDaemons()).find((d) => d.state === state);
      if (!was) throw new OperationError(`no ${state} sync daemon is running`, 'ESRCH');
      await this.changeIpvs(stopDaemonStep(was));
      return { action, daemons: await listDaemons() };
    }
    const ifname = flags['mcast-interface'];
    if (!ifname) throw new UsageError('sync start: --mcast-interface IFNAME is required');
    checkIfname(ifname, '--mcast-interface');
    const d: SyncDaemon = { state, interface: ifname, syncid: flags.syncid ?? 0 };
    if (flags['sync-maxlen'] !== undefined) d.maxlen = flags['sync-maxlen'];
    if (flags['mcast-group'] !== undefined) d.group = flags['mcast-group'];
    if (flags['mcast-port'] !== undefined) d.port = flags['mcast-port'];
    if (flags['mcast-ttl'] !== undefined) d.ttl = flags['mcast-ttl'];
    await this.changeIpvs(startDaemonStep(d));
    return { action, daemons: await listDaemons() };
  }

  protected override render(r: SyncResult, flags: Record<string, unknown>): string {
    if (flags.format === 'ipvsadm') return formatDaemons(r.daemons).trimEnd();
    if (r.daemons.length === 0) return 'No sync daemon is running.';
    return table(['STATE', 'INTERFACE', 'SYNCID', 'MAXLEN', 'GROUP', 'PORT', 'TTL'],
      r.daemons.map((d) => [d.state, d.interface, d.syncid, d.maxlen, d.group, d.port, d.ttl]));
  }
}
