/** The route plugin's exported API: other plugins drive routes and nexthop objects through this. */
export * from './model.js';
export * from './kernel.js';
