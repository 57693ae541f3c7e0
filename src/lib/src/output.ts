/**
 * Output for people and for scripts: colour only on a TTY and never with NO_COLOR (chalk 5 ignores
 * NO_COLOR by itself), borderless aligned tables, and JSON that keeps 64-bit counters exact.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { createRequire } from 'node:module';
import type TableType from 'cli-table3';

// loaded on first use: commands that print no table (save, --json) do not pay for it
let TableClass: typeof TableType | undefined;
const loadTable = (): typeof TableType => (TableClass ??= createRequire(import.meta.url)('cli-table3') as typeof TableType);

export function colourEnabled(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

let cached: ChalkInstance | undefined;
/** A chalk instance that honours colourEnabled() for stdout. */
export function colour(): ChalkInstance {
  cached ??= new Chalk({ level: colourEnabled() ? 1 : 0 });
  return cached;
}

export type Cell = string | number | bigint | boolean | null | undefined;

/** An aligned table without borders: a header row, then the rows. */
export function table(head: string[], rows: Cell[][], options: { align?: Array<'left' | 'right'> } = {}): string {
  const c = colour();
  const Table = loadTable();
  const t = new Table({
    head: head.map((h) => c.bold(h)),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    ...(options.align ? { colAligns: options.align } : {}),
  });
  for (const row of rows) t.push(row.map((cell) => (cell === undefined || cell === null ? '-' : String(cell))));
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n');
}

/** `key: value` lines, keys aligned. */
export function keyValues(pairs: Array<[string, Cell]>): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v === undefined || v === null ? '-' : String(v)}`).join('\n');
}

const BIG = '\u0000bigint:';
/** JSON text; bigint values are written as exact JSON numbers. */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${BIG}${v}` : v), 2);
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}
