export * from './errors.js';
export * from './output.js';
export * from './base-command.js';
export * from './lines.js';
export * from './lock.js';
export * from './signals.js';
export * from './steps.js';
export * from './kmod.js';
