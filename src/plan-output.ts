import { colour } from '@ha/lib';
import type { Change } from '@ha/lib/state';

const marks = { add: '+', delete: '-', change: '~' } as const;

/** Above this many applied changes, human output sums them up instead of listing each. */
export const LIST_AT_MOST = 100;

/** One line per section: how many objects were added, changed and deleted. */
export function renderCounts(sections: Array<{ section: string; changes: Change[] }>): string {
  const lines: string[] = [];
  for (const s of sections) {
    if (s.changes.length === 0) continue;
    const n = { add: 0, change: 0, delete: 0 };
    for (const ch of s.changes) n[ch.op]++;
    lines.push(`${s.section}: ${n.add} added, ${n.change} changed, ${n.delete} deleted`);
  }
  return lines.join('\n');
}

/** Lines of a plan for people: a heading per section, then one line per change. */
export function renderChanges(sections: Array<{ section: string; changes: Change[] }>): string {
  const c = colour();
  const paint = { add: c.green, delete: c.red, change: c.yellow } as const;
  const lines: string[] = [];
  for (const s of sections) {
    if (s.changes.length === 0) continue;
    lines.push(c.bold(`${s.section}:`));
    for (const ch of s.changes) lines.push(paint[ch.op](`  ${marks[ch.op]} ${ch.object}${ch.detail ? ` (${ch.detail})` : ''}`));
  }
  return lines.join('\n');
}
