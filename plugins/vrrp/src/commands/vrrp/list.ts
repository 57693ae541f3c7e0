import { HaCommand, stateFlags } from '@ha/lib';
import { readSection } from '../../edit.js';
import { InstanceView, describeInstance, renderInstances } from '../../render.js';

interface Result {
  file: string;
  instances: InstanceView[];
  groups: Array<{ name: string; instances: string[] }>;
  scripts: Array<{ name: string; command: string; interval: number; timeout: number; rise: number; fall: number; weight: number }>;
}

export default class VrrpList extends HaCommand<Result> {
  static override summary = 'List the VRRP instances, sync groups and scripts of the state file.';
  static override description = `Shows what is configured (the state file), with the defaults filled in. For what is running (state, master seen, effective priority), use ha vrrp status, which asks the agent.`;

  static override examples = [
    { description: 'The configured instances.', command: '<%= config.bin %> vrrp list' },
    { description: 'As JSON.', command: '<%= config.bin %> vrrp list --json' },
  ];

  static override flags = { ...stateFlags };

  protected async exec(): Promise<Result> {
    const { flags } = await this.parse(VrrpList);
    const { file, section } = await readSection(this.config, flags.state);
    return {
      file,
      instances: Object.keys(section.instances ?? {}).sort().map((n) => describeInstance(n, section.instances![n]!)),
      groups: Object.keys(section.groups ?? {}).sort().map((n) => ({ name: n, instances: section.groups![n]!.instances })),
      scripts: Object.keys(section.scripts ?? {}).sort().map((n) => {
        const s = section.scripts![n]!;
        const interval = s.interval ?? 1;
        return { name: n, command: s.command, interval, timeout: s.timeout ?? interval, rise: s.rise ?? 1, fall: s.fall ?? 1, weight: s.weight ?? 0 };
      }),
    };
  }

  protected override render(r: Result): string {
    const parts = [r.instances.length ? renderInstances(r.instances) : `No VRRP instances in ${r.file}.`];
    if (r.groups.length) parts.push('', 'Sync groups:', ...r.groups.map((g) => `  ${g.name}: ${g.instances.join(', ')}`));
    if (r.scripts.length) parts.push('', 'Scripts:', ...r.scripts.map((s) => `  ${s.name}: ${s.command} (every ${s.interval} s, timeout ${s.timeout} s, rise ${s.rise}, fall ${s.fall}, weight ${s.weight})`));
    return parts.join('\n');
  }
}
