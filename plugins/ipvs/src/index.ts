/** The ipvs plugin's exported API: other plugins (health checks) drive IPVS through this. */
export * from './model.js';
export * from './addr.js';
export * from './kernel.js';
export { planServices } from './plan.js';
export { normalizeSection, toSection } from './section.js';
export { compareServiceKeys, compareServers, sortServices } from './ipvsadm/format.js';
export * from './realserver.js';
