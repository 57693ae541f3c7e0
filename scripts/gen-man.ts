/**
 * Generate the man pages in man/ from the CLI's oclif metadata (the cached command metadata of the
 * manifests: the same data `ha --help` shows).
 *
 *   node dist/scripts/gen-man.js           write man/ha.1 and one page per topic or topic-less
 *                                          command; delete stale man/ha*.1 pages
 *   node dist/scripts/gen-man.js --check   write nothing; exit 1 listing the pages that are
 *                                          missing, out of date or extra
 *
 * Pages: man/ha.1 (overview), man/ha-TOPIC.1 for every top-level topic that has visible commands
 * (covering every command under it), man/ha-COMMAND.1 for every visible top-level command that has
 * no sub-commands. Output is deterministic: no dates, only the package version in .TH.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';
import type { Command } from '@oclif/core';
import { FAILURE_CODES, USAGE_CODES } from '@ha/lib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const manDir = join(root, 'man');

type Cmd = Command.Loadable;
type CachedFlag = Command.Flag.Cached;
type CachedArg = Command.Arg.Cached;

interface Page {
  file: string;
  text: string;
}

// ---------------------------------------------------------------------------------------------
// roff escaping

const CHAR_NAMES: Record<string, string> = {
  '\u2014': '\\(em',
  '\u2013': '\\(en',
  '\u2018': '\\(oq',
  '\u2019': '\\(cq',
  '\u201c': '\\(lq',
  '\u201d': '\\(rq',
  '\u2022': '\\(bu',
  '\u2192': '\\(->',
  '\u2190': '\\(<-',
  '\u00a0': '\\~',
  '\u2026': '.\\|.\\|.',
};

/** Characters outside ASCII as groff escapes, so that the pages do not depend on the input encoding. */
function escapeNonAscii(s: string): string {
  return s.replace(/[^\x00-\x7f]/gu, (ch) => CHAR_NAMES[ch] ?? `\\[u${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

/** Escape literal text for use inside a text line (not at its start). Hyphens are left alone. */
function esc(s: string): string {
  return escapeNonAscii(s.replaceAll('\\', '\\e'));
}

/** Escape literal text, every hyphen as a minus sign (option names, commands, code). */
function escCode(s: string): string {
  return esc(s).replaceAll('-', '\\-');
}

/** Escape prose: like esc, but option-like words (-n, --dry-run) and a lone - get real minus signs. */
function escProse(s: string): string {
  return esc(s)
    .replace(/(^|[\s(["'`=,/|])(--?[A-Za-z0-9][\w-]*)/g, (_m, pre: string, opt: string) => pre + opt.replaceAll('-', '\\-'))
    .replace(/(^|\s)-(?=\s|$)/g, '$1\\-');
}

