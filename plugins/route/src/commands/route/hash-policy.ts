import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { HaCommand, UsageError, table, type Step } from '@ha/lib';
import { readSysctl } from '@ha/lib/netlink';
import { exclusive } from '../../flags.js';
import { HASH_POLICY_NAMES } from '../../kernel.js';
import { sysctlStep } from '../../ops.js';
import { HASH_POLICIES } from '../../model.js';

interface HashPolicyResult {
  changed: boolean;
  policies: Array<{ family: 'ipv4' | 'ipv6'; policy: string; value: number | null }>;
}

export default class RouteHashPolicy extends HaCommand<HashPolicyResult> {
  static override summary = 'Show or set how multipath routes hash flows onto paths (fib_multipath_hash_policy).';
  static override description = `Without an argument, shows the policy for IPv4 and IPv6. With one, sets it (for both families unless -4 or -6 is given):
  l3        source and destination addresses: every flow between two hosts takes the same path
  l4        addresses, protocol and ports: connections spread over the paths one by one
  l3-inner  addresses of the inner packet for tunnelled traffic

With per-flow (l4) hashing over several providers, the connections of one host leave through different providers, which breaks applications when each provider source-NATs to its own address (see ha route status).`;

  static override examples = [
    { description: 'Show the policies.', command: '<%= config.bin %> route hash-policy' },
    { description: 'Hash by ports too (IPv4 and IPv6).', command: '<%= config.bin %> route hash-policy l4' },
    { description: 'IPv6 only.', command: '<%= config.bin %> route hash-policy l3 -6' },
  ];

  static override args = {
    policy: Args.string({ ignoreStdin: true, options: [...HASH_POLICIES], description: 'l3, l4 or l3-inner.' }),
  };

  static override flags = {
    ipv4: Flags.boolean({ char: '4' as 'a', summary: 'Only IPv4.' }),
    ipv6: Flags.boolean({ char: '6' as 'a', summary: 'Only IPv6.' }),
  };

  protected async exec(): Promise<HashPolicyResult> {
    const { args, flags } = await this.parse(RouteHashPolicy);
    exclusive(flags, 'ipv4', 'ipv6');
    const families: Array<'ipv4' | 'ipv6'> = flags.ipv4 ? ['ipv4'] : flags.ipv6 ? ['ipv6'] : ['ipv4', 'ipv6'];
    if (args.policy !== undefined) {
      const v = HASH_POLICY_NAMES.indexOf(args.policy as (typeof HASH_POLICY_NAMES)[number]);
      if (v < 0) throw new UsageError(`unknown hash policy ${args.policy} (expected ${HASH_POLICIES.join(', ')})`);
      await this.lockKernel('routes');
      const steps: Step[] = [];
      for (const f of families) {
        const st = await sysctlStep(`net.${f}.fib_multipath_hash_policy`, v);
        if (st) steps.push(st);
      }
      await this.change(steps, { target: 'the multipath hash policy' });
    }
    const policies: HashPolicyResult['policies'] = [];
    for (const f of families) {
      let value: number | null = null;
      try { value = Number(await readSysctl(`net.${f}.fib_multipath_hash_policy`)); } catch { /* no IPv6 */ }
      policies.push({ family: f, value, policy: value === null ? 'unavailable' : HASH_POLICY_NAMES[value] ?? String(value) });
    }
    return { changed: args.policy !== undefined, policies };
  }

  protected override render(r: HashPolicyResult): string {
    return table(['FAMILY', 'POLICY', 'VALUE'], r.policies.map((p) => [p.family, p.policy, p.value]));
  }
}
