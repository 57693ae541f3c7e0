/**
 * @ha/lib/agent: the runtime of `ha agent run` (supervisor, event bus, control socket, metrics,
 * systemd) and what plugins implement to run in it (ServiceProvider, through the `ha:services`
 * hook), plus the client the CLI talks to the agent with. Importing it loads neither prom-client
 * nor anything of the agent's that a client does not use until the agent starts.
 */
export * from './clock.js';
export * from './bus.js';
export * from './service.js';
export * from './supervisor.js';
export * from './protocol.js';
export * from './server.js';
export * from './client.js';
export * from './metrics.js';
export * from './notify.js';
export * from './unit.js';
export * from './flags.js';
export * from './run.js';
export * from './realtime.js';
