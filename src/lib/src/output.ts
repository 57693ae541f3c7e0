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
  const text = rows.map((row) => head.map((_, i) => cellText(row[i])));
  return streamTable(head, () => text, options);
}

/** The text of a cell: "-" for a missing value. */
export const cellText = (cell: Cell): string => (cell === undefined || cell === null ? '-' : String(cell));

/**
 * table() for rows that are made rather than held: `rows()` is called twice, once to measure the
 * columns and once to write the lines, so a table of 60,000 rows never holds its 500,000 cells
 * (fresh memory is what costs most where page faults are slow, as in User-Mode Linux). With
 * `out`, each line goes there as it is made, with its newline, and nothing is returned.
 */
export function streamTable(head: string[], rows: () => Iterable<string[]>, options: { align?: Array<'left' | 'right'>; plain?: boolean } = {}, out?: (text: string) => void): string {
  const c = colour();
  const widths = head.map((h) => h.length);
  // plain: the caller's cells carry no colour codes, so a width is a length (no scan per cell)
  const width = options.plain ? (text: string): number => text.length : visibleWidth;
  for (const row of rows()) {
    for (let i = 0; i < row.length; i++) {
      const w = width(row[i]!);
      if (w > (widths[i] ?? 0)) widths[i] = w;
    }
  }
  const right = options.align ?? [];
  const spaces: string[] = [];
  const pad = (k: number): string => (k <= 0 ? '' : (spaces[k] ??= ' '.repeat(k)));
  // a row: each cell padded to its column's width, two spaces between, no trailing blanks
  const line = (cells: string[], styled?: (s: string) => string): string => {
    let end = cells.length - 1;
    while (end > 0 && cells[end] === '') end--;
    let text = '';
    for (let i = 0; i <= end; i++) {
      const cell = cells[i]!;
      const gap = (widths[i] ?? 0) - width(cell);
      const shown = styled ? styled(cell) : cell;
      if (i) text += '  ';
      text += right[i] === 'right' ? pad(gap) + shown : i === end ? shown : shown + pad(gap);
    }
    return text.charCodeAt(text.length - 1) === 32 ? text.trimEnd() : text;
  };
  if (out) {
    out(`${line(head, (h) => c.bold(h))}\n`);
    for (const row of rows()) out(`${line(row)}\n`);
    return '';
  }
  let all = line(head, (h) => c.bold(h));
  for (const row of rows()) all += `\n${line(row)}`;
  return all;
}

/**
 * Standard output in pieces of about 64 KiB: a listing of 60,000 lines is written as it is made,
 * never held as one string and one buffer of several megabytes (fresh memory is what costs most
 * where page faults are slow, as in User-Mode Linux).
 */
export class ChunkedOutput {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly write: (text: string) => void = (text) => { process.stdout.write(text); }) {}

  add(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= 65_536) this.flush();
  }

  flush(): void {
    if (this.size === 0) return;
    this.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
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

/**
 * A counter for long operations on standard error ("restoring: 1,200/9,000 (13%)"), redrawn at
 * most ten times a second: only on a terminal, never with --json (the caller says) or NO_COLOR
 * dumb terminals, and erased when done.
 */
export class Progress {
  private n = 0;
  private last = 0;
  private shown = false;
  private readonly enabled: boolean;

  constructor(private readonly label: string, private readonly total: number, options: { enabled?: boolean; stream?: NodeJS.WriteStream } = {}) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = (options.enabled ?? true) && Boolean(this.stream.isTTY) && process.env.TERM !== 'dumb';
  }

  private readonly stream: NodeJS.WriteStream;

  tick(by = 1): void {
    this.n += by;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && this.n < this.total) return;
    this.last = now;
    const pct = this.total > 0 ? Math.floor((this.n * 100) / this.total) : 100;
    this.stream.write(`\r${this.label}: ${this.n.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} (${pct}%)`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
