import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { HaCommand, UnavailableError, colour, keyValues, stateFlags, table } from '@ha/lib';
import { loadProviders, loadState, resolveStatePath } from '@ha/lib/state';

interface Feature {
  name: string;
  available: boolean;
  detail: string;
}

interface StatusResult {
  kernel: string;
  features: Feature[];
  sections: Array<{ name: string; plugin: string; order: number }>;
  state: { file: string; exists: boolean; valid: boolean | null; error?: string };
}

export default class Status extends HaCommand<StatusResult> {
  static override summary = 'Show what this kernel supports, which plugins are installed, and the state file.';
  static override description = `A first look at a node: the running kernel, whether it has the features ha's plugins drive (IPVS through the generic netlink family "IPVS", the bonding driver, IPv4 forwarding), which installed plugins take part in save and restore (in restore order), and whether the state file exists and is valid.

Nothing is changed. Missing features are reported with how to get them, not as errors; the exit status is 0 unless the checks themselves fail.`;

  static override examples = [
    { description: 'Check a node before configuring it.', command: '<%= config.bin %> status' },
    { description: 'The same as JSON, for monitoring or inventory scripts.', command: '<%= config.bin %> status --json' },
  ];

  static override flags = { ...stateFlags };

  protected async exec(): Promise<StatusResult> {
    const { flags } = await this.parse(Status);
    const { resolveFamily } = await import('@ha/lib/netlink');
    const features: Feature[] = [];
    try {
      const f = await resolveFamily('IPVS');
      features.push({ name: 'ipvs', available: true, detail: `generic netlink family IPVS (id ${f.id}, version ${f.version})` });
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      features.push({ name: 'ipvs', available: false, detail: 'the IPVS netlink family is missing: load it with "modprobe ip_vs" (kernel option CONFIG_IP_VS)' });
    }
    const bonding = existsSync('/sys/class/net/bonding_masters');
    features.push({
      name: 'bonding',
      available: bonding,
      detail: bonding ? 'bonding driver loaded' : 'the bonding driver is not loaded: "modprobe bonding" (kernel option CONFIG_BONDING)',
    });
    const { readFile } = await import('node:fs/promises');
    const forward = (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8').catch(() => '')).trim();
    features.push({
      name: 'ipv4-forwarding',
      available: forward === '1',
      detail: forward === '1' ? 'net.ipv4.ip_forward = 1' : 'net.ipv4.ip_forward = 0 (needed by LVS NAT directors and routers)',
    });

    const providers = await loadProviders(this.config);
    const file = resolveStatePath(flags.state);
    const state: StatusResult['state'] = { file, exists: existsSync(file), valid: null };
    if (state.exists) {
      try {
        await loadState(file, providers);
        state.valid = true;
      } catch (error) {
        state.valid = false;
        state.error = (error as Error).message;
      }
    }
    return {
      kernel: release(),
      features,
      sections: providers.map((p) => ({ name: p.name, plugin: p.plugin, order: p.order })),
      state,
    };
  }

  protected override render(r: StatusResult): string {
    const c = colour();
    const stateLine = !r.state.exists ? `${r.state.file} (not created yet: ha save creates it)`
      : r.state.valid ? `${r.state.file} (valid)` : `${r.state.file} (${c.red('invalid')}: ${r.state.error})`;
    return [
      keyValues([['kernel', r.kernel], ['state file', stateLine]]),
      '',
      table(['FEATURE', 'AVAILABLE', 'DETAIL'], r.features.map((f) => [f.name, f.available ? c.green('yes') : c.yellow('no'), f.detail])),
      '',
      r.sections.length
        ? table(['SECTION', 'PLUGIN', 'ORDER'], r.sections.map((s) => [s.name, s.plugin, s.order]))
        : 'No installed plugin takes part in save/restore yet.',
    ].join('\n');
  }
}
