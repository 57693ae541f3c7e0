/**
 * ha's help class: oclif's, except that `ha help bogus` answers as `ha bogus` does (one line with
 * a did-you-mean, exit 2, JSON with --json) instead of oclif's boxed "Command bogus not found.".
 */
import { Help } from '@oclif/core/help';

export default class HaHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv);
    } catch (error) {
      const m = /^Command (.+) not found\.?$/.exec((error as Error).message ?? '');
      if (!m) throw error;
      await this.config.runHook('command_not_found', { id: m[1]!, argv });
    }
  }
}
