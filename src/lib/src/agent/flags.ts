/**
 * The flags of the `ha agent` commands, declared once so that `ha agent unit` writes exactly what
 * `ha agent run` reads.
 */
import * as Flags from '@oclif/core/flags';
import type { LogFormat, LogLevel } from '../log.js';
import { ListenAddress, parseListenAddress } from './metrics.js';

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** `--socket PATH` of every agent command. */
export const socketFlags = {
  socket: Flags.string({
    summary: 'Control socket of the agent.',
    description: 'Defaults to $HA_AGENT_SOCKET, then $HA_RUN_DIR/agent.sock (/run/ha/agent.sock).',
    helpValue: 'PATH',
    env: 'HA_AGENT_SOCKET',
  }),
};

/** How `ha agent run` logs and what it serves besides the socket. */
export const runFlags = {
  'log-format': Flags.string({
    summary: 'Log lines as text (for people and journald) or as JSON lines.',
    description: 'Default text.',
    options: [...LOG_FORMATS],
  }),
  'log-level': Flags.string({
    summary: 'Least level logged.',
    description: 'Default info (debug when DEBUG=ha*).',
    options: [...LOG_LEVELS],
  }),
  metrics: Flags.custom<ListenAddress>({
    summary: 'Serve Prometheus metrics on http://ADDR:PORT/metrics.',
    description: 'ADDR is an IP address (IPv6 in brackets) or localhost; off by default.',
    helpValue: 'ADDR:PORT',
    parse: async (input) => parseListenAddress(input),
  })(),
};

/** "127.0.0.1:9105" or "[::1]:9105": a listen address as the flag takes it. */
export function listenText(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