/** A whole text line: protect a leading control character and drop surrounding blanks. */
function line(s: string): string {
  const t = s.trim();
  return /^[.']/.test(t) ? `\\&${t}` : t;
}

/** A line of literal text in no-fill mode (.EX): keep its indentation. */
function codeLine(s: string): string {
  const t = escCode(s.trimEnd());
  return /^[.']/.test(t) ? `\\&${t}` : t;
}

/** A macro argument in double quotes. */
function quoted(s: string): string {
  return `"${s.replaceAll('"', '\\(dq')}"`;
}

const bold = (s: string): string => `\\fB${s}\\fR`;
const italic = (s: string): string => `\\fI${s}\\fR`;

// ---------------------------------------------------------------------------------------------
// oclif metadata helpers

const BIN = 'ha';

/** Replace the help templates oclif renders (`<%= config.bin %>`, `<%= command.id %>`). */
function render(s: string, cmd?: Cmd): string {
  return s.replace(/<%=\s*([\w.]+)\s*%>/g, (m, name: string) => {
    if (name === 'config.bin' || name === 'config.name' || name === 'config.dirname') return BIN;
    if (name === 'command.id' && cmd) return spaced(cmd.id);
    process.stderr.write(`gen-man: warning: unknown template ${m}${cmd ? ` in ${cmd.id}` : ''}\n`);
    return m;
  });
}

/** `state:validate` -> `state validate` (the CLI's topic separator is a space). */
function spaced(id: string): string {
  return id.replaceAll(':', ' ');
}

/** oclif's rule: without a summary, the first line of the description is the summary. */
function summaryAndDescription(cmd: Cmd): { summary: string; description: string } {
  const summary = render(cmd.summary ?? '', cmd).trim();
  const description = render(cmd.description ?? '', cmd).trim();
  if (summary) return { summary, description: description === summary ? '' : description };
  const [first = '', ...rest] = description.split('\n');
  return { summary: first.trim(), description: rest.join('\n').trim() };
}

/** Flags people may use: not hidden; the --json flag (helpGroup GLOBAL) last. */
function visibleFlags(cmd: Cmd): CachedFlag[] {
  const flags = Object.values(cmd.flags).filter((f) => !f.hidden);
  const local = flags.filter((f) => f.helpGroup !== 'GLOBAL');
  const global = flags.filter((f) => f.helpGroup === 'GLOBAL');
  return [...local, ...global];
}

function visibleArgs(cmd: Cmd): CachedArg[] {
  return Object.values(cmd.args).filter((a) => !a.hidden);
}

function flagOptions(f: CachedFlag): string[] | undefined {
  return f.type === 'option' && Array.isArray(f.options) && f.options.length > 0 ? f.options.map(String) : undefined;
}

function flagValueName(f: CachedFlag): string | undefined {
  if (f.type !== 'option') return undefined;
  if (f.helpValue) return Array.isArray(f.helpValue) ? f.helpValue.join(' ') : String(f.helpValue);
  const options = flagOptions(f);
  return options ? options.join('|') : 'VALUE';
}

/** `\fB\-n\fR, \fB\-\-dry\-run\fR` or `\fB\-\-state\fR \fIFILE\fR` */
function flagTag(f: CachedFlag): string {
  const names: string[] = [];
  if (f.char) names.push(bold(escCode(`-${f.char}`)));
  const long = f.type === 'boolean' && f.allowNo ? `--[no-]${f.name}` : `--${f.name}`;
  names.push(bold(escCode(long)));
  const value = flagValueName(f);
  return names.join(', ') + (value ? ` ${italic(escCode(value).replaceAll('|', '|\\:'))}` : '');
}

/** `[\fB\-\-state\fR\~\fIFILE\fR]` for the synopsis. */
function flagSynopsis(f: CachedFlag): string {
  const name = f.char ? `${bold(escCode(`-${f.char}`))}|${bold(escCode(`--${f.name}`))}` : bold(escCode(`--${f.name}`));
  const value = flagValueName(f);
  // a long list of values may be broken after each "|" (\: is a break point that prints nothing)
  const inner = value ? `${name}\\~${italic(escCode(value).replaceAll('|', '|\\:'))}` : name;
  const repeat = f.type === 'option' && f.multiple ? '\\~.\\|.\\|.' : '';
  return f.required ? `${inner}${repeat}` : `[${inner}]${repeat}`;
}

function argSynopsis(a: CachedArg): string {
  const name = italic(escCode(a.name)) + (a.multiple ? '\\~.\\|.\\|.' : '');
  return a.required ? name : `[${name}]`;
}

function defaultText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value)) return value.length ? value.map(String).join(', ') : undefined;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// prose: oclif descriptions are plain text; blank lines separate paragraphs

/**
 * Text as roff paragraphs. Blank lines become paragraph breaks; lines starting with "- " or "* "
 * become bullet items (indented lines after them continue the item); other indented lines are a
 * literal block. `first` is the macro before the first paragraph: ".PP", or "" when the text is
 * the body of a .TP/.IP item, or ".IP" to continue such a body.
 */
