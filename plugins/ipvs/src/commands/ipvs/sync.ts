import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { OperationError, UsageError, table } from '@ha/lib';
import { checkIfname, parseIpCached } from '@ha/lib/netlink';
import { IpvsCommand } from '../../base.js';
import { formatDaemons } from '../../ipvsadm/format.js';
import { listDaemons } from '../../kernel.js';
import { startDaemonStep, stopDaemonStep } from '../../ops.js';
import { LIMITS, Range } from '../../limits.js';
import { SyncDaemon, parseIntRange } from '../../model.js';

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
    syncid: Flags.string({ summary: 'Sync ID, 0-255 (default 0).', helpValue: 'ID' }),
    'sync-maxlen': Flags.string({ summary: 'Maximum sync message (UDP payload) size.', helpValue: 'BYTES' }),
    'mcast-group': Flags.string({ summary: 'Multicast group (IPv4 or IPv6).', helpValue: 'ADDRESS' }),
    'mcast-port': Flags.string({ summary: 'Multicast UDP port.', helpValue: 'PORT' }),
    'mcast-ttl': Flags.string({ summary: 'Multicast TTL, 1-255.', helpValue: 'TTL' }),
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
    const range = (text: string, what: string, r: Range): number => parseIntRange(text, what, r.min, r.max);
    const d: SyncDaemon = { state, interface: ifname, syncid: flags.syncid ? range(flags.syncid, '--syncid', LIMITS.syncid) : 0 };
    if (flags['sync-maxlen']) d.maxlen = range(flags['sync-maxlen'], '--sync-maxlen', LIMITS.syncMaxlen);
    if (flags['mcast-group']) {
      if (!parseIpCached(flags['mcast-group'])) throw new UsageError(`--mcast-group: "${flags['mcast-group']}" is not an IP address`);
      d.group = flags['mcast-group'];
    }
    if (flags['mcast-port']) d.port = range(flags['mcast-port'], '--mcast-port', LIMITS.mcastPort);
    if (flags['mcast-ttl']) d.ttl = range(flags['mcast-ttl'], '--mcast-ttl', LIMITS.mcastTtl);
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
