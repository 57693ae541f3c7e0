/**
 * `--json` output held to its contract: schema/results/<command>.json (generated from the
 * commands' result types by scripts/gen-schemas.ts). Every run of the CLI through the test
 * harness that passes --json is checked here, so a result that drifts from its schema fails the
 * test that produced it, in the CLI tests and in the kernel tests alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate, type JsonSchema } from '../state/schema.js';

export const RESULTS_DIR = (root: string): string => join(root, 'schema', 'results');

type Schema = JsonSchema & { 'x-ha-json-lines'?: boolean; 'x-ha-result-of'?: string };

const cache = new Map<string, Schema | undefined>();

function load(dir: string, name: string): Schema | undefined {
  const path = join(dir, `${name}.json`);
  if (!cache.has(path)) cache.set(path, existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as Schema : undefined);
  return cache.get(path);
}

/** The command an argument list runs: its leading words, as long as a schema exists for them. */
export function resultSchemaName(dir: string, args: string[]): string | undefined {
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  for (let n = words.length; n > 0; n--) {
    const name = words.slice(0, n).join('-');
    if (load(dir, name)) return name;
  }
  return undefined;
}

function problemsText(problems: Array<{ path: string; message: string }>): string {
  return problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`).join('; ');
}

/** Problems of one value against a schema; a "result-of" schema takes any of its topic's results. */
function check(dir: string, schema: Schema, value: unknown, topic: string[]): string | undefined {
  const of = schema['x-ha-result-of'];
  if (of !== undefined) {
    const names = topic.filter((n) => n.startsWith(`${of.replaceAll(' ', '-')}-`));
    const failures = names.map((n) => check(dir, load(dir, n)!, value, []));
    return failures.some((f) => f === undefined) ? undefined : `matches none of the ${of} commands' results`;
  }
  const problems = validate(schema, value);
  return problems.length ? problemsText(problems) : undefined;
}

/**
 * Check what a CLI run printed with --json against the command's schema (or, when it failed, the
 * error schema). Returns a description of the mismatch, or undefined when it holds.
 */
export function checkJsonOutput(root: string, args: string[], run: { code: number | null; signal: string | null; stdout: string }, topic: () => string[]): string | undefined {
  if (!args.includes('--json') || args.includes('--help') || args.includes('-h')) return undefined;
  const dir = RESULTS_DIR(root);
  const text = run.stdout.trim();
  // killed before it printed, or by a signal mid-way: nothing to hold to the contract
  if (text === '' || run.signal !== null) return undefined;
  const name = resultSchemaName(dir, args);
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    whole = undefined;
  }
  if (run.code !== 0) {
    if (whole === undefined) {
      // lines of a streaming command, then the error
      const last = text.slice(text.lastIndexOf('\n{') + 1);
      try {
        whole = JSON.parse(last);
      } catch {
        return `exit ${run.code} with --json, but standard output is not JSON`;
      }
    }
    // a command may fail with its result (ha diff --exit-code, a check that finds problems)
    if (typeof whole === 'object' && whole !== null && 'error' in whole) {
      const problem = check(dir, load(dir, 'error')!, whole, []);
      return problem && `the error printed does not match schema/results/error.json: ${problem}`;
    }
  }
  if (!name) return undefined;
  const schema = load(dir, name)!;
  const values = schema['x-ha-json-lines'] ? text.split('\n').filter((l) => l.trim() !== '').map((l) => {
    try {
      return JSON.parse(l) as unknown;
    } catch {
      return Symbol('not JSON');
    }
  }) : [whole];
  for (const [i, v] of values.entries()) {
    if (v === undefined || typeof v === 'symbol') return `${schema['x-ha-json-lines'] ? `line ${i + 1} of ` : ''}the output is not JSON`;
    const problem = check(dir, schema, v, topic());
    if (problem) return `the output does not match schema/results/${name}.json: ${problem}`;
  }
  return undefined;
}
