/**
 * ipvsadm's own command line, `ha ipvs -A -t 192.0.2.10:80 -s wrr` or `ha ipvs -Ln`, turned into
 * the ha ipvs command that does the same, so that a script ported by changing the command name
 * runs instead of printing help and "succeeding". The command letter picks the command (-A
 * add-service, -L list in ipvsadm's format, ...); the other options pass through, since the ha
 * commands take ipvsadm's option letters. Bundled short options (-Ln, -lnc) are split as popt does.
 */
import { UsageError } from '@ha/lib';

/** Command options: short letter or long name -> the ha ipvs command. */
const COMMANDS: Record<string, string> = {
  A: 'add-service', 'add-service': 'add-service',
  E: 'edit-service', 'edit-service': 'edit-service',
  D: 'delete-service', 'delete-service': 'delete-service',
  C: 'clear', clear: 'clear',
  R: 'restore', restore: 'restore',
  S: 'save', save: 'save',
  a: 'add-server', 'add-server': 'add-server',
  e: 'edit-server', 'edit-server': 'edit-server',
  d: 'delete-server', 'delete-server': 'delete-server',
  L: 'list', l: 'list', list: 'list',
  Z: 'zero', zero: 'zero',
  set: 'timeout',
  'start-daemon': 'sync start',
  'stop-daemon': 'sync stop',
  h: 'help', help: 'help',
  v: 'info', version: 'info',
};

/** Short options that take a value (the rest of a bundle, or the next word). */
const WITH_VALUE = new Set(['t', 'u', 'f', 's', 'M', 'r', 'w', 'x', 'y', 'b']);
/** Short options without a value. */
const FLAGS = new Set(['n', 'g', 'i', 'm', 'o', '6', 'c', 'X', 'p']);

/** Split bundled short options: -Ln -> -L -n; -t192.0.2.1:80 -> -t 192.0.2.1:80; -p600 -> -p 600. */
export function splitBundles(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (/^-[A-Za-z]$/.test(a) && !WITH_VALUE.has(a[1]!) && !FLAGS.has(a[1]!) && !(a[1]! in COMMANDS)) {
      throw new UsageError(`${a} is not an ipvsadm option; see ha ipvs --help`);
    }
    if (!/^-[A-Za-z6]/.test(a) || a.length <= 2) {
      out.push(a);
      continue;
    }
    for (let i = 1; i < a.length; i++) {
      const c = a[i]!;
      if (WITH_VALUE.has(c) || (c === 'p' && /^\d+$/.test(a.slice(i + 1)))) {
        out.push(`-${c}`);
        if (i + 1 < a.length) out.push(a.slice(i + 1));
        break;
      }
      if (!FLAGS.has(c) && !(c in COMMANDS)) throw new UsageError(`ipvsadm option -${c} (in ${a}) is not known; see ha ipvs --help`);
      out.push(`-${c}`);
    }
  }
  return out;
}

const commandOf = (token: string): string | undefined => {
  if (/^-[A-Za-z]$/.test(token)) return COMMANDS[token[1]!];
  if (token.startsWith('--')) return COMMANDS[token.slice(2)] !== undefined && !/^[A-Za-z]$/.test(token.slice(2)) ? COMMANDS[token.slice(2)] : undefined;
  return undefined;
};

/**
 * The ha ipvs command (its words after "ipvs") and arguments that do what this ipvsadm command
 * line does. Throws a UsageError (exit 2) for a line without a command, or with two.
 */
export function translateIpvsadm(argv: readonly string[]): string[] {
  const words = splitBundles(argv);
  const found: Array<{ at: number; command: string; token: string }> = [];
  words.forEach((w, at) => {
    const command = commandOf(w);
    if (command) found.push({ at, command, token: w });
  });
  if (found.length === 0) {
    throw new UsageError(`${argv.join(' ')}: no ipvsadm command (-A, -E, -D, -C, -R, -S, -a, -e, -d, -L, -Z, --set, --start-daemon, --stop-daemon); or use the ha ipvs commands (ha ipvs --help)`);
  }
  if (found.length > 1) throw new UsageError(`${found[0]!.token} and ${found[1]!.token} cannot be given together (one ipvsadm command at a time)`);
  const { at, command, token } = found[0]!;
  let rest = [...words.slice(0, at), ...words.slice(at + 1)];
  // what follows --set (three timeouts) and --start-daemon/--stop-daemon (the state) are arguments
  const take = (n: number): string[] => {
    const args = words.slice(at + 1, at + 1 + n);
    if (args.length < n || args.some((x) => x.startsWith('-'))) throw new UsageError(`${token} needs ${n === 3 ? 'three timeouts: TCP TCPFIN UDP' : 'the daemon state: master or backup'}`);
    rest = [...words.slice(0, at), ...words.slice(at + 1 + n)];
    return args;
  };
  const drop = (names: string[]): void => {
    rest = rest.filter((w) => !names.includes(w));
  };
  switch (command) {
    case 'list': {
      // ipvsadm -L in ipvsadm's own format; -c, --daemon and --timeout list other things
      drop(['--sort', '--nosort']);
      if (rest.includes('-c') || rest.includes('--connection')) {
        drop(['-c', '--connection', '-n', '--numeric']);
        return ['connections', ...rest];
      }
      if (rest.includes('--daemon')) {
        drop(['--daemon', '-n', '--numeric']);
        return ['sync', 'show', '--format', 'ipvsadm', ...rest];
      }
      if (rest.includes('--timeout')) {
        drop(['--timeout', '-n', '--numeric']);
        return ['timeout', '--format', 'ipvsadm', ...rest];
      }
      return ['list', '--format', 'ipvsadm', ...rest];
    }
    case 'save':
      return ['save', ...rest];
    case 'timeout':
      return ['timeout', ...take(3), ...rest];
    case 'sync start':
      return ['sync', 'start', ...take(1), ...rest];
    case 'sync stop':
      return ['sync', 'stop', ...take(1), ...rest];
    default:
      // the other commands never resolve names either: -n changes nothing
      drop(['-n', '--numeric']);
      return [command, ...rest];
  }
}
