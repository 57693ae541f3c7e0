import { HaCommand, UsageError, stateFlags } from '@ha/lib';
import { editSection } from '../../edit.js';
import { applyFlags, instanceFlags, nameArg } from '../../flags.js';
import { Instance } from '../../model.js';
import { InstanceView, describeInstance, renderInstances } from '../../render.js';
import { reloadAgent, socketFlag } from '../../agent-link.js';

interface Result { file: string; added: InstanceView; agent?: string }

export default class VrrpAdd extends HaCommand<Result> {
  static override summary = 'Add a VRRP instance (a floating virtual IP) to the state file.';
  static override description = `Adds an instance to the state file's vrrp section and tells a running agent (ha agent run) to reload, which starts it without touching the other instances. The whole file is validated first (VRID and priority ranges, VRRPv2 limits, one VRID per interface and family, tracked scripts that exist); nothing is written when anything is wrong.

Every node of the pair gets the same VRID and VIPs; the node that should be master gets the higher priority. Defaults are keepalived's: priority 100, advert interval 1 s, version 2 for IPv4 and 3 for IPv6, preemption on.`;

  static override examples = [
    { description: 'The master of a pair, VIP 192.0.2.100 on eth0.', command: '<%= config.bin %> vrrp add VI_1 -i eth0 --vrid 51 --vip 192.0.2.100/24 --priority 150' },
    { description: 'Its backup, which must not take the VIP back when the master returns.', command: '<%= config.bin %> vrrp add VI_1 -i eth0 --vrid 51 --vip 192.0.2.100/24 --priority 100 --nopreempt' },
    { description: 'VRRPv3 over IPv6 at 100 ms adverts.', command: '<%= config.bin %> vrrp add VI_6 -i eth0 --vrid 52 --vip 2001:db8::100/64 --advert-int 0.1' },
    { description: 'Lower the priority by 60 when eth1 goes down.', command: '<%= config.bin %> vrrp add VI_1 -i eth0 --vrid 51 --vip 192.0.2.100 --track-interface eth1:-60' },
  ];

  static override args = { name: nameArg() };
  static override flags = { ...stateFlags, ...socketFlag, ...instanceFlags };

  protected async exec(): Promise<Result> {
    const { args, flags } = await this.parse(VrrpAdd);
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(args.name)) throw new UsageError(`instance name "${args.name}" must be 1 to 64 letters, digits, _ . : or -`);
    for (const need of ['interface', 'vrid', 'vip'] as const) {
      if (flags[need] === undefined) throw new UsageError(`missing --${need} (an instance needs --interface, --vrid and at least one --vip)`);
    }
    const edited = await editSection(this.config, flags.state, (section) => {
      const instances = (section.instances ??= {});
      if (instances[args.name]) throw new UsageError(`VRRP instance ${args.name} already exists; change it with \`ha vrrp set ${args.name}\``);
      const i: Partial<Instance> = {};
      applyFlags(i, flags);
      instances[args.name] = i as Instance;
      return describeInstance(args.name, i as Instance);
    });
    const agent = await reloadAgent(edited.file, flags.socket);
    return { file: edited.file, added: edited.result, ...(agent ? { agent } : {}) };
  }

  protected override render(r: Result): string {
    return `Added VRRP instance ${r.added.name} to ${r.file}.${r.agent ? ` ${r.agent}` : ''}\n${renderInstances([r.added])}`;
  }
}
