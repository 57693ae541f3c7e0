/**
 * The plugin contract for the state file.
 *
 * The core does not know the sections. Each plugin registers, through the oclif hook `ha:sections`,
 * one or more SectionProviders: how to capture its section from the kernel, plan the changes that
 * make the kernel match a section, and apply them (each planned step can be undone). `ha save`,
 * `ha diff` and `ha restore` run every installed provider in dependency order (by `order`:
 * bond 10, route 20, ipvs 30, check 40, vrrp 50). A third-party plugin joins by implementing the
 * same hook.
 */
import type { Config } from '@oclif/core';
import type { Hooks } from '@oclif/core/interfaces';
import { HaError, UnavailableError, UsageError } from '../errors.js';
import type { Change, Step } from '../steps.js';
import { JsonSchema } from './schema.js';
import { STATE_VERSION, StateDocument, StateFileError, checkState, coreSchema } from './file.js';

export const SECTIONS_HOOK = 'ha:sections';

/** ha's own oclif hooks, declared once: their names, what they are given and what they return. */
export interface HaHooks extends Hooks {
  'ha:sections': { options: Record<string, never>; return: SectionProvider | SectionProvider[] | undefined };
  'ha:services': { options: Record<string, never>; return: import('../agent/service.js').ServiceProvider | import('../agent/service.js').ServiceProvider[] | undefined };
}

/** Suggested orders so that sections restore in dependency order. */
export const SECTION_ORDER = { bonds: 10, routes: 20, ipvs: 30, checks: 40, vrrp: 50 } as const;

export type { Change, Step } from '../steps.js';

export interface SectionProvider<T = unknown> {
  /** Key of the section in the state file (`ipvs`, `routes`…). */
  name: string;
  /**
   * 'kernel' (the default): the section is kernel state, captured from the kernel and restored
   * into it. 'config': the section is configuration (vrrp instances, health checks) that the
   * kernel does not hold: save keeps what the file has (`capture` is not called), and `plan`
   * validates it and returns the steps that hand it to whatever runs it (the agent).
   */
  kind?: 'kernel' | 'config';
  /** Restore order; lower first. */
  order: number;
  /** JSON Schema of the section's value. */
  schema: JsonSchema;
  /** Resolves if the running kernel can hold this section; throws UnavailableError saying why not. */
  available(): Promise<void>;
  /** Read the section from the kernel. */
  capture(): Promise<T>;
  /** The steps that make the kernel match `desired`, computed against the kernel now. */
  plan(desired: T): Promise<Step[]>;
  /** Extra checks beyond the schema (cross references…); return problems as [path, message]. */
  check?(section: T): Array<[path: string, message: string]>;
  /** What is valid but likely a mistake, said before a restore or diff (one line each). */
  warnings?(section: T): string[];
}

export interface LoadedProvider extends SectionProvider {
  /** The oclif plugin that registered it. */
  plugin: string;
}

/** Collect the providers of every installed plugin, in restore order. */
export async function loadProviders(config: Config): Promise<LoadedProvider[]> {
  const result = await config.runHook<typeof SECTIONS_HOOK, HaHooks>(SECTIONS_HOOK, {});
  const providers: LoadedProvider[] = [];
  for (const failure of result.failures) {
    throw new HaError(`plugin ${failure.plugin.name} failed to register its state sections: ${failure.error.message}`);
  }
  for (const success of result.successes) {
    const list = Array.isArray(success.result) ? success.result : [success.result];
    for (const p of list as SectionProvider[]) {
      if (!p || typeof p.name !== 'string') continue;
      const clash = providers.find((q) => q.name === p.name);
      if (clash) throw new HaError(`state section "${p.name}" is registered by both ${clash.plugin} and ${success.plugin.name}`);
      providers.push({ ...p, plugin: success.plugin.name });
    }
  }
  return providers.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

/** The whole-file schema: the core schema with each provider's section schema plugged in. */
export function fullSchema(providers: SectionProvider[]): JsonSchema {
  const properties: Record<string, JsonSchema> = { ...coreSchema.properties };
  for (const p of providers) properties[p.name] = p.schema;
  return { ...coreSchema, properties };
}

/**
 * Validate a parsed document: the core schema, each installed provider's section schema and
 * its extra checks. Sections no installed plugin knows are only checked to be objects.
 */
export function validateState(file: string, doc: unknown, providers: SectionProvider[]): StateDocument {
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'version' in doc && (doc as StateDocument).version !== STATE_VERSION
    && typeof (doc as StateDocument).version === 'number') {
    throw new StateFileError(file, { path: '$.version', message: `unsupported version ${(doc as StateDocument).version} (this ha reads version ${STATE_VERSION})` });
  }
  const state = checkState(file, doc, fullSchema(providers));
  for (const p of providers) {
    if (state[p.name] === undefined || !p.check) continue;
    const problems = p.check(state[p.name]);
    if (problems.length > 0) {
      const [path, message] = problems[0]!;
      throw new StateFileError(file, { path: path.startsWith('$') ? path : `$.${p.name}${path}`, message });
    }
  }
  return state;
}

