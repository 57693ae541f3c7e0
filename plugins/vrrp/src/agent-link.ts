/**
 * The vrrp commands' way to the agent. After the state file changed, a running agent that runs
 * that same file reloads (no agent running is not an error: the file is what it reads when it
 * starts). The live commands (status, stats, watch, demote, promote) are clients of its socket.
 */
import { realpathSync } from 'node:fs';
import * as Flags from '@oclif/core/flags';
import { AgentClient, resolveSocketPath } from '@ha/lib/agent';
import { HaError } from '@ha/lib';

export const socketFlag = {
  socket: Flags.string({ summary: 'Control socket of the agent.', description: 'Defaults to $HA_AGENT_SOCKET, then /run/ha/agent.sock.', helpValue: 'PATH', env: 'HA_AGENT_SOCKET' }),
};

const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

/** Tell a running agent to reload when it runs `file`; one line saying what happened, or undefined. */
export async function reloadAgent(file: string, socket?: string): Promise<string | undefined> {
  let client: AgentClient;
  try {
    client = await AgentClient.connect(resolveSocketPath(socket), { timeoutMs: 2000 });
  } catch (error) {
    if (error instanceof HaError && error.code === 'ENOAGENT') return undefined;
    return `The agent was not told: ${(error as Error).message}.`;
  }
  try {
    const status = await client.call<{ stateFile?: string }>('agent.status');
    if (status.stateFile && real(status.stateFile) !== real(file)) return `The running agent runs ${status.stateFile}, not this file: not reloaded.`;
    const r = await client.call<{ accepted: boolean; message: string }>('agent.reload', {}, { timeoutMs: 30_000 });
    return r.accepted ? `The agent reloaded: ${r.message}` : `The agent refused the file: ${r.message}`;
  } catch (error) {
    return `The agent did not reload: ${(error as Error).message}.`;
  } finally {
    client.close();
  }
}

/** Call a method of the running agent (the live commands). */
export async function callAgent<T>(socket: string | undefined, method: string, params: Record<string, unknown> = {}): Promise<T> {
  const client = await AgentClient.connect(resolveSocketPath(socket), { timeoutMs: 5000 });
  try {
    return await client.call<T>(method, params);
  } finally {
    client.close();
  }
}
