import * as Args from '@oclif/core/args';
import { HaCommand, table } from '@ha/lib';
import { callAgent, socketFlag } from '../../agent-link.js';
import type { VrrpStatus } from '../../service.js';

export default class VrrpStatusCommand extends HaCommand<VrrpStatus> {
  static override summary = 'Live state of the VRRP instances, from the running agent.';
  static override description = `Asks the agent (ha agent run) over its control socket: each instance's state, base and effective priority with every tracker's contribution and any run-time demotion, the master seen (address, priority, interval), the advert and master-down intervals and the skew, the last transition with its time and reason, and the VIPs held.

--json gives the whole status (a superset of keepalived's JSON dump and FRR's show vrrp json: timers in seconds, counters with keepalived's names); its shape is in schema/results/vrrp-status.json.`;

  static override examples = [
    { description: 'Every instance.', command: '<%= config.bin %> vrrp status' },
    { description: 'One instance, as JSON.', command: '<%= config.bin %> vrrp status VI_1 --json' },
  ];

  static override args = { name: Args.string({ description: 'Only this instance.' }) };
  static override flags = { ...socketFlag };

  protected async exec(): Promise<VrrpStatus> {
    const { args, flags } = await this.parse(VrrpStatusCommand);
    return callAgent<VrrpStatus>(flags.socket, 'vrrp.status', args.name ? { name: args.name } : {});
  }

  protected override render(r: VrrpStatus): string {
    if (r.instances.length === 0) return 'The agent runs no VRRP instances.';
    const out: string[] = [];
    out.push(table(
      ['NAME', 'STATE', 'IF', 'VRID', 'VER', 'PRIO', 'MASTER', 'ADVERT', 'DOWN', 'VIPS HELD'],
      r.instances.map((i) => [
        i.name, i.state, i.interface, i.vrid, `v${i.version}`,
        i.effectivePriority === i.basePriority ? String(i.basePriority) : `${i.effectivePriority} (${i.basePriority})`,
        i.master ? (i.master.self ? 'this node' : `${i.master.address} (${i.master.priority})`) : '-',
        `${seconds(i.advertInterval)}s`, `${seconds(i.masterDownInterval)}s`, i.vipsHeld.join(' ') || '-',
      ]),
      { align: ['left', 'left', 'left', 'right', 'left', 'right', 'left', 'right', 'right', 'left'] },
    ));
    for (const i of r.instances) {
      const lines: string[] = [];
      if (i.lastTransition) lines.push(`  last transition ${i.lastTransition.at}: ${i.lastTransition.from} -> ${i.lastTransition.to} (${i.lastTransition.reason})`);
      for (const t of i.trackers) {
        if (t.kind === 'interface' && t.name === i.interface && t.weight === 0 && t.ok !== false) continue;
        const state = t.value !== undefined ? `value ${t.value}` : t.ok === undefined ? 'no result yet' : t.ok ? 'ok' : 'failed';
        lines.push(`  tracks ${t.kind} ${t.name}: ${state}, ${t.fault ? 'FAULT' : `${t.contribution >= 0 ? '+' : ''}${t.contribution}`}`);
      }
      if (i.demotion.by !== undefined) lines.push(`  demoted by ${i.demotion.by} (ha vrrp promote ${i.name} to undo)`);
      if (i.demotion.to !== undefined) lines.push(`  priority held at ${i.demotion.to} (ha vrrp promote ${i.name} to undo)`);
      if (lines.length) out.push(`${i.name}:`, ...lines);
    }
    for (const g of r.groups) out.push(`sync group ${g.name}: ${g.state} (${g.instances.join(', ')})`);
    return out.join('\n');
  }
}

/** Seconds to the millisecond, without trailing zeros. */
function seconds(s: number): string {
  return String(Math.round(s * 1000) / 1000);
}
