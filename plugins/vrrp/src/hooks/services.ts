/**
 * The vrrp plugin's part in `ha agent run` (the `ha:services` hook): the service that runs the
 * state file's vrrp section.
 */
import type { ServiceProvider } from '@ha/lib/agent';
import { SECTION_ORDER } from '@ha/lib/state';
import type { VrrpSection } from '../model.js';

export const vrrpService: ServiceProvider<VrrpSection> = {
  name: 'vrrp',
  order: SECTION_ORDER.vrrp,
  async start(ctx, section) {
    const { VrrpService } = await import('../service.js');
    const service = new VrrpService(ctx);
    await service.run(section);
    return service;
  },
};

export default async function services(): Promise<ServiceProvider<VrrpSection>[]> {
  return [vrrpService];
}
