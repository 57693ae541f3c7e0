/**
 * Output for people and for scripts: colour only on a TTY and never with NO_COLOR (chalk 5 ignores
 * NO_COLOR by itself), borderless aligned tables (linear time), and JSON that keeps 64-bit counters exact.
 */
import { Chalk, type ChalkInstance } from 'chalk';

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

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const visibleWidth = (text: string): number => (text.includes('\x1b') ? text.replace(ANSI, '') : text).length;

/**
 * An aligned table without borders: a header row, then the rows, columns two spaces apart.
 * Written here rather than with cli-table3, which took over half an hour for the 60,000 rows of a
 * 10,000-service IPVS table; this is linear. Widths ignore colour codes; cell text is ASCII.
 */
export function table(head: string[], rows: Cell[][], options: { align?: Array<'left' | 'right'> } = {}): string {
  const c = colour();
  const text = rows.map((row) => row.map((cell) => (cell === undefined || cell === null ? '-' : String(cell))));
  const widths = head.map((h) => h.length);
  for (const row of text) {
    row.forEach((cell, i) => {
      const w = visibleWidth(cell);
      if (w > (widths[i] ?? 0)) widths[i] = w;
    });
  }
  const right = options.align ?? [];
  const line = (cells: string[], styled?: (s: string) => string): string => {
    let out = '';
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]!;
      const pad = (widths[i] ?? 0) - visibleWidth(cell);
      const shown = styled ? styled(cell) : cell;
      if (i) out += '  ';
      out += pad <= 0 ? shown : right[i] === 'right' ? ' '.repeat(pad) + shown : shown + ' '.repeat(pad);
    }
    return out.trimEnd();
  };
  const lines = [line(head, (h) => c.bold(h))];
  for (const row of text) lines.push(line(row));
  return lines.join('\n');
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
