/**
 * ha's bash completion script, made from the commands' metadata (the same that --help and the man
 * pages show): commands and topics, long and short flags (each offered once, until it is used),
 * the values of every flag and argument with a fixed set of them, and live values where they
 * matter: interface names for the flags that take one, bonds for the bond commands, and the IPVS
 * services of the kernel for -t/-u/--sctp-service/-f.
 *
 * @oclif/plugin-autocomplete's bash script offers command and flag names only (and repeats them);
 * zsh and PowerShell keep the plugin's scripts.
 */
import type { Command, Config } from '@oclif/core';

/** Flags whose value is an interface name, by flag name. */
const IFNAME_FLAGS = new Set(['interface', 'dev', 'ports', 'primary', 'to', 'mcast-interface', 'track-interface']);
/** IPVS service flags, and the protocol their values are listed for. */
const SERVICE_FLAGS: Record<string, string> = { 'tcp-service': 'tcp', 'udp-service': 'udp', 'sctp-service': 'sctp', 'fwmark-service': 'fwmark' };

const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

interface Entry {
  flags: string[];
  multi: string[];
  valueFlags: string[];
  values: Array<[string, string]>;
  dynamic: Array<[string, string]>;
  args: string;
  argDynamic?: string;
}

function entryOf(cmd: Command.Loadable): Entry {
  const e: Entry = { flags: [], multi: [], valueFlags: [], values: [], dynamic: [], args: '' };
  for (const f of Object.values(cmd.flags)) {
    if (f.hidden) continue;
    const names = [`--${f.name}`, ...(f.char ? [`-${f.char}`] : []), ...((f.aliases ?? []).map((a) => (a.length === 1 ? `-${a}` : `--${a}`)))];
    e.flags.push(...names);
    if (f.type !== 'option') continue;
    e.valueFlags.push(...names);
    if (f.multiple) e.multi.push(...names);
    for (const n of names) {
      if (f.options?.length) e.values.push([n, f.options.join(' ')]);
      else if (IFNAME_FLAGS.has(f.name)) e.dynamic.push([n, 'ifname']);
      else if (SERVICE_FLAGS[f.name]) e.dynamic.push([n, `service-${SERVICE_FLAGS[f.name]}`]);
    }
  }
  const first = Object.values(cmd.args)[0];
  if (first?.options?.length) e.args = first.options.join(' ');
  else if (cmd.id.startsWith('bond:') && first && /bond/i.test(`${first.name} ${first.description ?? ''}`)) e.argDynamic = 'bond';
  return e;
}

/** The completion script for bash 4 and later. */
export function bashCompletion(config: Config): string {
  const bin = config.bin;
  const fn = `_${bin.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const commands = config.commands.filter((c) => !c.hidden);
  const children = new Map<string, Set<string>>();
  const add = (parent: string, child: string): void => {
    if (!children.has(parent)) children.set(parent, new Set());
    children.get(parent)!.add(child);
  };
  const paths = new Set<string>();
  for (const c of commands) {
    const words = c.id.split(':');
    for (let i = 0; i < words.length; i++) {
      add(words.slice(0, i).join(' '), words[i]!);
      paths.add(words.slice(0, i + 1).join(' '));
    }
  }
  const lines: string[] = [
    `# bash completion for ${bin}, made by "${bin} autocomplete bash" from ${bin} ${config.version}'s commands`,
    `declare -gA ${fn}_sub ${fn}_flags ${fn}_vflags ${fn}_multi ${fn}_values ${fn}_dyn ${fn}_args ${fn}_argdyn ${fn}_path`,
  ];
  for (const p of [...paths].sort()) lines.push(`${fn}_path[${q(p)}]=1`);
  // bash keys cannot be empty: "." stands for ha itself
  for (const [parent, kids] of [...children].sort(([a], [b]) => a.localeCompare(b))) lines.push(`${fn}_sub[${q(parent || '.')}]=${q([...kids].sort().join(' '))}`);
  lines.push(`${fn}_flags[.]=${q('--help --version')}`);
  for (const c of [...commands].sort((a, b) => a.id.localeCompare(b.id))) {
    const id = c.id.replaceAll(':', ' ');
    const e = entryOf(c);
    lines.push(`${fn}_flags[${q(id)}]=${q([...new Set([...e.flags, '--help'])].join(' '))}`);
    if (e.valueFlags.length) lines.push(`${fn}_vflags[${q(id)}]=${q(` ${e.valueFlags.join(' ')} `)}`);
    if (e.multi.length) lines.push(`${fn}_multi[${q(id)}]=${q(` ${e.multi.join(' ')} `)}`);
    for (const [flag, values] of e.values) lines.push(`${fn}_values[${q(`${id} ${flag}`)}]=${q(values)}`);
    for (const [flag, kind] of e.dynamic) lines.push(`${fn}_dyn[${q(`${id} ${flag}`)}]=${kind}`);
    if (e.args) lines.push(`${fn}_args[${q(id)}]=${q(e.args)}`);
    if (e.argDynamic) lines.push(`${fn}_argdyn[${q(id)}]=${e.argDynamic}`);
  }
  lines.push(`
# live values: interfaces and bonds from /sys, IPVS services from the kernel
${fn}_live() {
  case "$1" in
    ifname) ls /sys/class/net 2>/dev/null ;;
    bond) cat /sys/class/net/bonding_masters 2>/dev/null ;;
    service-*) ${bin} ipvs complete "\${1#service-}" 2>/dev/null ;;
  esac
}

${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" w i positional=0 used=" "
  [ "$COMP_CWORD" -gt 0 ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # the command so far: the words that name one, skipping flags and their values
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      -*)
        used+="\${w%%=*} "
        if [[ "$w" != *=* && "\${${fn}_vflags[\${cmd:-.}]}" == *" $w "* ]]; then ((i++)); fi ;;
      *)
        if [ -n "\${${fn}_path["\${cmd:+$cmd }$w"]}" ]; then cmd="\${cmd:+$cmd }$w"; else ((positional++)); fi ;;
    esac
  done
  local words="" k="\${cmd:-.}"
  if [[ "$prev" == -* && "\${${fn}_vflags[$k]}" == *" $prev "* ]]; then
    # the value of a flag
    if [ -n "\${${fn}_values["$cmd $prev"]}" ]; then words="\${${fn}_values["$cmd $prev"]}"
    elif [ -n "\${${fn}_dyn["$cmd $prev"]}" ]; then words="$(${fn}_live "\${${fn}_dyn["$cmd $prev"]}")"
    fi
  elif [[ "$cur" == -* ]]; then
    # the flags not given yet (those that take several values stay on offer)
    local f
    for f in \${${fn}_flags[$k]}; do
      if [[ "$used" != *" $f "* || "\${${fn}_multi[$k]}" == *" $f "* ]]; then words+="$f "; fi
    done
  else
    words="\${${fn}_sub[$k]}"
    if [ "$positional" -eq 0 ]; then
      words+=" \${${fn}_args[$k]}"
      if [ -n "\${${fn}_argdyn[$k]}" ]; then words+=" $(${fn}_live "\${${fn}_argdyn[$k]}")"; fi
    fi
  fi
  local IFS=$' \\t\\n'
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F ${fn} ${bin}
`);
  return `${lines.join('\n')}\n`;
}
