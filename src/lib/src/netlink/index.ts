export * from './attr.js';
export * from './message.js';
export * from './errno.js';
export * from './session.js';
export * from './genl.js';
export * from './link.js';
export * from './address.js';
export * from './sysctl.js';
