/**
 * The bond plugin's part in `ha save`, `ha diff` and `ha restore` (the `ha:sections` hook).
 * Restores first (order 10): routes and IPVS may use the bonds.
 */
import { UnavailableError } from '@ha/lib';
import type { SectionProvider } from '@ha/lib/state';
import { SECTION_ORDER } from '@ha/lib/state';
import { MODULE_HINT, bondingAvailable, listBonds } from '../kernel.js';
import { planBonds } from '../plan.js';
import { BondsSection, bondsSectionSchema, checkSection, toSection } from '../section.js';

export const bondsProvider: SectionProvider<BondsSection> = {
  name: 'bonds',
  order: SECTION_ORDER.bonds,
  schema: bondsSectionSchema,
  async available() {
    if (!bondingAvailable()) throw new UnavailableError(MODULE_HINT);
  },
  async capture() {
    return toSection(await listBonds());
  },
  check: checkSection,
  async plan(desired) {
    return planBonds(desired);
  },
};

export default async function sections(): Promise<SectionProvider<BondsSection>[]> {
  return [bondsProvider];
}
