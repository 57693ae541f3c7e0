import * as Flags from '@oclif/core/flags';
import { HaCommand } from '@ha/lib';
import { loadHelpClass } from '@oclif/core';

interface HelpResult {
  /** The command or topic shown ("" for ha itself). */
  subject: string;
  kind: 'root' | 'topic' | 'command';
  summary?: string;
  description?: string;
  usage?: string[];
  flags?: Array<{ name: string; char?: string; summary?: string; options?: string[]; multiple?: boolean }>;
  examples?: string[];
  /** Commands under a topic (or all, for ha itself). */
  commands?: Array<{ id: string; summary?: string }>;
}

export default class Help extends HaCommand<HelpResult | undefined> {
  static override summary = 'Show help for ha, a topic or a command.';
  static override description = `The same help --help shows. A command that does not exist is answered as ha answers it anywhere: one line with the nearest command, exit 2. With --json, the command's summary, description, flags (with the values each takes) and examples, or the commands of a topic, as JSON.`;

  static override examples = [
    { description: 'Help for a command.', command: '<%= config.bin %> help ipvs add-service' },
    { description: 'Every command of a topic, as JSON.', command: '<%= config.bin %> help route --json' },
  ];

  static override strict = false;

  static override flags = {
    'nested-commands': Flags.boolean({ char: 'n', summary: 'Include all nested commands in the output.' }),
  };

  protected async exec(): Promise<HelpResult | undefined> {
    const { argv, flags } = await this.parse(Help);
    const words = (argv as string[]).filter((a) => !a.startsWith('-'));
    const id = words.join(':');
    const command = id ? this.config.findCommand(id) : undefined;
    const topic = id ? this.config.findTopic(id) : undefined;
    if (id && !command && !topic) {
      await this.config.runHook('command_not_found', { id, argv: this.argv });
      return undefined;
    }
    if (!this.jsonEnabled()) {
      const HelpClass = await loadHelpClass(this.config);
      await new HelpClass(this.config, { all: flags['nested-commands'] }).showHelp(words);
      return undefined;
    }
    const under = (prefix: string): HelpResult['commands'] => this.config.commands
      .filter((c) => !c.hidden && (prefix === '' || c.id.startsWith(`${prefix}:`)))
      .map((c) => ({ id: c.id.replaceAll(':', ' '), summary: c.summary }))
      .sort((a, b) => a.id.localeCompare(b.id));
    if (command) {
      const result: HelpResult = {
        subject: command.id.replaceAll(':', ' '),
        kind: 'command',
        summary: command.summary,
        description: command.description,
        flags: Object.values(command.flags).filter((f) => !f.hidden).map((f) => ({
          name: f.name,
          ...(f.char ? { char: f.char } : {}),
          ...(f.summary ? { summary: f.summary } : {}),
          ...(f.type === 'option' && f.options ? { options: [...f.options] } : {}),
          ...(f.type === 'option' && f.multiple ? { multiple: true } : {}),
        })),
        examples: (command.examples ?? []).map((e) => (typeof e === 'string' ? e : e.command).replaceAll('<%= config.bin %>', this.config.bin)),
      };
      const sub = under(command.id);
      if (sub && sub.length) result.commands = sub;
      return result;
    }
    if (topic) return { subject: id.replaceAll(':', ' '), kind: 'topic', description: topic.description, commands: under(id) };
    return { subject: '', kind: 'root', description: this.config.pjson.description, commands: under('') };
  }
}
