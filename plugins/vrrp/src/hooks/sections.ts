/**
 * The vrrp plugin's part in `ha save`, `ha diff` and `ha restore` (the `ha:sections` hook). The
 * section is configuration: save keeps it as the file has it, restore validates it (the schema,
 * the cross references, the interfaces existing here) and the agent runs it.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '@ha/lib';
import type { SectionProvider } from '@ha/lib/state';
import { SECTION_ORDER } from '@ha/lib/state';
import { VrrpSection, checkSection, parseVip, sectionWarnings, vrrpSectionSchema } from '../model.js';

export const vrrpProvider: SectionProvider<VrrpSection> = {
  name: 'vrrp',
  kind: 'config',
  order: SECTION_ORDER.vrrp,
  schema: vrrpSectionSchema,
  async available() {},
  async capture() {
    return {};
  },
  check: checkSection,
  warnings: sectionWarnings,
  async plan(desired) {
    for (const [name, i] of Object.entries(desired.instances ?? {})) {
      const devs = [...i.vips, ...(i.excludedVips ?? [])].map((v) => parseVip(v)).flatMap((v) => (typeof v === 'string' || !v.dev ? [] : [v.dev]));
      for (const ifname of [i.interface, ...(i.trackInterfaces ?? []).map((t) => t.interface), ...devs]) {
        if (!existsSync(`/sys/class/net/${ifname}`)) throw new UsageError(`vrrp instance ${name}: there is no interface ${ifname} here; nothing was changed`, 'ESTATE');
      }
    }
    // the agent runs the section: restore tells it to reload; there is nothing to change here
    return [];
  },
};

export default async function sections(): Promise<SectionProvider<VrrpSection>[]> {
  return [vrrpProvider];
}
