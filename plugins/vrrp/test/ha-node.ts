/**
 * ha's agent on a node of the test LAN (lan.ts): a state file with a vrrp section, `ha agent
 * run` inside the node's namespace with its own socket, and the live commands as calls of the
 * built CLI in the same namespace. The agent's log is kept by the LAN (Proc).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, baseEnv, ha } from '@ha/lib/testing';
import type { VrrpSection } from '../src/model.js';
import type { InstanceStatus } from '../src/speaker.js';
import type { VrrpState } from '../src/types.js';
import { LanNode, Proc, waitFor } from './lan.js';

export interface HaAgent {
  node: LanNode;
  proc: Proc;
  stateFile: string;
  socket: string;
  /** Rewrite the state file's vrrp section (then reload() or SIGHUP). */
  write(section: VrrpSection): void;
  /** `ha <args> --socket S` in the node's namespace; parsed --json output (throws on a non-zero exit). */
  cli<T = unknown>(args: string[]): T;
  status(name?: string): InstanceStatus[];
  state(name: string): VrrpState | undefined;
  waitState(name: string, state: VrrpState, timeoutMs: number): Promise<void>;
  reload(): unknown;
  /** SIGTERM and wait (masters send priority 0). */
  stop(): Promise<void>;
  /** SIGKILL: no priority 0, VIPs stay behind (a crash). */
  kill(): Promise<void>;
}

let seq = 0;

/** Start `ha agent run` on `node` with this vrrp section (scripts run as root unless it says otherwise). */
export async function startHa(node: LanNode, section: VrrpSection, options: { env?: NodeJS.ProcessEnv; logFormat?: 'text' | 'json'; args?: string[] } = {}): Promise<HaAgent> {
  const id = `${node.name}-${++seq}`;
  const stateFile = join(node.lan.dir, `ha-${id}.json`);
  const socket = join(node.lan.dir, `ha-${id}.sock`);
  const write = (s: VrrpSection): void => writeFileSync(stateFile, `${JSON.stringify({ version: 1, vrrp: { scriptUser: 'root', ...s } }, null, 2)}\n`, { mode: 0o600 });
  write(section);
  const env = baseEnv({ HA_AGENT_SOCKET: socket, HA_RUN_DIR: join(node.lan.dir, `run-${id}`), ...options.env });
  const proc = node.spawn([process.execPath, BIN, 'agent', 'run', '--state', stateFile, '--socket', socket, ...(options.logFormat ? ['--log-format', options.logFormat] : []), ...(options.args ?? [])], { label: `ha-${id}`, env });
  await proc.waitForLine(/agent running/, 15_000);
  const cli = <T>(args: string[]): T => {
    // through the harness: the --json output is held to its schema (schema/results/)
    const r = ha([...args, '--socket', socket, '--json'], { wrap: node.ns.wrap });
    if (r.code !== 0) throw new Error(`ha ${args.join(' ')} on ${node.name} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return JSON.parse(r.stdout) as T;
  };
  const status = (name?: string): InstanceStatus[] => cli<{ instances: InstanceStatus[] }>(['vrrp', 'status', ...(name ? [name] : [])]).instances;
  const agent: HaAgent = {
    node, proc, stateFile, socket, write, cli, status,
    state: (name) => status(name)[0]?.state,
    waitState: async (name, state, timeoutMs) => {
      await waitFor(() => status(name)[0]?.state === state, timeoutMs, `${node.name} ${name} ${state}`);
    },
    reload: () => cli(['agent', 'reload']),
    stop: () => proc.stop('SIGTERM', 10_000),
    kill: () => proc.kill(),
  };
  return agent;
}
