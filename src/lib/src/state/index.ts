export * from './schema.js';
export * from './file.js';
export * from './contract.js';
