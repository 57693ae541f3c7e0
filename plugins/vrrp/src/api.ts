/**
 * What other plugins and the agent may use of the vrrp plugin. Everything else is internal.
 */
export type { VrrpSection, Instance, Group, Script } from './model.js';
export type { VrrpState, Advert, Family, VrrpVersion } from './types.js';
export { vrrpSectionSchema, checkSection, parseVip } from './model.js';
