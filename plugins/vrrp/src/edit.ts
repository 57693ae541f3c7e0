/**
 * Editing the state file's `vrrp` section from the command line: under the state file's lock,
 * the file is read, the change made on a copy, the whole document validated with every installed
 * plugin's schema (so a change that breaks a cross reference is refused), and written atomically.
 * Nothing is written when anything fails; a running agent is then told to reload.
 */
import type { Config } from '@oclif/core';
import { UsageError } from '@ha/lib';
import { StateDocument, formatState, loadProviders, readState, resolveStatePath, validateState, withStateLock, writeAtomic } from '@ha/lib/state';
import type { VrrpSection } from './model.js';

export interface Edited<R> {
  file: string;
  result: R;
  section: VrrpSection;
}

/** Read the file's vrrp section (an empty one when the file or the section is missing). */
export async function readSection(config: Config, stateFlag: string | undefined): Promise<{ file: string; section: VrrpSection }> {
  const file = resolveStatePath(stateFlag);
  const providers = await loadProviders(config);
  const doc = validateState(file, await readState(file, { missingOk: true }), providers);
  return { file, section: (doc.vrrp as VrrpSection | undefined) ?? {} };
}

/**
 * Apply `change` to a copy of the vrrp section and write the file if the result validates.
 * `change` throws a UsageError for a request that makes no sense (a missing instance…).
 */
export async function editSection<R>(config: Config, stateFlag: string | undefined, change: (section: VrrpSection) => R): Promise<Edited<R>> {
  const file = resolveStatePath(stateFlag);
  const providers = await loadProviders(config);
  return withStateLock(file, async () => {
    const doc = validateState(file, await readState(file, { missingOk: true }), providers);
    const section = structuredClone((doc.vrrp as VrrpSection | undefined) ?? {});
    const result = change(section);
    prune(section);
    const next: StateDocument = { ...doc };
    if (Object.keys(section).length === 0) delete next.vrrp;
    else next.vrrp = section;
    // the whole document, as restore will see it
    validateState(file, JSON.parse(JSON.stringify(next)), providers);
    await writeAtomic(file, formatState(next));
    return { file, result, section };
  });
}

/** Drop empty collections so the file stays as small as what was said. */
function prune(section: VrrpSection): void {
  for (const key of ['instances', 'groups', 'scripts'] as const) {
    if (section[key] && Object.keys(section[key]!).length === 0) delete section[key];
  }
}

export function missing(kind: string, name: string, have: Record<string, unknown> | undefined): UsageError {
  const names = Object.keys(have ?? {}).sort();
  return new UsageError(`no VRRP ${kind} named ${name} (${kind}s: ${names.length ? names.join(', ') : 'none'})`, 'EUSAGE');
}