/** Every provider's warnings about its section of the document. */
export function stateWarnings(providers: SectionProvider[], state: StateDocument): string[] {
  const out: string[] = [];
  for (const p of providers) if (state[p.name] !== undefined && p.warnings) out.push(...p.warnings(state[p.name]).map((w) => `${p.name}: ${w}`));
  return out;
}

export interface SectionReport {
  name: string;
  plugin?: string;
  status: 'saved' | 'kept' | 'skipped';
  reason?: string;
}

/** Capture every provider's section; sections that cannot be captured keep their previous value. */
export async function captureAll(providers: LoadedProvider[], previous: StateDocument): Promise<{ doc: StateDocument; sections: SectionReport[] }> {
  const doc: StateDocument = { ...previous, version: STATE_VERSION };
  const sections: SectionReport[] = [];
  for (const p of providers) {
    if (p.kind === 'config') {
      // configuration is what the file says: save keeps it as it is
      if (previous[p.name] !== undefined) sections.push({ name: p.name, plugin: p.plugin, status: 'kept', reason: 'configuration, kept as the file has it' });
      continue;
    }
    try {
      await p.available();
      doc[p.name] = await p.capture();
      sections.push({ name: p.name, plugin: p.plugin, status: 'saved' });
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      sections.push({ name: p.name, plugin: p.plugin, status: 'skipped', reason: error.message });
    }
  }
  for (const name of Object.keys(previous)) {
    if (name === 'version' || name === '$schema' || providers.some((p) => p.name === name)) continue;
    sections.push({ name, status: 'kept', reason: 'no installed plugin manages this section' });
  }
  return { doc, sections };
}

export interface SectionPlan {
  name: string;
  plugin: string;
  steps: Step[];
}

/** The error for the first section of the file that no installed plugin manages, if any. */
export function unmanagedSection(file: string, providers: SectionProvider[], state: StateDocument): UsageError | undefined {
  const name = Object.keys(state).find((k) => k !== 'version' && k !== '$schema' && !providers.some((p) => p.name === k));
  if (name === undefined) return undefined;
  const known = providers.map((p) => p.name);
  return new UsageError(`state file ${file}: section "${name}" is not managed by any installed plugin (installed sections: ${known.length ? known.join(', ') : 'none'})`, 'ESECTION');
}

export interface SectionProblem {
  section: string;
  error: HaError;
}

/**
 * Plan each section on its own, for a comparison that shows what it can: a section whose plugin
 * is missing, whose kernel support is absent or whose plan fails is reported, and the others are
 * planned anyway. (A restore needs all of them: planAll.)
 */
export async function planEach(file: string, providers: LoadedProvider[], state: StateDocument): Promise<{ plans: SectionPlan[]; problems: SectionProblem[] }> {
  const plans: SectionPlan[] = [];
  const problems: SectionProblem[] = [];
  const names = Object.keys(state).filter((k) => k !== 'version' && k !== '$schema');
  for (const name of names) {
    if (!providers.some((p) => p.name === name)) problems.push({ section: name, error: unmanagedSection(file, providers, { version: state.version, [name]: state[name] })! });
  }
  for (const p of providers.filter((q) => names.includes(q.name))) {
    try {
      await p.available();
      plans.push({ name: p.name, plugin: p.plugin, steps: await p.plan(state[p.name]) });
    } catch (error) {
      const e = error instanceof HaError ? error : new HaError((error as Error).message ?? String(error));
      problems.push({ section: p.name, error: error instanceof UnavailableError ? new HaError(`cannot compare section "${p.name}": ${e.message}`, { code: e.code }) : e });
    }
  }
  return { plans, problems };
}

/**
 * Plan a restore: every section in the file must have an installed provider whose kernel support
 * is present, otherwise nothing is planned (and so nothing changes).
 */
export async function planAll(file: string, providers: LoadedProvider[], state: StateDocument): Promise<SectionPlan[]> {
  const names = Object.keys(state).filter((k) => k !== 'version' && k !== '$schema');
  const unmanaged = unmanagedSection(file, providers, state);
  if (unmanaged) throw unmanaged;
  const wanted = providers.filter((p) => names.includes(p.name));
  for (const p of wanted) {
    try {
      await p.available();
    } catch (error) {
      if (error instanceof UnavailableError) throw new HaError(`cannot restore section "${p.name}": ${error.message}; nothing was changed`, { code: 'EUNAVAILABLE' });
      throw error;
    }
  }
  const plans: SectionPlan[] = [];
  for (const p of wanted) plans.push({ name: p.name, plugin: p.plugin, steps: await p.plan(state[p.name]) });
  return plans;
}

/** The JSON shape of a plan, without the functions. */
export function describePlans(plans: SectionPlan[]): Array<{ section: string; plugin: string; changes: Change[] }> {
  return plans.map((p) => ({
    section: p.name,
    plugin: p.plugin,
    changes: p.steps.map(({ op, object, detail }) => (detail === undefined ? { op, object } : { op, object, detail })),
  }));
}

/** Read and validate a state file against the installed providers' schemas. */
export async function loadState(file: string, providers: SectionProvider[], options: { missingOk?: boolean } = {}): Promise<StateDocument> {
  const { readState } = await import('./file.js');
  return validateState(file, await readState(file, options), providers);
}
