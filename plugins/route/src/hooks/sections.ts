/**
 * The route plugin's part in `ha save`, `ha diff` and `ha restore` (the `ha:sections` hook):
 * the routes ha manages (protocols boot, static, unspec; every table but local), the nexthop
 * objects, and the sysctls that decide multipath and failover behaviour.
 */
import type { SectionProvider } from '@ha/lib/state';
import { SECTION_ORDER } from '@ha/lib/state';
import { links, listNexthops, listRoutes, readMultipathSysctls } from '../kernel.js';
import { isManaged } from '../model.js';
import { planRoutes } from '../plan.js';
import { RoutesSection, checkSection, normalizeSection, routesSectionSchema, toLine, toNexthopEntry } from '../section.js';

export const routesProvider: SectionProvider<RoutesSection> = {
  name: 'routes',
  order: SECTION_ORDER.routes,
  schema: routesSectionSchema,
  async available() {
    // rtnetlink is always there
  },
  async capture() {
    const l = await links();
    const routes = (await listRoutes({ table: 'all' }, l)).filter(isManaged);
    const nexthops = (await listNexthops(l)).filter((n) => n.protocol === undefined || ['boot', 'static', 'unspec'].includes(n.protocol));
    const section: RoutesSection = { routes: routes.map(toLine) };
    if (nexthops.length) section.nexthops = nexthops.map(toNexthopEntry);
    section.sysctls = await readMultipathSysctls();
    return section;
  },
  check: checkSection,
  async plan(desired) {
    return planRoutes(normalizeSection(desired), await links());
  },
};

export default async function sections(): Promise<SectionProvider<RoutesSection>[]> {
  return [routesProvider];
}
