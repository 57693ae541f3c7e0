import { colour } from '@ha/lib';
import type { Change } from '@ha/lib/state';

const marks = { add: '+', delete: '-', change: '~' } as const;

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
