/**
 * The bond plugin's API, for the agent and the setup wizard: reading bonds, and the changes the
 * commands make, as steps for the step engine (@ha/lib runSteps).
 */
export type { Bond } from './kernel.js';
export { findBond, getBond, listBonds } from './kernel.js';
export type { BondOptions, Mode } from './options.js';
export { MODES, resolveOptions } from './options.js';
export { type BondSpec, changeSteps, createSteps, pickFailoverTarget, planChange } from './ops.js';
