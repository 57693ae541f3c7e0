/**
 * The systemd unit that runs the agent (`ha agent unit`).
 *
 * Type=notify: the agent says READY=1 once its services run and its socket answers (notify.ts).
 * Reload runs `ha agent reload`, not `kill -HUP`: it waits for the reload to finish and fails
 * when the file is refused, so `systemctl reload` reports a state file that does not validate
 * (with the reason in the journal) instead of succeeding while the agent goes on with the old
 * file. SIGHUP still reloads for those who send it. Restart=on-failure restarts a crashed agent;
 * RestartPreventExitStatus=2 keeps an agent whose state file or flags are invalid from being
 * restarted in a loop (it exits 2 and says why once).
 */
export const UNIT_PATH = '/etc/systemd/system/ha-agent.service';

export interface UnitOptions {
  /** Absolute path of the ha executable. */
  bin: string;
  /** Absolute path of node, used only when the ha executable's `env node` would not find it under systemd. */
  node?: string;
  /** Flags of `ha agent run` ("--state", "/etc/ha/state.json", …) in order. */
  runFlags: string[];
  /** Flags that reach the agent's socket for `ha agent reload` ("--socket", PATH). */
  socketFlags: string[];
}

/** The folders systemd puts on PATH for services. */
const SYSTEMD_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** One word of an Exec line: quoted when needed; % and $ escaped, as systemd reads them. */
export function execWord(word: string): string {
  const escaped = word.replaceAll('%', '%%').replaceAll('$', '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./[\]-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

export function execLine(words: string[]): string {
  return words.map(execWord).join(' ');
}

/** The program words that start ha: the bin alone, or node and the bin when node is not on systemd's PATH. */
export function haCommand(options: Pick<UnitOptions, 'bin' | 'node'>): string[] {
  if (!options.node) return [options.bin];
  const dir = options.node.slice(0, options.node.lastIndexOf('/')) || '/';
  return SYSTEMD_PATH.includes(dir) ? [options.bin] : [options.node, options.bin];
}

export function systemdUnit(options: UnitOptions): string {
  const ha = haCommand(options);
  return [
    '[Unit]',
    'Description=ha agent: VRRP and health checks from the ha state file',
    'Documentation=man:ha-agent(1)',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=notify',
    `ExecStart=${execLine([...ha, 'agent', 'run', ...options.runFlags])}`,
    `ExecReload=${execLine([...ha, 'agent', 'reload', ...options.socketFlags])}`,
    'Restart=on-failure',
    'RestartSec=2',
    'RestartPreventExitStatus=2',
    'TimeoutStopSec=30',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
