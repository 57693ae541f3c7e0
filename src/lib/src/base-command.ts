/**
 * The base of every `ha` command: `--json` on all of them, table output for people, one-line errors
 * without stack traces (unless DEBUG=ha*), exit codes 0/1/2.
 *
 * A command implements `exec()`, returning its result object, and `render(result)` for people.
 * With `--json` the result is printed as JSON instead; its shape is the command's contract.
 */
import { Command } from '@oclif/core/command';
import type { Input, ParserOutput } from '@oclif/core/interfaces';

// oclif's FlagOutput and ArgOutput, which its public entry points do not export
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Output = { [name: string]: any };
import * as Flags from '@oclif/core/flags';
import { EXIT_FAILED, EXIT_USAGE, HaError, debugEnabled } from './errors.js';
import { HeldLock, lockKernel } from './lock.js';
import { toJson } from './output.js';
import { NetlinkSession } from './netlink/session.js';
import { guardSignals } from './signals.js';
import { RunOptions, Step, applySteps } from './steps.js';

interface OclifishError extends Error {
  code?: string;
  oclif?: { exit?: number };
}

/** `--state FILE` for the commands that read or write the state file. */
export const stateFlags = {
  state: Flags.string({
    summary: 'State file to use.',
    description: 'Defaults to $HA_STATE, then /etc/ha/state.json.',
    helpValue: 'FILE',
    env: 'HA_STATE',
  }),
};

export abstract class HaCommand<T = unknown> extends Command {
  static override enableJsonFlag = true;

  private readonly kernelLocks: HeldLock[] = [];
  /** The flags of the last parse(), handed to render(). */
  private parsedFlags: Record<string, unknown> = {};

  protected override async parse<F extends Output, B extends Output, A extends Output>(options?: Input<F, B, A>, argv?: string[]): Promise<ParserOutput<F, B, A>> {
    const out = await super.parse(options, argv);
    this.parsedFlags = out.flags as Record<string, unknown>;
    return out;
  }

  protected abstract exec(): Promise<T>;

  /** Human output for a result, given the parsed flags; nothing is printed when it returns undefined or ''. */
  protected render(_result: T, _flags: Record<string, unknown>): string | undefined {
    return undefined;
  }

  /**
   * Before changing the kernel: take the kernel locks of these state sections ("ipvs", "routes",
   * "bonds"…) in this network namespace, waiting for another ha that holds one (saying who), and
   * guard SIGINT/SIGTERM/SIGHUP (signals.ts). Released when the command ends.
   */
  protected async lockKernel(...sections: string[]): Promise<void> {
    guardSignals(this.config.bin);
    for (const section of sections) {
      if (this.kernelLocks.some((l) => l.path.includes(`/${section}.`))) continue;
      this.kernelLocks.push(await lockKernel(section));
    }
  }

  /**
   * Make a change through the step engine (steps.ts): on failure or on a signal the steps made
   * are undone (or, on a signal, finished when that is shorter) and the command ends with one
   * line saying so. `lockKernel` must have been called. Returns how many steps were made.
   */
  protected async change(steps: Step | Step[], what: { action?: string; target: string }, options: RunOptions = {}): Promise<number> {
    const list = Array.isArray(steps) ? steps : [steps];
    return applySteps([{ name: this.id ?? 'change', steps: list }], { action: what.action ?? this.id?.replaceAll(':', ' ') ?? 'change', target: what.target }, options);
  }

  async run(): Promise<T> {
    try {
      const result = await this.exec();
      if (!this.jsonEnabled()) {
        const text = this.render(result, this.parsedFlags);
        // straight to the stream: oclif's log() formats its argument first, which costs seconds
        // for a listing of 60,000 lines
        if (text) process.stdout.write(`${text}\n`);
      }
      return result;
    } finally {
      NetlinkSession.closeAll();
      for (const l of this.kernelLocks.splice(0)) l.release();
    }
  }

  protected override logJson(json: unknown): void {
    process.stdout.write(`${toJson(json)}\n`);
  }

  /** Exit code of an error: ours carry one; oclif's parse errors carry 2; anything else is 1. */
  static exitCodeOf(err: OclifishError): number {
    if (err instanceof HaError) return err.exitCode;
    const exit = err.oclif?.exit;
    return typeof exit === 'number' ? exit : EXIT_FAILED;
  }

  /**
   * One line: the first line of the message, without oclif's "See more help" trailer. oclif's
   * own messages are made one line: "Missing 1 required arg:" names the arguments (listed on
   * the lines after it), and a custom flag's "Parsing --x" keeps the parser's message.
   */
  protected oneLine(err: OclifishError, exitCode: number): string {
    const lines = (err.message || String(err)).split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !/^See more help/.test(l));
    let first = lines[0] ?? 'failed';
    const missing = /^Missing (\d+) required args?:?$/.exec(first);
    if (missing) {
      // "name  description" lines, then oclif's notes about flags with several values
      const end = lines.findIndex((l, i) => i > 0 && /^(Note:|Alternatively)/.test(l));
      const named = lines.slice(1, end === -1 ? undefined : end).map((l) => {
        const [name, ...rest] = l.split(/\s{2,}/);
        return rest.length ? `${name} (${rest.join(' ').replace(/\.$/, '')})` : name!;
      });
      first = `missing required argument${Number(missing[1]) > 1 ? 's' : ''}: ${named.join(', ') || 'see the usage'}`;
    } else if (/^Parsing --\S+/.test(first) && lines[1]) {
      first = lines[1];
    } else if (/^The following errors? occurred:?$/.test(first) && lines[1]) {
      // oclif's list of failed checks ("Missing required flag command"): the checks themselves
      first = lines.slice(1).join('; ').replace(/^Missing required flag (\S+)/, 'missing required flag --$1');
    }
    if (err instanceof HaError || exitCode !== EXIT_USAGE) return first;
    return `${first} (see: ${this.config.bin} ${this.id?.replaceAll(':', ' ') ?? ''} --help)`;
  }

  protected override async catch(err: OclifishError): Promise<never> {
    // this.exit() throws an ExitError: pass it through untouched
    if (err.oclif?.exit !== undefined && err.code === 'EEXIT') throw err;
    const exitCode = HaCommand.exitCodeOf(err);
    const message = this.oneLine(err, exitCode);
    if (this.jsonEnabled()) {
      this.logJson({ error: { code: err instanceof HaError ? err.code : exitCode === EXIT_USAGE ? 'EUSAGE' : 'EFAILED', message, exitCode } });
    } else {
      process.stderr.write(`${this.config.bin}: ${message}\n`);
    }
    if (debugEnabled()) process.stderr.write(`${err.stack ?? ''}\n`);
    return this.exit(exitCode);
  }
}
