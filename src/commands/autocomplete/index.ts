import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { HaCommand, HaError } from '@ha/lib';
import { bashCompletion } from '../../completion.js';

/**
 * @oclif/plugin-autocomplete's command, with ha's own bash script: after the plugin has built its
 * cache (and printed its instructions), the bash function file it sources is replaced by one that
 * also completes flag values, short flags and live values (completion.ts).
 */
interface AutocompleteResult {
  shell: string;
  /** The bash function file (bash sources it through the plugin's setup file). */
  bashScript: string;
}

export default class Autocomplete extends HaCommand<AutocompleteResult> {
  static override summary = 'Set up shell completion (bash, zsh, powershell).';
  static override description = `Prints the steps that make the shell complete ha's commands, flags and flag values: every flag with a fixed set of values offers them, and --interface, --ports, --dev and the other interface flags offer the interfaces, the bond commands the bonds, and -t/-u/--sctp-service/-f the kernel's IPVS services. Follow the steps once, then start a new shell. --refresh-cache rebuilds the completion files without printing the steps (after ha was upgraded).`;

  static override examples = [
    { description: 'Completion for bash.', command: '<%= config.bin %> autocomplete bash' },
    { description: 'Completion for zsh.', command: '<%= config.bin %> autocomplete zsh' },
    { description: 'Rebuild the completion files.', command: '<%= config.bin %> autocomplete --refresh-cache' },
  ];

  static override args = {
    shell: Args.string({ description: 'Shell type (default: the current one).', options: ['bash', 'zsh', 'powershell'], required: false }),
  };

  static override flags = {
    'refresh-cache': Flags.boolean({ char: 'r', summary: 'Rebuild the completion files; print no instructions.' }),
  };

  protected async exec(): Promise<AutocompleteResult> {
    const { args } = await this.parse(Autocomplete);
    // the plugin's own command class (its id is this command's, so it is not found by id; the
    // package exports only its index, so it is imported by path)
    const plugin = this.config.plugins.get('@oclif/plugin-autocomplete');
    if (!plugin) throw new HaError('@oclif/plugin-autocomplete is not installed: run npm ci');
    const file = pathToFileURL(join(plugin.root, 'lib', 'commands', 'autocomplete', 'index.js')).href;
    const { default: PluginIndex } = await import(file) as { default: { run(argv: string[], config: unknown): Promise<unknown> } };
    // it builds the completion files and prints the steps (with --json, only builds them)
    await PluginIndex.run(this.jsonEnabled() ? [...this.argv.filter((a) => a !== '--json'), '--refresh-cache'] : this.argv, this.config);
    const dir = join(this.config.cacheDir, 'autocomplete', 'functions', 'bash');
    mkdirSync(dir, { recursive: true });
    const bashScript = join(dir, `${this.config.bin}.bash`);
    writeFileSync(bashScript, bashCompletion(this.config));
    return { shell: args.shell ?? this.config.shell, bashScript };
  }
}