function prose(text: string, first = '.PP'): string[] {
  const out: string[] = [];
  // in the body of a .TP/.IP item, nested blocks are put inside .RS (no argument: the item's indent)
  const body = first !== '.PP';
  let started = false;
  const open = (): void => {
    if (!started && first) out.push(first);
    else if (started) out.push(body ? '.IP' : '.PP');
    started = true;
  };
  const endList = (): void => {
    if (body) out.push('.RE');
  };
  const startCode = (): void => {
    out.push(...(body ? ['.RS'] : []), '.RS 4', '.EX');
  };
  const endCode = (): void => {
    out.push('.EE', '.RE', ...(body ? ['.RE'] : []));
  };
  for (const block of text.replace(/\r\n?/g, '\n').trim().split(/\n[ \t]*\n/)) {
    let mode: 'none' | 'text' | 'item' | 'code' = 'none';
    let codeIndent = '';
    for (const raw of block.split('\n')) {
      if (raw.trim() === '') continue;
      const bullet = /^\s*[-*]\s+(.*)$/.exec(raw);
      const indent = /^[ \t]+/.exec(raw)?.[0] ?? '';
      if (mode === 'code' && indent.length > 0 && indent.length >= codeIndent.length) {
        out.push(codeLine(raw.slice(codeIndent.length)));
        continue;
      }
      if (mode === 'item' && indent && !bullet) {
        out.push(line(escProse(raw)));
        continue;
      }
      if (bullet) {
        if (mode === 'code') endCode();
        if (mode !== 'item') {
          if (!started && first) out.push(first);
          if (body) out.push('.RS');
        }
        out.push('.IP \\(bu 2', line(escProse(bullet[1] ?? '')));
        started = true;
        mode = 'item';
        continue;
      }
      if (mode === 'item') endList();
      if (mode === 'code') endCode();
      if (indent.length >= 2 || indent.includes('\t')) {
        if (mode === 'none' || !started) open();
        startCode();
        out.push(codeLine(raw.slice(indent.length)));
        codeIndent = indent;
        mode = 'code';
      } else {
        if (mode !== 'text') open();
        out.push(line(escProse(raw)));
        mode = 'text';
      }
    }
    if (mode === 'item') endList();
    if (mode === 'code') endCode();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// page parts

function th(name: string, version: string): string {
  return `.TH ${name.toUpperCase().replaceAll('-', '\\-')} 1 "" ${quoted(`${BIN} ${version}`)} ${quoted(`${BIN} manual`)}`;
}

function nameLine(page: string, summary: string): string[] {
  const s = summary.replace(/\.$/, '');
  return ['.SH NAME', `${escCode(page)} \\- ${escProse(s)}`];
}

function synopsis(cmd: Cmd): string[] {
  if (cmd.usage) {
    const usages = Array.isArray(cmd.usage) ? cmd.usage : [cmd.usage];
    return usages.flatMap((u) => {
      let rest = render(String(u), cmd).trim();
      for (const prefix of [`${BIN} `, `${spaced(cmd.id)} `, `${cmd.id} `]) if (rest.startsWith(prefix)) rest = rest.slice(prefix.length);
      if (rest === spaced(cmd.id) || rest === cmd.id) rest = '';
      return ['.SY ' + quoted(escCode(`${BIN} ${spaced(cmd.id)}`)), ...(rest ? [line(escProse(rest))] : []), '.YS'];
    });
  }
  const parts = [...visibleFlags(cmd).map(flagSynopsis), ...visibleArgs(cmd).map(argSynopsis)];
  return ['.SY ' + quoted(escCode(`${BIN} ${spaced(cmd.id)}`)), ...parts, '.YS'];
}

function argumentsList(cmd: Cmd): string[] {
  const out: string[] = [];
  for (const a of visibleArgs(cmd)) {
    out.push('.TP', italic(escCode(a.name)));
    const body: string[] = [];
    if (a.description) body.push(...prose(render(a.description, cmd), ''));
    const extra: string[] = [];
    if (a.required) extra.push('Required.');
    if (Array.isArray(a.options) && a.options.length) extra.push(`One of: ${a.options.map((o) => bold(escCode(String(o)))).join(', ')}.`);
    const def = defaultText(a.default);
    if (def !== undefined) extra.push(`Default: ${bold(escCode(def))}.`);
    if (extra.length) {
      if (body.length) body.push('.IP');
      body.push(...extra.map(line));
    }
    out.push(...(body.length ? body : ['(no description)']));
  }
  return out;
}

function optionsList(cmd: Cmd): string[] {
  const out: string[] = [];
  for (const f of visibleFlags(cmd)) {
    out.push('.TP', flagTag(f));
    const body: string[] = [];
    const summary = f.summary ? render(f.summary, cmd).trim() : '';
    const description = f.description ? render(f.description, cmd).trim() : '';
    if (summary) body.push(...prose(summary, ''));
    if (description && description !== summary) body.push(...prose(description, summary ? '.IP' : ''));
    const extra: string[] = [];
    const options = flagOptions(f);
    if (options) extra.push(`One of: ${options.map((o) => bold(escCode(o))).join(', ')}.`);
    const def = f.type === 'option' ? defaultText(f.default) : undefined;
    if (def !== undefined) extra.push(`Default: ${bold(escCode(def))}.`);
    if (f.env) extra.push(`Environment: ${bold(escCode(f.env))}.`);
    if (f.type === 'option' && f.multiple) extra.push('May be given more than once.');
    if (f.required) extra.push('Required.');
    if (f.aliases?.length) extra.push(`Also: ${f.aliases.map((a) => bold(escCode(`--${a}`))).join(', ')}.`);
    if (f.dependsOn?.length) extra.push(`Requires ${f.dependsOn.map((d) => bold(escCode(`--${d}`))).join(', ')}.`);
    if (f.exclusive?.length) extra.push(`Cannot be used with ${f.exclusive.map((d) => bold(escCode(`--${d}`))).join(', ')}.`);
    if (f.deprecated) extra.push('Deprecated.');
    if (extra.length) {
      if (body.length) body.push('.IP');
      body.push(extra.join(' '));
    }
    out.push(...(body.length ? body : ['(no description)']));
  }
  return out;
}

function examplesList(cmd: Cmd): string[] {
  const out: string[] = [];
  for (const ex of cmd.examples ?? []) {
    let description = '';
    let commands: string[] = [];
    if (typeof ex === 'string') {
      const lines = render(ex, cmd).split('\n');
      const cmdLines = lines.filter((l) => /^\s*\$\s/.test(l) || l.trim().startsWith(`${BIN} `) || l.trim() === BIN);
      description = lines.filter((l) => !cmdLines.includes(l)).join('\n').trim();
      commands = cmdLines.map((l) => l.trim().replace(/^\$\s+/, ''));
    } else {
      description = render(ex.description ?? '', cmd).trim();
      commands = render(ex.command ?? '', cmd).split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
    }
    if (description) out.push(...prose(description));
    if (commands.length) {
      if (!description) out.push('.PP');
      out.push('.RS 4', '.EX', ...commands.map(codeLine), '.EE', '.RE');
    }
  }
  return out;
}

const EXIT_STATUS = [
  '.TP',
  bold('0'),
  'Success.',
  '.TP',
  bold('1'),
  'The operation failed: for example the kernel refused a change, or an object is missing.',
  '.TP',
  bold('2'),
  'Invalid usage or input (an unknown flag, a missing argument, an invalid state file); nothing was changed.',
  '.TP',
  bold('128 + n'),
  'Interrupted by signal n (130 SIGINT, 143 SIGTERM, 129 SIGHUP); the line printed says whether the changes made were undone or finished.',
];

/** The codes of --json errors: ha's own, then the errno names the kernel answers with. */
function errorCodes(): string[] {
  const out = ['.SH "ERROR CODES"', ...prose('With --json an error is {"error": {"code", "message", "exitCode"}}; the code is one of these, each with one meaning and one exit status, or the name of the errno the kernel answered with (EEXIST, ENOENT, EINVAL…), which is always exit status 1.')];
  for (const [code, meaning] of Object.entries(USAGE_CODES)) out.push('.TP', bold(code), `${esc(meaning)} (exit status 2).`);
  for (const [code, meaning] of Object.entries(FAILURE_CODES)) out.push('.TP', bold(code), `${esc(meaning)} (exit status 1${code === 'EINTR' ? ', or 128 + n' : ''}).`);
  return out;
}

function exitStatus(): string[] {
  return ['.SH "EXIT STATUS"', ...EXIT_STATUS, ...errorCodes()];
}

function ref(page: string, section = '1'): string {
  return `${bold(escCode(page))}(${section})`;
}

// ---------------------------------------------------------------------------------------------
// pages

/** One command's full text under a subsection heading (topic pages). */
function commandSubsection(cmd: Cmd): string[] {
  const { summary, description } = summaryAndDescription(cmd);
  const out = [`.SS ${quoted(escCode(`${BIN} ${spaced(cmd.id)}`))}`];
  if (summary) out.push(...prose(summary));
  if (description) out.push(...prose(description));
  const args = argumentsList(cmd);
  if (args.length) out.push('.PP', bold('Arguments:'), '.RS 4', ...args, '.RE');
  const options = optionsList(cmd);
  if (options.length) out.push('.PP', bold('Options:'), '.RS 4', ...options, '.RE');
  const examples = examplesList(cmd);
  if (examples.length) out.push('.PP', bold('Examples:'), '.RS 4', ...examples, '.RE');
  return out;
}

function topicPage(topic: string, topicDescription: string, cmds: Cmd[], version: string): Page {
  const page = `${BIN}-${topic}`;
  const out = [th(page, version), ...nameLine(page, topicDescription || `${BIN} ${topic} commands`)];
  out.push('.SH SYNOPSIS', ...cmds.flatMap(synopsis));
  out.push('.SH DESCRIPTION');
  if (topicDescription) out.push(...prose(topicDescription));
  out.push('.PP', `The ${bold(escCode(`${BIN} ${spaced(topic)}`))} commands are:`);
  for (const cmd of cmds) out.push('.TP', bold(escCode(`${BIN} ${spaced(cmd.id)}`)), ...prose(summaryAndDescription(cmd).summary, ''));
  out.push('.SH COMMANDS', ...cmds.flatMap(commandSubsection));
  out.push(...exitStatus());
  out.push('.SH "SEE ALSO"', ref(BIN));
  return { file: `${page}.1`, text: `${out.join('\n')}\n` };
}

function commandPage(cmd: Cmd, version: string): Page {
  const page = `${BIN}-${cmd.id.replaceAll(':', '-')}`;
  const { summary, description } = summaryAndDescription(cmd);
  const out = [th(page, version), ...nameLine(page, summary || `${BIN} ${spaced(cmd.id)}`)];
  out.push('.SH SYNOPSIS', ...synopsis(cmd));
  out.push('.SH DESCRIPTION');
  if (summary) out.push(...prose(summary));
  if (description) out.push(...prose(description));
  const args = argumentsList(cmd);
  if (args.length) out.push('.SH ARGUMENTS', ...args);
  const options = optionsList(cmd);
  if (options.length) out.push('.SH OPTIONS', ...options);
  const examples = examplesList(cmd);
  if (examples.length) out.push('.SH EXAMPLES', ...examples);
  out.push(...exitStatus());
  out.push('.SH "SEE ALSO"', ref(BIN));
  return { file: `${page}.1`, text: `${out.join('\n')}\n` };
}

interface Entry {
  /** a topic or a command id */
  name: string;
  summary: string;
  page: string;
}

function mainPage(entries: Entry[], description: string, version: string): Page {
  const out = [th(BIN, version), ...nameLine(BIN, description)];
  out.push(
    '.SH SYNOPSIS',
    `.SY ${BIN}`,
    italic('command'),
    `[${italic('options')}]`,
    `[${italic('arguments')}]`,
    '.YS',
    `.SY ${BIN}`,
    italic('topic'),
    italic('command'),
    `[${italic('options')}]`,
    `[${italic('arguments')}]`,
    '.YS',
    `.SY ${BIN}`,
    `[${bold('\\-\\-help')}|${bold('\\-\\-version')}]`,
    '.YS',
  );
  out.push(
    '.SH DESCRIPTION',
    ...prose(`${description}.`.replace(/\.\.$/, '.')),
    ...prose(
      `The kernel configuration that ha manages is described by one JSON state file. ${BIN} save captures it from the running kernel, ${BIN} diff shows what ${BIN} restore would change, and ${BIN} restore makes the kernel match the file; ${BIN} state validate checks a file without touching the kernel. Plugins add topics of commands and their own sections of the state file.`,
    ),
    ...prose(`Every command prints a short report for people, or its result as JSON with --json. Errors are one line on standard error. Run ${BIN} help COMMAND, or add --help to any command, for its flags and examples.`),
  );
  out.push('.SH COMMANDS');
  for (const e of entries) {
    out.push('.TP', bold(escCode(`${BIN} ${spaced(e.name)}`)), ...prose(e.summary || '(no summary)', ''), `See ${ref(e.page)}.`);
  }
  out.push(
    '.SH "GLOBAL OPTIONS"',
    '.TP',
    bold('\\-\\-json'),
    'Print the result as JSON on standard output instead of the report for people. Errors are printed as JSON too, as an object with an',
    bold('error'),
    'member holding',
    bold('code') + ',',
    bold('message'),
    'and',
    bold('exitCode') + '.',
    'Accepted by every',
    bold(BIN),
    'command that produces a result.',
    '.TP',
    `${bold('\\-h')}, ${bold('\\-\\-help')}`,
    'Show help for',
    bold(BIN),
    'or for the command it follows, and exit.',
    '.TP',
    `${bold('\\-v')}, ${bold('\\-\\-version')}`,
    'Print the version of',
    bold(BIN),
    'and exit.',
  );
  out.push(...exitStatus());
  out.push(
    '.SH FILES',
    '.TP',
    italic('/etc/ha/state.json'),
    'The default state file. It is written atomically with mode 0600, since it can hold VRRP passwords.',
    '.TP',
    italic('/etc/ha/state.json.lock'),
    'Lock file held while the state file is written, so that two',
    bold(BIN),
    'processes cannot interleave. It holds the PID of its owner.',
  );
  out.push(
    '.SH ENVIRONMENT',
    '.TP',
    bold('HA_STATE'),
    'Path of the state file when',
    bold('\\-\\-state'),
    'is not given; the default is',
    italic('/etc/ha/state.json') + '.',
    '.TP',
    bold('NO_COLOR'),
    'When set, disables colour in the output.',
    '.TP',
    bold('DEBUG'),
    `Set to ${bold('ha*')} to print stack traces with errors.`,
    '.TP',
    bold('HA_DATA_DIR'),
    'Directory where plugins installed or linked by the user are recorded; the default is',
    italic('$XDG_DATA_HOME/ha') + ',',
    'or',
    italic('~/.local/share/ha') + '.',
  );
  const pages = [...new Set(entries.map((e) => e.page))].sort();
  out.push('.SH "SEE ALSO"', [...pages.map((p) => ref(p)), ref('ip', '8'), ref('ipvsadm', '8'), ref('keepalived', '8')].join(',\n'));
  return { file: `${BIN}.1`, text: `${out.join('\n')}\n` };
}

async function generate(): Promise<Page[]> {
  const config = await Config.load({ root, userPlugins: false, devPlugins: false });
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; description?: string };
  const version = pjson.version;
  const commands = config.commands
    .filter((c) => !c.hidden)
    .filter((c) => c.pluginType !== 'user' && c.pluginType !== 'link' && c.pluginType !== 'dev')
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const topicsByName = new Map(config.topics.map((t) => [t.name, t]));

  const groups = new Map<string, Cmd[]>();
  for (const c of commands) {
    const top = c.id.split(':')[0] ?? c.id;
    const list = groups.get(top) ?? [];
    list.push(c);
    groups.set(top, list);
  }

  const pages: Page[] = [];
  const entries: Entry[] = [];
  for (const [top, cmds] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const isTopic = cmds.some((c) => c.id !== top);
    if (isTopic) {
      // a topic's own command (if any) first, then its sub-commands by id
      const ordered = [...cmds.filter((c) => c.id === top), ...cmds.filter((c) => c.id !== top)];
      const topic = topicsByName.get(top);
      const own = cmds.find((c) => c.id === top);
      const description = render(topic?.description ?? (own ? summaryAndDescription(own).summary : '')).trim();
      const page = topicPage(top, description, ordered, version);
      pages.push(page);
      entries.push({ name: top, summary: description, page: page.file.replace(/\.1$/, '') });
      for (const c of ordered) {
        if (c.id !== top) entries.push({ name: c.id, summary: summaryAndDescription(c).summary, page: page.file.replace(/\.1$/, '') });
      }
    } else {
      const cmd = cmds[0]!;
      const page = commandPage(cmd, version);
      pages.push(page);
      entries.push({ name: top, summary: summaryAndDescription(cmd).summary, page: page.file.replace(/\.1$/, '') });
    }
  }
  pages.unshift(mainPage(entries, (pjson.description ?? config.pjson.description ?? BIN).trim().replace(/\.$/, ''), version));
  return pages;
}

function existingPages(): string[] {
  if (!existsSync(manDir)) return [];
  return readdirSync(manDir)
    .filter((f) => /^ha(-[^/]+)?\.1$/.test(f))
    .sort();
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const pages = await generate();
  const wanted = new Set(pages.map((p) => p.file));
  const extra = existingPages().filter((f) => !wanted.has(f));

  if (check) {
    const problems: string[] = [];
    for (const p of pages) {
      const path = join(manDir, p.file);
      if (!existsSync(path)) problems.push(`missing: man/${p.file}`);
      else if (readFileSync(path, 'utf8') !== p.text) problems.push(`stale:   man/${p.file}`);
    }
    for (const f of extra) problems.push(`extra:   man/${f}`);
    if (problems.length) {
      process.stderr.write(`The man pages are out of date; run \`npm run man\` (after \`npm run build\`) and commit man/.\n${problems.map((p) => `  ${p}\n`).join('')}`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`man/: ${pages.length} pages up to date.\n`);
    return;
  }

  mkdirSync(manDir, { recursive: true });
  let written = 0;
  for (const p of pages) {
    const path = join(manDir, p.file);
    if (existsSync(path) && readFileSync(path, 'utf8') === p.text) continue;
    writeFileSync(path, p.text);
    written++;
    process.stdout.write(`wrote man/${p.file}\n`);
  }
  for (const f of extra) {
    rmSync(join(manDir, f));
    process.stdout.write(`removed man/${f}\n`);
  }
  process.stdout.write(`man/: ${pages.length} pages (${written} written, ${extra.length} removed).\n`);
}

await main();
