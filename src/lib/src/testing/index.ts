/**
 * The test harness shared by the core's and the plugins' tests: running the built CLI, network
 * namespaces on the host kernel, User-Mode Linux and a qemu (TCG) guest. Not used by ha at run time.
 */
export * from './cli.js';
export * from './netns.js';
export * from './guest.js';
export * from './uml.js';
export * from './tcg.js';
export * from './golden.js';
export * from './fake-netlink.js';
export * from './results.js';
