/**
 * The ipvs plugin's part in `ha save`, `ha diff` and `ha restore` (the `ha:sections` hook).
 * Unlike ipvsadm's save format, the section keeps timeouts and the sync daemons.
 */
import type { SectionProvider } from '@ha/lib/state';
import { SECTION_ORDER } from '@ha/lib/state';
import { checkModules, family, getTimeouts, listDaemons, listServices } from '../kernel.js';
import { IpvsSection, mappedWarnings } from '../model.js';
import { planDaemons, planServices, planTimeouts } from '../plan.js';
import { checkSection, ipvsSectionSchema, normalizeSection, toSection } from '../section.js';

export const ipvsProvider: SectionProvider<IpvsSection> = {
  name: 'ipvs',
  order: SECTION_ORDER.ipvs,
  schema: ipvsSectionSchema,
  async available() {
    await family();
  },
  async capture() {
    const [services, timeouts, daemons] = [await listServices({ stats: false }), await getTimeouts(), await listDaemons()];
    return toSection(services, timeouts, daemons);
  },
  check: checkSection,
  warnings(section) {
    return mappedWarnings(normalizeSection(section).services);
  },
  async plan(desired) {
    const want = normalizeSection(desired);
    checkModules(want.services);
    return [
      ...(await planServices(want.services, await listServices({ stats: false }))),
      ...(await planTimeouts(want.timeouts)),
      ...(await planDaemons(want.daemons)),
    ];
  },
};

export default async function sections(): Promise<SectionProvider<IpvsSection>[]> {
  return [ipvsProvider];
}
