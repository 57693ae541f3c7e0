/**
 * "Did you mean" for mistyped commands. Unlike @oclif/plugin-not-found this never prompts and exits
 * with status 2 (invalid usage) after a one-line message, which is what scripts expect of ha.
 */
import type { Hook } from '@oclif/core';

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

const hook: Hook<'command_not_found'> = async function (opts) {
  const typed = opts.id.replaceAll(':', ' ');
  const ids = [...opts.config.commandIDs, ...opts.config.topics.map((t) => t.name)].filter((id) => !id.startsWith('autocomplete:'));
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const id of ids) {
    const d = distance(opts.id, id);
    if (d < bestScore) {
      bestScore = d;
      best = id;
    }
  }
  const bin = opts.config.bin;
  const hint = best !== undefined && bestScore <= Math.max(2, Math.floor(opts.id.length / 3))
    ? `did you mean "${bin} ${best.replaceAll(':', ' ')}"? `
    : '';
  const message = `"${typed}" is not a command; ${hint}see "${bin} --help" for the list`;
  // the same shape as every command's errors with --json
  if (opts.argv?.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { code: 'ENOCOMMAND', message, exitCode: 2 } }, null, 2)}\n`);
  else process.stderr.write(`${bin}: ${message}\n`);
  this.exit(2);
};

export default hook;
