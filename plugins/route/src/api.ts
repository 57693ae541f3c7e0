/**
 * The route plugin's API, for the agent and the setup wizard: reading routes and nexthop objects,
 * and the changes the commands make, as steps for the step engine (@ha/lib runSteps), so that a
 * caller gets the same undo and signal behaviour the commands have.
 */
export type { Family, Leg, Nexthop, Route } from './model.js';
export { HA_PROTOCOL, MAIN_TABLE, formatDestination, parseDestination, routeLabel } from './model.js';
export { type Links, findRoute, links, listNexthops, listRoutes, lookup } from './kernel.js';
export {
  addRouteStep, deleteNexthopStep, deleteRouteStep, planFailover, planGroupRoute, planInlineRoute, replaceRouteStep, sysctlStep,
  unusedNexthops, type GroupOptions, type GroupPlan,
} from './ops.js';
