/** The bond plugin's exported API: other plugins can read and drive bonds through this. */
export * from './options.js';
export * from './kernel.js';
export { createWithPorts, applyChange, planChange, pickFailoverTarget } from './ops.js';
export { planBonds } from './plan.js';
export { toSection, checkSection, bondsSectionSchema } from './section.js';
export type { BondsSection, BondEntry } from './section.js';
export { nmcliCommands, keyfiles, exportable } from './export.js';
