export * from './errors.js';
export * from './output.js';
export * from './base-command.js';
export * from './lines.js';
